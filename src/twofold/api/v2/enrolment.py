"""The v2 enrolment calls of ``authing-js-sdk`` ``MfaAuthenticationClient`` and GenAuth's login UI
(docs/wire.md#v2-mfa, docs/signin.md#v2-enrolment).

* ``GET /api/v2/mfa/authenticator?type=totp&source=…``: the bound TOTP authenticator, if any;
* ``POST /api/v2/mfa/totp/associate {authenticator_type, source}``: a pending OTP enrolment;
* ``POST /api/v2/mfa/totp/associate/confirm {authenticator_type, totp, source}``: binds it; during a
  sign-in (an mfaToken) it answers like the v2 TOTP verify success (``api/v2/envelope.signed_in``);
* ``POST /api/v2/applications/mfa/check {phone | email}``: ``data.result``, whether it can be bound.

A plain success is ``{code: 200, statusCode: 200, message, data}`` (``authing-js-sdk`` returns ``data``
when ``code`` is 200); errors are rendered with ``code`` by ``api/v2/envelope.py``.  A wrong confirming
code is ``WrongTotpCode`` (6001), as a wrong v2 TOTP; a token that is neither a user access token nor
a live mfaToken is ``MfaTokenInvalid`` (2021), the code these clients know for "sign in again".
"""

from __future__ import annotations

from collections.abc import Awaitable
from typing import Annotated, Any, TypeVar

from fastapi import APIRouter, Depends, Request
from starlette.responses import Response

from twofold.api import envelope
from twofold.api.context import current_lang
from twofold.api.deps import ServicesDep
from twofold.api.query import query
from twofold.api.routing import LeanRoute
from twofold.api.v2 import PREFIX
from twofold.api.v2.envelope import signed_in
from twofold.api.v2.mfa import signed_in_data
from twofold.api.v3.dto import iso
from twofold.api.v3.signin import request_facts
from twofold.domain.signin import bearer_token
from twofold.errors import EnrolmentCodeWrong, InvalidUserToken, MfaTokenInvalid, WrongTotpCode
from twofold.schemas.enrolment import AssociateRequest, AuthenticatorQuery, BindableRequest

router = APIRouter(prefix=PREFIX, tags=["enrolment (v2)"], route_class=LeanRoute)
_SUCCESS = {"en-US": "success", "zh-CN": "成功"}


def ok(data: Any) -> Response:
    return envelope.render(200, _SUCCESS.get(current_lang(), _SUCCESS["en-US"]), data, None, 200)


def _token(request: Request) -> str | None:
    return bearer_token(request.headers.get("authorization"))


T = TypeVar("T")


async def _v2(call: Awaitable[T]) -> T:
    """The v2 codes of the refusals: 2021 for a token, 6001 for a wrong confirming code."""
    try:
        return await call
    except InvalidUserToken:
        raise MfaTokenInvalid("neither a user access token nor a live mfaToken") from None
    except EnrolmentCodeWrong:
        raise WrongTotpCode("wrong code confirming an enrolment") from None


@router.get("/mfa/authenticator")
async def authenticators(
    request: Request, q: Annotated[AuthenticatorQuery, Depends(query(AuthenticatorQuery))], services: ServicesDep
) -> Response:
    """``getMfaAuthenticators``: the secret and recovery code are never served."""
    if (q.type or "totp").lower() != "totp":
        return ok([])
    found = await _v2(services.enrolment_v2.authenticators(_token(request)))
    return ok(
        [
            {
                "id": a.id,
                "createdAt": iso(a.created_at),
                "updatedAt": iso(a.created_at),
                "userId": a.user_id,
                "enable": a.enabled,
                "authenticatorType": "totp",
            }
            for a in found
        ]
    )


@router.post("/mfa/totp/associate")
async def associate(request: Request, body: AssociateRequest, services: ServicesDep) -> Response:
    """``assosicateMfaAuthenticator``: the otpauth URI, its QR code, the secret and the recovery code."""
    started = await _v2(services.enrolment_v2.associate(_token(request)))
    return ok(
        {
            "authenticator_type": "totp",
            "secret": started.secret,
            "qrcode_uri": started.qr_code_uri,
            "qrcode_data_url": started.qr_code_data_url,
            "recovery_code": started.recovery_code,
        }
    )


@router.post("/mfa/totp/associate/confirm")
async def confirm_associate(request: Request, body: AssociateRequest, services: ServicesDep) -> Response:
    """``confirmAssosicateMfaAuthenticator``; with an mfaToken the sign-in finishes here."""
    result = await _v2(services.enrolment_v2.confirm(_token(request), body.totp, request_facts(request)))
    if result.tokens is None:
        return ok(None)
    return signed_in(signed_in_data(result))


@router.post("/applications/mfa/check")
async def bindable(request: Request, body: BindableRequest, services: ServicesDep) -> Response:
    """``phoneOrEmailBindable``: ``{result}`` (what GenAuth's mobile and .NET clients read)."""
    return ok({"result": await _v2(services.enrolment_v2.bindable(_token(request), body.phone, body.email))})
