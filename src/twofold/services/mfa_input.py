"""Validation of MFA trigger data (the rules of docs/mfa-status.md), shared by set-mfa-status and
user creation with an initial MFA status."""

from __future__ import annotations

from collections.abc import Sequence

from twofold.domain.commands import TriggerDataInput
from twofold.domain.contacts import normalize_country_code, normalize_email, normalize_phone
from twofold.domain.mfa import ALL_FACTORS, Factor, MfaStatus, PolicyEntry
from twofold.domain.users import User
from twofold.errors import InvalidMfaPolicy, InvalidParameter

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


def parse_trigger_data(
    data: TriggerDataInput, user: User, require_token: bool, prefix: str = ""
) -> MfaStatus:
    """Validate trigger data against the rules of docs/mfa-status.md and build the new status."""
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
            raise InvalidMfaPolicy(where + ".mfaPolicy", f"{factor} is listed twice")
        policies.append(PolicyEntry(factor, item.status == 1, item.sort))
    switches = {}
    for factor, given, name in (
        (Factor.OTP, data.totp_mfa_enabled, "totpMfaEnabled"),
        (Factor.FACE, data.face_mfa_enabled, "faceMfaEnabled"),
    ):
        entry = next((p for p in policies if p.factor is factor), None)
        if given is not None and entry is not None and given != entry.enabled:
            raise InvalidParameter(t + name, f"contradicts the {factor} entry of applicationMfa")
        switches[factor] = given if given is not None else (entry.enabled if entry else False)
    phone = blank_to_none(data.mfa_phone)
    phone_cc = None
    if phone is not None:
        phone, phone_cc = normalize_phone(phone, blank_to_none(data.mfa_phone_country_code), t + "mfaPhone")
    email = blank_to_none(data.mfa_email)
    if email is not None:
        email = normalize_email(email, t + "mfaEmail")
    _check_profile_echo(data, user, t)
    return MfaStatus(tuple(policies), switches[Factor.OTP], switches[Factor.FACE], phone, phone_cc, email)


def _check_profile_echo(data: TriggerDataInput, user: User, t: str) -> None:
    """The profile fields are the user's; set-mfa-status may repeat them, never change them."""
    if blank_to_none(data.phone) is not None:
        number, code = normalize_phone(
            data.phone or "",
            blank_to_none(data.phone_country_code) or user.phone_country_code,
            t + "phone",
        )
        if (number, code) != (user.phone, user.phone_country_code):
            raise InvalidParameter(t + "phone", "differs from the user's phone; change it with update-user")
    elif blank_to_none(data.phone_country_code) is not None:
        code = normalize_country_code(data.phone_country_code, t + "phoneCountryCode")
        if code != user.phone_country_code:
            raise InvalidParameter(
                t + "phoneCountryCode",
                "differs from the user's phone country code; change it with update-user",
            )
    for name, given, actual in (
        ("username", data.username, user.username),
        ("nickname", data.nickname, user.nickname),
    ):
        if blank_to_none(given) is not None and given != actual:
            raise InvalidParameter(t + name, f"differs from the user's {name}; change it with update-user")
