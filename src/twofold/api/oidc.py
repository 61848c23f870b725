"""The standard endpoints a relying party uses (docs/signin.md#tokens): discovery, JWKS, refresh,
introspection (RFC 7662) and revocation (RFC 7009).

These answer as the RFCs say, not in the GenAuth envelope: JSON with the HTTP status, errors as
``{error, error_description}`` (``errors.OAuthError``, rendered by ``api/errors.py``).  Requests are
form-encoded (the SDKs send ``data=``), JSON is accepted too; client authentication is the sign-in's.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qsl

import orjson
from fastapi import APIRouter, Request
from pydantic import ValidationError
from starlette.responses import Response

from twofold.api.deps import ServicesDep
from twofold.api.routing import LeanRoute
from twofold.api.v3.signin import client_credentials
from twofold.errors import OAuthError, OAuthInvalidClient, OAuthUnsupportedGrantType
from twofold.schemas.signin import TokenForm
from twofold.services.app_secrets import AppClient
from twofold.services.container import Services

router = APIRouter(prefix="/oidc", tags=["oidc"], route_class=LeanRoute)


def _json(data: Any, status: int = 200) -> Response:
    return Response(
        orjson.dumps(data), status_code=status, media_type="application/json", headers={"Cache-Control": "no-store"}
    )


async def _form(request: Request) -> TokenForm:
    raw = await request.body()
    try:
        if request.headers.get("content-type", "").startswith("application/json"):
            data = orjson.loads(raw) if raw else {}
        else:
            data = dict(parse_qsl(raw.decode("utf-8"), keep_blank_values=False))
        return TokenForm.model_validate(data)
    except (ValidationError, orjson.JSONDecodeError, UnicodeDecodeError) as exc:
        raise OAuthError(f"malformed request: {str(exc)[:200]}") from None


async def _client(request: Request, form: TokenForm, services: Services) -> AppClient:
    check = await services.app_secrets.authenticate(client_credentials(request, form.client_id, form.client_secret))
    if check.client is None:
        raise OAuthInvalidClient(check.reason)
    return check.client


@router.get("/.well-known/jwks.json")
async def jwks(services: ServicesDep) -> Response:
    return _json(services.tokens.jwks())


@router.get("/.well-known/openid-configuration")
async def openid_configuration(services: ServicesDep) -> Response:
    """What Twofold serves, and nothing it does not (no authorization endpoint: sign-in is an API call)."""
    issuer = services.tokens.issuer
    methods = ["client_secret_post", "client_secret_basic", "none"]
    return _json(
        {
            "issuer": issuer,
            "jwks_uri": f"{issuer}/.well-known/jwks.json",
            "token_endpoint": f"{issuer}/token",
            "introspection_endpoint": f"{issuer}/token/introspection",
            "revocation_endpoint": f"{issuer}/token/revocation",
            "grant_types_supported": ["refresh_token"],
            "response_types_supported": ["id_token"],
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "token_endpoint_auth_methods_supported": methods,
            "introspection_endpoint_auth_methods_supported": methods,
            "revocation_endpoint_auth_methods_supported": methods,
            "scopes_supported": ["openid", "profile", "email", "phone", "offline_access"],
            "claims_supported": [
                "sub", "iss", "aud", "exp", "iat", "sid", "amr", "name", "nickname", "preferred_username",
                "picture", "updated_at", "email", "email_verified", "phone_number", "phone_number_verified",
            ],
        }
    )  # fmt: skip


@router.post("/token")
async def token(request: Request, services: ServicesDep) -> Response:
    form = await _form(request)
    client = await _client(request, form, services)
    if form.grant_type != "refresh_token":
        raise OAuthUnsupportedGrantType(f"grant_type {str(form.grant_type)[:32]!r}")
    if not form.refresh_token:
        raise OAuthError("no refresh_token")
    tokens = await services.tokens.refresh(client.app_id, form.refresh_token)
    return _json(
        {
            "access_token": tokens.access_token,
            "id_token": tokens.id_token,
            "refresh_token": tokens.refresh_token,
            "token_type": tokens.token_type,
            "expires_in": tokens.expire_in,
            "scope": tokens.scope,
        }
    )


@router.post("/token/introspection")
async def introspection(request: Request, services: ServicesDep) -> Response:
    form = await _form(request)
    client = await _client(request, form, services)
    if not form.token:
        return _json({"active": False})
    return _json(await services.tokens.introspect(client.app_id, form.token))


@router.post("/token/revocation")
async def revocation(request: Request, services: ServicesDep) -> Response:
    """RFC 7009 §2.2: 200 whether or not the token was valid."""
    form = await _form(request)
    client = await _client(request, form, services)
    if form.token:
        await services.tokens.revoke(client.app_id, form.token)
    return Response(b"", status_code=200)
