"""One-time codes sent by email or SMS: what they are for, where they go, what they look like.

Pure rules; the service (``services/passcodes.py``) stores, limits and delivers them.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from enum import StrEnum

from twofold.domain.contacts import normalize_email, normalize_phone
from twofold.domain.mfa import MfaStatus
from twofold.domain.users import User
from twofold.errors import InvalidParameter, UnsupportedChannel

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

MFA_CHANNELS = frozenset({Channel.CHANNEL_VERIFY_MFA, Channel.CHANNEL_BIND_MFA, Channel.CHANNEL_UNBIND_MFA})
"""The channels whose codes go only to the caller's own addresses (docs/delivery.md#who-may-send-to-whom)."""

# v2 ``scene`` -> channel: ``/api/v2/email/send`` (Guard: ``MFA_VERIFY_CODE``; authing-js-sdk ``EmailScene``)
# and ``/api/v2/sms/send`` (authing-js-sdk ``sendSmsCode``'s ``SceneType``).
EMAIL_SCENES = {
    "MFA_VERIFY_CODE": Channel.CHANNEL_VERIFY_MFA,
    "MFA_VERIFY": Channel.CHANNEL_VERIFY_MFA,
    "LOGIN_VERIFY_CODE": Channel.CHANNEL_LOGIN,
}
SMS_SCENES = {
    "mfa-verify": Channel.CHANNEL_VERIFY_MFA,
    "mfa-bind": Channel.CHANNEL_BIND_MFA,
    "mfa-unbind": Channel.CHANNEL_UNBIND_MFA,
    "login": Channel.CHANNEL_LOGIN,
}


def parse_channel(value: str | None, field: str = "channel", names: dict[str, Channel] | None = None) -> Channel:
    """A channel Twofold sends codes for; ``names`` maps v2 scenes.  Missing: ``InvalidParameter``;
    another purpose (``CHANNEL_REGISTER``, ``RESET_PASSWORD``, ...): ``UnsupportedChannel``."""
    if not value:
        raise InvalidParameter(field)
    if names is not None:
        if value in names:
            return names[value]
    elif value in Channel.__members__:
        return Channel(value)
    raise UnsupportedChannel(field)


def _phone(number: str | None, country_code: str | None) -> Phone | None:
    if not number:
        return None
    try:
        return Phone.parse(number, country_code)
    except InvalidParameter:  # a stored number that no longer parses is nobody's target
        return None


def _email(address: str | None) -> Email | None:
    if not address:
        return None
    try:
        return Email.parse(address)
    except InvalidParameter:
        return None


def own_targets(user: User, status: MfaStatus) -> set[str]:
    """The keys of every address the user may receive MFA codes at: ``mfaPhone``/``mfaEmail`` and the
    user's own phone and email."""
    found = (
        _phone(status.mfa_phone, status.mfa_phone_country_code or user.phone_country_code),
        _phone(user.phone, user.phone_country_code),
        _email(status.mfa_email),
        _email(user.email),
    )
    return {t.key for t in found if t is not None}


def bound_target(user: User, status: MfaStatus, medium_is_sms: bool) -> Target | None:
    """Where the SMS or EMAIL factor's codes go (``domain/mfa.py`` ``bindings_for``): ``mfaPhone`` /
    ``mfaEmail`` when set, else the user's own phone / email."""
    if medium_is_sms:
        if status.mfa_phone:
            return _phone(status.mfa_phone, status.mfa_phone_country_code or user.phone_country_code)
        return _phone(user.phone, user.phone_country_code)
    return _email(status.mfa_email or user.email)


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
