"""The end-user endpoints of one-time codes and of the user's own factors and history: request and how
to read the answer, like ``_authentication_operations`` (whose client authentication and decoders
they reuse). No I/O here.

* sending codes: ``send-sms`` / ``send-email`` (docs/delivery.md#who-may-send-to-whom);
* signing in with a code: ``connection: PASSCODE`` through the generic ``sign_in`` builder;
* the SMS/email MFA step: the v2 ``applications/mfa/sms|email/verify`` (2001 on a wrong code);
* the enrolled factors: ``get-factor``, ``reset-factor``, ``list-factors-to-enroll``;
* ``get-my-login-history`` and ``/mfa/token/introspection`` (a bare object, no envelope).
"""

from __future__ import annotations

from typing import Any

import httpx

from twofold_client._authentication_models import (
    Channel,
    EnrolledFactor,
    MfaSignIn,
    MfaTokenIntrospection,
    SignInResult,
    TokenSet,
)
from twofold_client._authentication_operations import (
    AuthOperation,
    ClientAuth,
    _bearer,
    _oauth,
    _parsed,
    _v2_signed_in,
    envelope_data,
    sign_in,
)
from twofold_client._models import Factor, LoginHistoryEntry, Page, User


def _channel(channel: Channel | str) -> str:
    if not channel:
        raise ValueError("channel is required (e.g. Channel.CHANNEL_LOGIN)")
    return str(channel)


def _optional_bearer(token: str | None) -> dict[str, str]:
    return _bearer(token) if token is not None else {}


# ------------------------------------------------------------------------------------ sending
def send_sms(
    phone_number: str, channel: Channel | str, phone_country_code: str | None, token: str | None
) -> AuthOperation[None]:
    """``POST /api/v3/send-sms``: the app id header names the application (``CHANNEL_LOGIN``); on the
    MFA channels ``token`` (the mfaToken or the user's access token) names the user."""
    if not phone_number:
        raise ValueError("phone_number is required")
    body: dict[str, Any] = {"channel": _channel(channel), "phoneNumber": phone_number}
    if phone_country_code is not None:
        body["phoneCountryCode"] = phone_country_code
    decode = envelope_data(lambda data: None, "send-sms")
    return AuthOperation("POST", "/api/v3/send-sms", decode, json_body=body, headers=_optional_bearer(token))


def send_email(email: str, channel: Channel | str, token: str | None) -> AuthOperation[None]:
    """``POST /api/v3/send-email``, with the same rules as ``send_sms``."""
    if not email:
        raise ValueError("email is required")
    body = {"channel": _channel(channel), "email": email}
    decode = envelope_data(lambda data: None, "send-email")
    return AuthOperation(
        "POST", "/api/v3/send-email", decode, json_body=body, headers=_optional_bearer(token)
    )


# -------------------------------------------------------------------------------------- sign-in
def sign_in_by_passcode(
    client: ClientAuth,
    pass_code: str,
    email: str | None,
    phone: str | None,
    phone_country_code: str | None,
    scope: str | None,
) -> AuthOperation[SignInResult]:
    """``connection: PASSCODE`` with ``passCodePayload: {passCode, email}`` or ``{passCode, phone,
    phoneCountryCode?}`` (a ``CHANNEL_LOGIN`` code)."""
    if bool(email) == bool(phone):
        raise ValueError("give exactly one of email, phone")
    if phone_country_code is not None and not phone:
        raise ValueError("phone_country_code goes with phone")
    if not pass_code:
        raise ValueError("pass_code is required")
    payload = {"passCode": pass_code, "email": email, "phone": phone, "phoneCountryCode": phone_country_code}
    return sign_in(client, "PASSCODE", "passCodePayload", payload, scope)


# ------------------------------------------------------------------------------------- MFA step
def _mfa_sign_in(data: dict[str, Any]) -> MfaSignIn:
    """The v2 answer: the user's members with ``token``/``tokenExpiredAt``, again as ``user``, and
    ``tokenSet`` (docs/signin.md#v2-mfa-step)."""
    user = data["user"] if isinstance(data.get("user"), dict) else data
    dropped = ("token", "tokenExpiredAt", "tokenSet", "user", "recoveryCode")
    members = {k: v for k, v in user.items() if k not in dropped}
    return MfaSignIn(tokens=TokenSet.model_validate(data["tokenSet"]), user=User.model_validate(members))


def _verify_code(path: str, mfa_token: str, body: dict[str, str]) -> AuthOperation[MfaSignIn]:
    def decode(response: httpx.Response) -> MfaSignIn:
        return _parsed(path, _mfa_sign_in, _v2_signed_in(response))

    return AuthOperation("POST", path, decode, json_body=body, headers=_bearer(mfa_token))


def verify_sms_code(
    mfa_token: str, phone: str, code: str, phone_country_code: str | None
) -> AuthOperation[MfaSignIn]:
    """``POST /api/v2/applications/mfa/sms/verify {phone, code, phoneCountryCode?}``: a
    ``CHANNEL_VERIFY_MFA`` code sent to the bound phone; every refusal is 2001 (``WrongCodeError``)."""
    if not phone or not code:
        raise ValueError("phone and code are required")
    body = {"phone": phone, "code": code}
    if phone_country_code is not None:
        body["phoneCountryCode"] = phone_country_code
    return _verify_code("/api/v2/applications/mfa/sms/verify", mfa_token, body)


def verify_email_code(mfa_token: str, email: str, code: str) -> AuthOperation[MfaSignIn]:
    """``POST /api/v2/applications/mfa/email/verify {email, code}``, as ``verify_sms_code``."""
    if not email or not code:
        raise ValueError("email and code are required")
    return _verify_code("/api/v2/applications/mfa/email/verify", mfa_token, {"email": email, "code": code})


# -------------------------------------------------------------------------------------- factors
def get_factor(access_token: str, factor_id: str) -> AuthOperation[EnrolledFactor]:
    if not factor_id:
        raise ValueError("factor_id is required")
    decode = envelope_data(EnrolledFactor.model_validate, "get-factor")
    return AuthOperation(
        "GET",
        "/api/v3/get-factor",
        decode,
        params=(("factorId", factor_id),),
        headers=_bearer(access_token),
        idempotent=True,
    )


def reset_factor(access_token: str, factor_id: str) -> AuthOperation[None]:
    if not factor_id:
        raise ValueError("factor_id is required")
    decode = envelope_data(lambda data: None, "reset-factor")
    return AuthOperation(
        "POST", "/api/v3/reset-factor", decode, json_body={"factorId": factor_id}, headers=_bearer(access_token)
    )


def _factor_types(data: Any) -> list[Factor]:
    if not isinstance(data, list):
        raise ValueError("expected a list of factors")
    return [Factor(item["factorType"]) for item in data]


def list_factors_to_enroll(access_token: str) -> AuthOperation[list[Factor]]:
    decode = envelope_data(_factor_types, "list-factors-to-enroll")
    return AuthOperation(
        "GET", "/api/v3/list-factors-to-enroll", decode, headers=_bearer(access_token), idempotent=True
    )


# ------------------------------------------------------------------------- history, mfaToken
def get_login_history(
    access_token: str,
    app_id: str | None,
    client_ip: str | None,
    success: bool | None,
    start: int | None,
    end: int | None,
    page: int | None,
    limit: int | None,
) -> AuthOperation[Page[LoginHistoryEntry]]:
    values: tuple[tuple[str, str | int | bool | None], ...] = (
        ("appId", app_id),
        ("clientIp", client_ip),
        ("success", success),
        ("start", start),
        ("end", end),
        ("page", page),
        ("limit", limit),
    )
    params = tuple(
        (name, ("true" if value else "false") if isinstance(value, bool) else str(value))
        for name, value in values
        if value is not None
    )
    decode = envelope_data(Page[LoginHistoryEntry].model_validate, "get-my-login-history")
    return AuthOperation(
        "GET",
        "/api/v3/get-my-login-history",
        decode,
        params=params,
        headers=_bearer(access_token),
        idempotent=True,
    )


def verify_mfa_token(mfa_token: str) -> AuthOperation[MfaTokenIntrospection]:
    """``POST /mfa/token/introspection {token}``: a bare ``{active, userPoolId, userId, exp, iat}``,
    ``{active: false}`` for anything but a live unspent mfaToken; it spends nothing, so it may be
    retried."""
    if not mfa_token:
        raise ValueError("mfa_token is required")
    decode = _oauth(MfaTokenIntrospection.model_validate, "/mfa/token/introspection")
    return AuthOperation(
        "POST", "/mfa/token/introspection", decode, json_body={"token": mfa_token}, idempotent=True
    )
