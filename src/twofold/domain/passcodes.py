"""One-time codes sent by email or SMS: what they are for, where they go, what they look like.

Pure rules; the service (``services/passcodes.py``) stores, limits and delivers them.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from enum import StrEnum

from twofold.domain.contacts import normalize_email, normalize_phone

CODE_DIGITS = 6


class Channel(StrEnum):
    """What a code is for: GenAuth's ``channel`` of send-sms / send-email.  A code sent on one channel
    is never accepted on another."""

    CHANNEL_LOGIN = "CHANNEL_LOGIN"
    CHANNEL_VERIFY_MFA = "CHANNEL_VERIFY_MFA"
    CHANNEL_BIND_MFA = "CHANNEL_BIND_MFA"
    CHANNEL_UNBIND_MFA = "CHANNEL_UNBIND_MFA"


@dataclass(frozen=True)
class Email:
    """A normalised email address (lower-cased, syntax-checked)."""

    address: str

    @classmethod
    def parse(cls, value: str, field: str = "email") -> Email:
        return cls(normalize_email(value, field))

    @property
    def key(self) -> str:
        """The target as the limits and the stored codes know it."""
        return f"email:{self.address}"


@dataclass(frozen=True)
class Phone:
    """A valid phone number: national digits and ``+CC`` (``domain/contacts.py``)."""

    number: str
    country_code: str

    @classmethod
    def parse(cls, number: str, country_code: str | None = None, field: str = "phoneNumber") -> Phone:
        national, code = normalize_phone(number, country_code, field)
        return cls(national, code)

    @property
    def e164(self) -> str:
        return f"{self.country_code}{self.number}"

    @property
    def key(self) -> str:
        return f"phone:{self.e164}"


Target = Email | Phone


def new_code() -> str:
    """Six digits from the system CSPRNG, leading zeros kept (``"004217"``)."""
    return f"{secrets.randbelow(10**CODE_DIGITS):0{CODE_DIGITS}d}"


def is_well_formed(code: str) -> bool:
    """What a submitted code must look like before it is compared (no spaces, no signs, ASCII only)."""
    return len(code) == CODE_DIGITS and code.isascii() and code.isdigit()


def message_text(code: str, ttl_seconds: int, lang: str = "en-US") -> str:
    """The text of the email or SMS, in the caller's language (``zh-CN`` or English)."""
    minutes = max(1, ttl_seconds // 60)
    if lang == "zh-CN":
        return f"您的验证码是 {code}，{minutes} 分钟内有效。请勿告诉他人。"
    return f"Your verification code is {code}. It expires in {minutes} minutes. Do not share it with anyone."


def email_subject(lang: str = "en-US") -> str:
    return "您的验证码" if lang == "zh-CN" else "Your verification code"
