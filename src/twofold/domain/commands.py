"""Input commands: what a caller asks a service to do, as plain typed values (no wire models).

Routers turn wire models (``twofold.schemas``) into these; services take nothing else.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class PolicyInput:
    """One ``applicationMfa`` entry as the caller sent it (validated by the service)."""

    mfa_policy: str
    status: int
    sort: int


@dataclass(frozen=True)
class TriggerDataInput:
    """``mfaTriggerData`` as the caller sent it: the new MFA status plus profile fields it may echo."""

    application_mfa: tuple[PolicyInput, ...] = ()
    mfa_token: str | None = None
    mfa_phone: str | None = None
    mfa_phone_country_code: str | None = None
    mfa_email: str | None = None
    nickname: str | None = None
    username: str | None = None
    phone: str | None = None
    phone_country_code: str | None = None
    face_mfa_enabled: bool | None = None
    totp_mfa_enabled: bool | None = None


@dataclass(frozen=True)
class OtpImportInput:
    """One ``import-otp`` item: the internal user id and the authenticator to bind."""

    user_id: str
    secret: str
    recovery_code: str | None = None


@dataclass(frozen=True)
class CreateApplicationInput:
    """``create-application`` as the caller sent it (validated by the service)."""

    app_name: str
    app_identifier: str | None = None
    app_logo: str | None = None
    app_description: str | None = None
    app_type: str | None = None
    default_protocol: str | None = None
    redirect_uris: tuple[str, ...] = ()
    logout_redirect_uris: tuple[str, ...] = ()
    init_login_uri: str | None = None
    template: str | None = None
