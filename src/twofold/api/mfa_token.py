"""``POST /mfa/token/introspection`` (docs/wire.md#rule-21, docs/signin.md#mfa-token-introspection).

GenAuth types the answer as a bare ``MfaTokenIntrospectResponse`` ``{active, userPoolId, userId, exp,
iat}``, no envelope.  Both SDKs' ``verifyMfaToken`` ignore their argument and send an empty body, with
the mfaToken (once ``setAccessToken`` was called with it) in ``authorization``.  So the token is looked
for in a form or JSON body, then the query, then ``authorization`` (bare or ``Bearer``); without one,
or with one that is not a live, unspent mfaToken, the answer is ``{active: false}``.  A body that does
not parse is the same as no body: this endpoint has no error answer.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qsl

import orjson
from fastapi import APIRouter, Request
from starlette.responses import Response

from twofold.api.deps import ServicesDep
from twofold.api.routing import LeanRoute
from twofold.domain.signin import bearer_token

router = APIRouter(prefix="/mfa", tags=["sign-in"], route_class=LeanRoute)
_MAX_TOKEN = 4096  # an mfaToken is some 400 characters; anything far longer is not one


def _from_body(raw: bytes, content_type: str) -> str | None:
    if not raw:
        return None
    try:
        if content_type.startswith("application/json"):
            data: Any = orjson.loads(raw)
            value = data.get("token") if isinstance(data, dict) else None
        else:
            value = dict(parse_qsl(raw.decode("utf-8"))).get("token")
    except (orjson.JSONDecodeError, UnicodeDecodeError, ValueError):
        return None
    return value if isinstance(value, str) and value else None


async def presented_token(request: Request) -> str | None:
    """The token of the request: body (form or JSON), then query, then ``authorization``."""
    token = _from_body(await request.body(), request.headers.get("content-type", ""))
    token = token or request.query_params.get("token") or bearer_token(request.headers.get("authorization"))
    return token if token and len(token) <= _MAX_TOKEN else None


@router.post("/token/introspection")
async def mfa_token_introspection(request: Request, services: ServicesDep) -> Response:
    ticket = await services.mfa_tickets.introspect(await presented_token(request))
    if ticket is None:
        answer: dict[str, Any] = {"active": False}
    else:
        answer = {
            "active": True,
            "userPoolId": ticket.pool_id,
            "userId": ticket.user_id,
            "exp": ticket.expires_at,
            "iat": ticket.issued_at,
        }
    return Response(orjson.dumps(answer), media_type="application/json", headers={"Cache-Control": "no-store"})
