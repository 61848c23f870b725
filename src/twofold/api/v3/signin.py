"""End-user sign-in and profile (docs/wire.md#signin, docs/signin.md).

Client credentials come from three places, all read here: the ``x-genauth-app-id`` / ``x-authing-app-id``
header, ``client_id``/``client_secret`` in the body, and ``Authorization: Basic``.  Any other
``authorization`` (the Python SDK keeps sending its last token, often a stale one) is ignored.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qsl

from fastapi import APIRouter, Request
from starlette.responses import Response

from twofold.api import envelope
from twofold.api.context import current_lang, current_request_id
from twofold.api.deps import ServicesDep
from twofold.api.proxy import client_address
from twofold.api.query import parse_query
from twofold.api.routing import LeanRoute
from twofold.api.v3 import PREFIX
from twofold.api.v3.dto import login_entry_dto, user_dto
from twofold.api.v3.mfa import trigger_data_dto
from twofold.domain.signin import ClientCredentials, TokenSet, bearer_token, parse_basic
from twofold.errors import MfaRequired
from twofold.schemas.signin import MfaTotpVerifyRequest, MyLoginHistoryQuery, ProfileQuery, SignInRequest
from twofold.services.login_history import LoginQuery
from twofold.services.signin import MfaChallenge, RequestFacts

router = APIRouter(prefix=PREFIX, tags=["sign-in"], route_class=LeanRoute)


def client_credentials(request: Request, client_id: str | None, client_secret: str | None) -> ClientCredentials:
    headers = request.headers
    basic = parse_basic(headers.get("authorization"))
    return ClientCredentials(
        header_app_id=headers.get("x-genauth-app-id") or headers.get("x-authing-app-id") or None,
        client_id=client_id or None,
        client_secret=client_secret,
        basic_id=basic[0] if basic else None,
        basic_secret=basic[1] if basic else None,
    )


def request_facts(request: Request) -> RequestFacts:
    return RequestFacts(current_request_id(), client_address(request), request.headers.get("user-agent", "")[:512])


def token_set_dto(tokens: TokenSet) -> dict[str, Any]:
    """docs/wire.md#rule-23: ``expire_in``; snake case members (#rule-24)."""
    return {
        "access_token": tokens.access_token,
        "id_token": tokens.id_token,
        "refresh_token": tokens.refresh_token,
        "token_type": tokens.token_type,
        "expire_in": tokens.expire_in,
        "scope": tokens.scope,
    }


def mfa_required(challenge: MfaChallenge) -> Response:
    """docs/wire.md#mfa-required: statusCode 302, apiCode and code 1636, the trigger data and mfaToken."""
    user = challenge.state.user
    data = {
        **trigger_data_dto(challenge.state),
        "mfaToken": challenge.mfa_token,
        "email": user.email,
        "avatar": user.profile.get("photo"),
    }
    return envelope.render(
        MfaRequired.status_code, MfaRequired().message(current_lang()), data, MfaRequired.api_code, MfaRequired.api_code
    )


@router.post("/signin")
async def signin(request: Request, body: SignInRequest, services: ServicesDep) -> Response:
    outcome = await services.signin.sign_in(
        client_credentials(request, body.client_id, body.client_secret),
        body.connection,
        body.to_command(),
        request_facts(request),
    )
    if isinstance(outcome, MfaChallenge):
        return mfa_required(outcome)
    return envelope.ok(token_set_dto(outcome))


@router.get("/get-profile")
async def get_profile(request: Request, services: ServicesDep) -> Response:
    """The signed-in user, from their access token (bare or ``Bearer``)."""
    claims = await services.tokens.verify_access_token(bearer_token(request.headers.get("authorization")))
    q = parse_query(ProfileQuery, parse_qsl(request.scope["query_string"].decode("latin-1"), keep_blank_values=True))
    view = await services.users.get_user(claims.pool_id, claims.user_id, "user_id", bool(q.with_identities))
    return envelope.ok(user_dto(view, with_custom_data=bool(q.with_custom_data)))


@router.get("/get-my-login-history")
async def get_my_login_history(request: Request, services: ServicesDep) -> Response:
    """docs/signin.md#login-history: the signed-in user's own sign-in outcomes, newest first."""
    claims = await services.tokens.verify_access_token(bearer_token(request.headers.get("authorization")))
    q = parse_query(
        MyLoginHistoryQuery, parse_qsl(request.scope["query_string"].decode("latin-1"), keep_blank_values=True)
    )
    query = LoginQuery(q.app_id, q.client_ip, q.success, q.start, q.end, q.page, q.limit)
    entries, total = await services.login_history.list_mine(claims.pool_id, claims.user_id, query)
    return envelope.page([login_entry_dto(e) for e in entries], total)


@router.post("/mfa-totp-verify")
async def mfa_totp_verify(request: Request, body: MfaTotpVerifyRequest, services: ServicesDep) -> Response:
    """docs/wire.md#mfa-totp-verify: ``data.verified``; with an mfaToken and a right code, ``data.tokenSet``."""
    result = await services.mfa_step.verify_totp(
        bearer_token(request.headers.get("authorization")), body.totp, request_facts(request)
    )
    data: dict[str, Any] = {"verified": result.verified}
    if result.tokens is not None:
        data["tokenSet"] = token_set_dto(result.tokens)
    return envelope.ok(data)
