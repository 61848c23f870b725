"""POST /api/v3/get-management-token (docs/wire.md#token-scheme): access key in, management JWT out."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from starlette.responses import Response

from twofold.api import envelope
from twofold.api.deps import ServicesDep
from twofold.api.routing import LeanRoute
from twofold.api.v3 import PREFIX
from twofold.errors import AuthenticationFailed

router = APIRouter(prefix=PREFIX, tags=["auth"], route_class=LeanRoute)


@router.post("/get-management-token")
async def get_management_token(request: Request, services: ServicesDep) -> Response:
    try:
        body: Any = await request.json()
    except ValueError:
        raise AuthenticationFailed("token request body is not JSON") from None
    if not isinstance(body, dict):
        raise AuthenticationFailed("token request body is not an object")
    token = await services.keys.issue_token(body.get("accessKeyId"), body.get("accessKeySecret"))
    return envelope.ok(
        {"access_token": token.access_token, "expires_in": token.expires_in, "token_type": "Bearer"}
    )
