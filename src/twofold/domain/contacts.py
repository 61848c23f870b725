"""Email addresses and phone numbers: validated and normalised with well-kept libraries."""

from __future__ import annotations

import re

import phonenumbers
from email_validator import SPECIAL_USE_DOMAIN_NAMES, EmailNotValidError, validate_email

from twofold.errors import InvalidParameter

DEFAULT_COUNTRY_CODE = "+86"  # GenAuth: "may be omitted for mainland China"
_LOOKUP_PHONE = re.compile(r"^\+?[0-9][0-9 ()\-.]{3,30}$")
_COUNTRY_CODE = re.compile(r"^\+?[0-9]{1,4}$")


# A strict subset of what ``email-validator`` accepts: plain ASCII dot-atom local part, LDH domain
# labels without "--", an alphabetic TLD.  Such addresses skip the library's Unicode machinery (about
# 100 us each, the largest cost of a bulk import); everything else goes through the library.
_PLAIN_EMAIL = re.compile(
    r"^[a-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[a-z0-9!#$%&'*+/=?^_`{|}~-]+)*"
    r"@(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$"
)


def _is_plain_email(address: str) -> bool:
    local, _, domain = address.partition("@")
    if len(address) > 254 or len(local) > 64 or "--" in domain or not _PLAIN_EMAIL.match(address):
        return False
    return not any(domain == name or domain.endswith("." + name) for name in SPECIAL_USE_DOMAIN_NAMES)


def normalize_email(value: str, field: str = "email") -> str:
    """Syntax-check an address and return it lower-cased (lookups are case-insensitive)."""
    lowered = value.strip().lower()
    if _is_plain_email(lowered):
        return lowered
    try:
        result = validate_email(value.strip(), check_deliverability=False)
    except EmailNotValidError as exc:
        raise InvalidParameter(field, str(exc)) from None
    return result.normalized.lower()


def normalize_country_code(value: str | None, field: str = "phoneCountryCode") -> str:
    if value is None or value == "":
        return DEFAULT_COUNTRY_CODE
    text = value.strip()
    if not _COUNTRY_CODE.match(text):
        raise InvalidParameter(field)
    digits = text.lstrip("+")
    if phonenumbers.region_code_for_country_code(int(digits)) == phonenumbers.UNKNOWN_REGION:
        raise InvalidParameter(field, "unknown country calling code")
    return f"+{digits}"


def normalize_phone(number: str, country_code: str | None, field: str = "phone") -> tuple[str, str]:
    """Validate a phone number; return ``(national number digits, "+CC")``.

    A number written with a leading ``+`` carries its own country code, which then wins.
    """
    code = normalize_country_code(country_code, field + "CountryCode")
    text = number.strip()
    try:
        parsed = phonenumbers.parse(text if text.startswith("+") else f"{code}{text}", None)
    except phonenumbers.NumberParseException:
        raise InvalidParameter(field) from None
    if not phonenumbers.is_valid_number(parsed):
        raise InvalidParameter(field, "not a valid phone number")
    return str(parsed.national_number), f"+{parsed.country_code}"


def normalize_lookup_phone(value: str, field: str = "userId") -> tuple[str, str | None]:
    """Normalise a phone number used to *find* a user.

    Lookups are lenient on purpose: a well-formed number that no valid user can have is "not found",
    not "malformed" (GenAuth's own tests expect that).  ``+CC...`` pins the country code.
    """
    text = value.strip()
    if not _LOOKUP_PHONE.match(text):
        raise InvalidParameter(field)
    if text.startswith("+"):
        try:
            parsed = phonenumbers.parse(text, None)
        except phonenumbers.NumberParseException:
            raise InvalidParameter(field) from None
        return str(parsed.national_number), f"+{parsed.country_code}"
    digits = re.sub(r"[^0-9]", "", text)
    return digits.lstrip("0") or digits, None
