"""The v2 MFA step with the mfaToken (docs/wire.md#v2-mfa, docs/signin.md#v2-mfa-step).

``POST /api/v2/mfa/totp/verify {totp}`` (Guard: ``/api/v2/applications/mfa/totp/verify``) and
``POST /api/v2/mfa/totp/recovery {recoveryCode}``, ``POST /api/v2/applications/mfa/sms/verify {phone,
code, phoneCountryCode?}`` and ``POST /api/v2/applications/mfa/email/verify {email, code}``, the
mfaToken in ``authorization`` (bare or ``Bearer``).  A wrong code is ``WrongTotpCode`` /
``WrongRecoveryCode`` / ``WrongPasscode``; errors are rendered with
``code`` by ``api/v2/envelope.py`` (``api/errors.py`` routes every ``/api/v2`` error there).
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from starlette.responses import Response

from twofold.api.deps import ServicesDep
from twofold.api.routing import LeanRoute
from twofold.api.v2 import PREFIX
from twofold.api.v2.envelope import signed_in
from twofold.api.v3.dto import iso, user_dto
from twofold.api.v3.signin import request_facts, token_set_dto
from twofold.domain.mfa import Factor
from twofold.domain.passcodes import Email, Phone
from twofold.domain.signin import bearer_token
from twofold.errors import InvalidParameter, WrongPasscode, WrongRecoveryCode, WrongTotpCode
from twofold.schemas.codes import EmailMfaVerifyRequest, SmsMfaVerifyRequest
from twofold.schemas.common import ShortText, WireModel
from twofold.schemas.signin import MfaTotpVerifyRequest
from twofold.services.mfa_step import StepResult

router = APIRouter(prefix=PREFIX, tags=["sign-in (v2)"], route_class=LeanRoute)


class RecoveryCodeRequest(WireModel):
    """``/api/v2/mfa/totp/recovery``: one of the user's recovery codes."""

    recovery_code: ShortText


def signed_in_data(result: StepResult) -> dict[str, Any]:
    """The user (UserDto members) with ``token`` and ``tokenExpiredAt``, again as ``user`` for Guard;
    ``tokenSet`` carries the id and refresh tokens too (the v3 member of the same name)."""
    assert result.tokens is not None and result.user is not None and result.expires_at is not None
    user = {
        **user_dto(result.user),
        "token": result.tokens.access_token,
        "tokenExpiredAt": iso(result.expires_at * 1000),
    }
    return {**user, "user": dict(user), "tokenSet": token_set_dto(result.tokens)}


async def _verify_totp(request: Request, body: MfaTotpVerifyRequest, services: ServicesDep) -> Response:
    result = await services.mfa_step.complete_with_totp(
        bearer_token(request.headers.get("authorization")), body.totp, request_facts(request)
    )
    if not result.verified:
        raise WrongTotpCode("wrong, replayed, not challenged or locked")
    return signed_in(signed_in_data(result))


@router.post("/mfa/totp/verify")
async def verify_totp(request: Request, body: MfaTotpVerifyRequest, services: ServicesDep) -> Response:
    """``authing-js-sdk`` ``verifyTotpMfa``."""
    return await _verify_totp(request, body, services)


@router.post("/applications/mfa/totp/verify")
async def verify_application_totp(request: Request, body: MfaTotpVerifyRequest, services: ServicesDep) -> Response:
    """Guard's path for the same call."""
    return await _verify_totp(request, body, services)


@router.post("/mfa/totp/recovery")
async def verify_recovery_code(request: Request, body: RecoveryCodeRequest, services: ServicesDep) -> Response:
    """``authing-js-sdk`` ``verifyTotpRecoveryCode``: the new recovery code at the top level (as GenAuth
    answers) and in ``data`` (the js SDK hands back only ``data``)."""
    result = await services.mfa_step.verify_recovery_code(
        bearer_token(request.headers.get("authorization")), body.recovery_code, request_facts(request)
    )
    if not result.verified:
        raise WrongRecoveryCode("wrong, used or locked")
    data = {**signed_in_data(result), "recoveryCode": result.recovery_code}
    return signed_in(data, {"recoveryCode": result.recovery_code})


@router.post("/applications/mfa/sms/verify")
async def verify_sms(request: Request, body: SmsMfaVerifyRequest, services: ServicesDep) -> Response:
    """``authing-js-sdk`` ``verifyAppSmsMfa``: a code sent on ``CHANNEL_VERIFY_MFA`` to the bound phone."""
    if not body.code:
        raise InvalidParameter("code")
    phone = Phone.parse(body.phone or "", body.phone_country_code or None, "phone")
    result = await services.mfa_step.complete_with_passcode(
        bearer_token(request.headers.get("authorization")), Factor.SMS, phone, body.code, request_facts(request)
    )
    if not result.verified:
        raise WrongPasscode("wrong, expired, spent, not the bound phone, not challenged or locked")
    return signed_in(signed_in_data(result))


@router.post("/applications/mfa/email/verify")
async def verify_email(request: Request, body: EmailMfaVerifyRequest, services: ServicesDep) -> Response:
    """``authing-js-sdk`` ``verifyAppEmailMfa``: a code sent on ``CHANNEL_VERIFY_MFA`` to the bound address."""
    if not body.code:
        raise InvalidParameter("code")
    address = Email.parse(body.email or "", "email")
    result = await services.mfa_step.complete_with_passcode(
        bearer_token(request.headers.get("authorization")), Factor.EMAIL, address, body.code, request_facts(request)
    )
    if not result.verified:
        raise WrongPasscode("wrong, expired, spent, not the bound address, not challenged or locked")
    return signed_in(signed_in_data(result))
