"""Sign-in vocabulary (no I/O): client credentials as presented, the token set, scopes."""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from enum import StrEnum
from urllib.parse import unquote


class ClientAuthMethod(StrEnum):
    """How an application authenticates at the sign-in and token endpoints (RFC 7591 names).

    ``client_secret_post`` and ``client_secret_basic`` are *confidential*: the secret is required, and
    either way of presenting it is accepted.  ``none`` is a *public* application (SPA, mobile, the Python
    SDK configured with ``client_secret_basic``, which sends no credentials: docs/wire.md#rule-22)."""

    CLIENT_SECRET_POST = "client_secret_post"  # noqa: S105 - a method name
    CLIENT_SECRET_BASIC = "client_secret_basic"  # noqa: S105 - a method name
    NONE = "none"


DEFAULT_SCOPE = "openid profile"


@dataclass(frozen=True)
class ClientCredentials:
    """What a request presented about the calling application, from every place it may come."""

    header_app_id: str | None = None  # x-genauth-app-id / x-authing-app-id
    client_id: str | None = None  # body or form
    client_secret: str | None = None
    basic_id: str | None = None  # Authorization: Basic
    basic_secret: str | None = None

    @property
    def secret(self) -> str | None:
        return self.basic_secret if self.basic_id is not None else self.client_secret

    def app_ids(self) -> set[str]:
        return {i for i in (self.header_app_id, self.client_id, self.basic_id) if i}


def parse_basic(authorization: str | None) -> tuple[str, str] | None:
    """RFC 6749 §2.3.1: ``Basic base64(urlencode(id):urlencode(secret))``; None when not Basic or broken."""
    if not authorization or authorization[:6].lower() != "basic ":
        return None
    try:
        decoded = base64.b64decode(authorization[6:].strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return None
    client_id, sep, secret = decoded.partition(":")
    if not sep:
        return None
    return unquote(client_id), unquote(secret)


@dataclass(frozen=True)
class TokenSet:
    access_token: str
    id_token: str | None
    refresh_token: str
    expire_in: int
    scope: str
    token_type: str = "Bearer"  # noqa: S105 - RFC 6750
    expires_at: int = 0  # the access token's ``exp`` (epoch seconds), known when it is minted


@dataclass(frozen=True)
class AccessClaims:
    """A verified access token."""

    pool_id: str
    user_id: str
    app_id: str
    scope: str
    family_id: str
    issued_at: int
    expires_at: int
    jti: str


def normalize_scope(scope: str | None) -> str:
    """The scope of a sign-in: what was asked for (deduplicated, in order), ``openid`` always in it."""
    words = [w for w in (scope or DEFAULT_SCOPE).split() if w]
    if "openid" not in words:
        words.insert(0, "openid")
    return " ".join(dict.fromkeys(words))


def bearer_token(authorization: str | None) -> str | None:
    """End-user calls send the token bare, or as ``Bearer <token>`` (docs/wire.md#rule-7)."""
    if not authorization:
        return None
    value = authorization.strip()
    scheme, _, rest = value.partition(" ")
    if scheme.lower() == "bearer":
        value = rest.strip()
    return value or None


@dataclass(frozen=True)
class PasswordSignIn:
    """``connection: PASSWORD``: exactly one of the identifiers, and the password."""

    password: str | None
    email: str | None = None
    username: str | None = None
    phone: str | None = None
    phone_country_code: str | None = None
    account: str | None = None
    scope: str | None = None
    password_encrypt_type: str | None = None


@dataclass(frozen=True)
class PasscodeSignIn:
    """``connection: PASSCODE``: an email or a phone (with its country code), and the code sent to it
    on ``CHANNEL_LOGIN``."""

    pass_code: str | None
    email: str | None = None
    phone: str | None = None
    phone_country_code: str | None = None
    scope: str | None = None
