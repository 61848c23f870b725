"""Validation of MFA trigger data (the rules of docs/mfa-status.md), shared by set-mfa-status and
user creation with an initial MFA status.

Shape errors (a wrong type, a value out of range) are ``InvalidParameter``; a well-formed value that
contradicts something else gets its own error, whose message says so instead of "format error"."""

from __future__ import annotations

from collections.abc import Sequence

from twofold.domain.commands import TriggerDataInput
from twofold.domain.contacts import normalize_country_code, normalize_email, normalize_phone
from twofold.domain.mfa import ALL_FACTORS, Factor, MfaStatus, PolicyEntry, default_flag
from twofold.domain.users import User
from twofold.errors import ConflictingMfaSetting, InvalidMfaPolicy, InvalidParameter, ProfileFieldMismatch

MAX_SORT = 1_000_000


def blank_to_none(value: str | None) -> str | None:
    return None if value is None or not value.strip() else value.strip()


def parse_factors(values: Sequence[str] | None, field: str) -> list[Factor]:
    factors: list[Factor] = []
    for index, value in enumerate(values or []):
        try:
            factor = Factor(value)
        except ValueError:
            raise InvalidMfaPolicy(f"{field}[{index}]", f"expected one of {', '.join(ALL_FACTORS)}") from None
        if factor not in factors:
            factors.append(factor)
    return factors


def needs_user(data: TriggerDataInput) -> bool:
    """Whether ``parse_trigger_data`` must see the stored user: a profile field to check against it,
    or no ``totpMfaEnabled`` (its default says whether a TOTP secret is bound)."""
    return data.totp_mfa_enabled is None or _echoes_profile(data)


def _echoes_profile(data: TriggerDataInput) -> bool:
    for value in (data.phone, data.phone_country_code, data.username, data.nickname):
        if value is not None and value.strip():
            return True
    return False


def parse_trigger_data(
    data: TriggerDataInput,
    user: User | None,
    require_token: bool,
    prefix: str = "",
    has_totp_secret: bool = False,
) -> MfaStatus:
    """Validate trigger data against the rules of docs/mfa-status.md and build the new status.

    Every combination of policy entries and enrolment flags is accepted and stored as given; a flag
    left out says what is true (``has_totp_secret`` for OTP; FACE is never bound).  ``user`` may be
    None only where ``needs_user`` is false."""
    if user is None and needs_user(data):
        raise ValueError("this trigger data is checked against the stored user")
    t = prefix + "mfaTriggerData."
    if require_token and (data.mfa_token is None or not data.mfa_token.strip()):
        raise InvalidParameter(t + "mfaToken")
    policies: list[PolicyEntry] = []
    for index, item in enumerate(data.application_mfa):
        where = f"{t}applicationMfa[{index}]"
        try:
            factor = Factor(item.mfa_policy)
        except ValueError:
            raise InvalidMfaPolicy(
                where + ".mfaPolicy", f"expected one of {', '.join(ALL_FACTORS)}"
            ) from None
        if item.status not in (0, 1):
            raise InvalidParameter(where + ".status", "expected 0 (off) or 1 (on)")
        if not 0 <= item.sort <= MAX_SORT:
            raise InvalidParameter(where + ".sort", f"expected an integer from 0 to {MAX_SORT}")
        if any(p.factor is factor for p in policies):
            raise ConflictingMfaSetting(where + ".mfaPolicy", f"{factor} is listed twice")
        policies.append(PolicyEntry(factor, item.status == 1, item.sort))
    totp = data.totp_mfa_enabled
    face = data.face_mfa_enabled
    phone = blank_to_none(data.mfa_phone)
    phone_cc = None
    if phone is not None:
        phone, phone_cc = normalize_phone(phone, blank_to_none(data.mfa_phone_country_code), t + "mfaPhone")
    email = blank_to_none(data.mfa_email)
    if email is not None:
        email = normalize_email(email, t + "mfaEmail")
    if user is not None:
        _check_profile_echo(data, user, t)
    return MfaStatus(
        tuple(policies),
        default_flag(Factor.OTP, has_totp_secret) if totp is None else totp,
        default_flag(Factor.FACE, False) if face is None else face,
        phone,
        phone_cc,
        email,
    )


def _check_profile_echo(data: TriggerDataInput, user: User, t: str) -> None:
    """The profile fields are the user's; set-mfa-status may repeat them, never change them."""
    if blank_to_none(data.phone) is not None:
        number, code = normalize_phone(
            data.phone or "",
            blank_to_none(data.phone_country_code) or user.phone_country_code,
            t + "phone",
        )
        if (number, code) != (user.phone, user.phone_country_code):
            raise ProfileFieldMismatch(t + "phone")
    elif blank_to_none(data.phone_country_code) is not None:
        code = normalize_country_code(data.phone_country_code, t + "phoneCountryCode")
        if code != user.phone_country_code:
            raise ProfileFieldMismatch(t + "phoneCountryCode")
    for name, given, actual in (
        ("username", data.username, user.username),
        ("nickname", data.nickname, user.nickname),
    ):
        if blank_to_none(given) is not None and given != actual:
            raise ProfileFieldMismatch(t + name)
