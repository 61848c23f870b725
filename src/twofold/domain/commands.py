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
