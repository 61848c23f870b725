"""Results of the ``AuthenticationClient``: sign-in, the MFA step, enrolment and tokens.

Envelope members are camelCase (``mfaToken``, ``qrCodeUri``); token members are snake_case on the wire
(``access_token``, RFC 6749's spelling), so :class:`TokenSet` and :class:`TokenIntrospection` keep
their wire names. Unknown fields are kept in ``model_extra``, as for every result model.
"""

from __future__ import annotations

import base64
import builtins
from dataclasses import dataclass
from enum import StrEnum
from typing import Any
from urllib.parse import parse_qs, urlsplit

from pydantic import AliasChoices, BaseModel, ConfigDict, Field

from twofold_client._models import ApplicationMfa, Factor, User, _Result


class _SnakeResult(BaseModel):
    """A result whose wire names are already snake_case (the OAuth/OIDC members)."""

    model_config = ConfigDict(extra="allow", populate_by_name=True)


class TokenSet(_SnakeResult):
    """The tokens of a completed sign-in.

    ``access_token`` (RS256 JWT, for ``get_profile`` and your APIs), ``id_token`` (who signed in, and
    ``amr``: how), ``refresh_token`` (for ``get_new_access_token_by_refresh_token``; it rotates on every use), ``expires_in``
    (seconds; the sign-in answers it as ``expire_in``, ``/oidc/token`` as ``expires_in``).
    """

    access_token: str
    id_token: str | None = None
    refresh_token: str | None = None
    token_type: str = "Bearer"  # noqa: S105 (a token type, not a secret)
    expires_in: int = Field(validation_alias=AliasChoices("expires_in", "expire_in"))
    scope: str | None = None


class MfaChallenge(_Result):
    """What a sign-in answers when the user must pass MFA first (apiCode 1636): no token yet.

    ``mfa_token`` authorises the next calls of this one sign-in (at most 5 minutes, single use once a
    code was accepted): ``verify_totp``, ``verify_recovery_code``, and enrolling a factor the policy
    requires but the user has not bound yet (``must_enroll``). The other fields are the user's MFA
    trigger data for this application: ``application_mfa`` holds only the challenged factors, sorted.
    """

    mfa_token: str
    application_mfa: list[ApplicationMfa] = Field(default_factory=list)
    totp_mfa_enabled: bool | None = None
    face_mfa_enabled: bool | None = None
    mfa_phone: str | None = None
    mfa_phone_country_code: str | None = None
    mfa_email: str | None = None
    nickname: str | None = None
    username: str | None = None
    phone: str | None = None
    phone_country_code: str | None = None
    email: str | None = None
    avatar: str | None = None

    @property
    def factors(self) -> builtins.list[Factor]:
        """The challenged factors, in challenge order; any one of them completes the sign-in."""
        return [p.mfa_policy for p in sorted(self.application_mfa, key=lambda p: p.sort) if p.status == 1]

    @property
    def default_factor(self) -> Factor | None:
        """The factor to offer first (the lowest ``sort``)."""
        return next(iter(self.factors), None)

    def is_enrolled(self, factor: Factor | str) -> bool:
        """Whether the user can pass ``factor`` now, as the server decides it (``domain/mfa.py``): OTP
        when ``totp_mfa_enabled`` (the server also needs the authenticator's secret, which this answer
        does not show), SMS when there is a phone to send to (``mfa_phone``, else ``phone``), EMAIL
        when there is an address (``mfa_email``, else ``email``). FACE is never enrolled: Twofold does
        not serve it."""
        factor = Factor(factor)
        if factor is Factor.OTP:
            return bool(self.totp_mfa_enabled)
        if factor is Factor.SMS:
            return bool(self.mfa_phone or self.phone)
        if factor is Factor.EMAIL:
            return bool(self.mfa_email or self.email)
        return False

    def must_enroll(self, factor: Factor | str) -> bool:
        """Whether this sign-in must enrol ``factor`` with ``mfa_token`` first: it is challenged and no
        challenged factor is enrolled yet (``is_enrolled``). This is the server's rule for enrolling
        with an mfaToken: while any challenged factor can be passed, the mfaToken enrols nothing (the
        server answers 2021) and the user passes that factor instead."""
        factor = Factor(factor)
        challenged = self.factors
        return factor in challenged and not any(self.is_enrolled(f) for f in challenged)


@dataclass(frozen=True)
class SignInResult:
    """The outcome of a sign-in: exactly one of ``tokens`` and ``mfa`` is set.

    ::

        result = client.sign_in_by_password("secret", email="alice@example.com")
        if result.mfa:                       # MFA needed: no token yet
            tokens = client.verify_totp(result.mfa.mfa_token, input("Code: "))
        else:
            tokens = result.tokens
    """

    tokens: TokenSet | None = None
    mfa: MfaChallenge | None = None

    def __post_init__(self) -> None:
        if (self.tokens is None) == (self.mfa is None):
            raise ValueError("a SignInResult has either tokens or an MFA challenge")

    @property
    def mfa_required(self) -> bool:
        return self.mfa is not None


class OtpEnrollmentData(_Result):
    """The authenticator to add to an app: scan ``qr_code_data_url`` (a PNG) or type ``qr_code_uri``.

    ``recovery_code`` is shown this once: the user keeps it to sign in without the app
    (``verify_recovery_code``).
    """

    qr_code_uri: str
    """``otpauth://totp/<issuer>:<account>?secret=…&period=30&digits=6&algorithm=SHA1&issuer=<issuer>``"""
    qr_code_data_url: str
    """``data:image/png;base64,…``: the QR code of ``qr_code_uri``."""
    recovery_code: str | None = None

    @property
    def secret(self) -> str:
        """The base32 secret inside ``qr_code_uri`` (what an authenticator app reads from the QR code)."""
        values = parse_qs(urlsplit(self.qr_code_uri).query).get("secret")
        if not values:
            raise ValueError("the otpauth URI carries no secret")
        return values[0]

    def qr_code_png(self) -> bytes:
        """The QR code as PNG bytes, e.g. ``Path("qr.png").write_bytes(data.qr_code_png())``."""
        header, _, payload = self.qr_code_data_url.partition(",")
        if header != "data:image/png;base64":
            raise ValueError("qr_code_data_url is not a base64 PNG data URL")
        return base64.b64decode(payload, validate=True)


class PendingEnrollment(_Result):
    """``send_enroll_factor_request``: confirm it with ``enroll_factor`` within 60 seconds.

    For OTP, ``otp_data`` is the new authenticator; other factors send a code instead (``otp_data`` is
    ``None`` and anything else the server answers is in ``model_extra``).
    """

    enrollment_token: str
    otp_data: OtpEnrollmentData | None = None


class EnrolledFactor(_Result):
    """One factor the signed-in user has bound (``list_enrolled_factors``, ``get_factor``).

    ``profile`` is ``{}`` for OTP, ``{phoneNumber, phoneCountryCode}`` for SMS (the bound ``mfaPhone``)
    and ``{email}`` for EMAIL (the bound ``mfaEmail``); the properties read it.
    """

    factor_id: str
    factor_type: Factor
    profile: dict[str, Any] = Field(default_factory=dict)

    @property
    def phone_number(self) -> str | None:
        """The bound phone number (national digits) of an SMS factor."""
        value = self.profile.get("phoneNumber")
        return value if isinstance(value, str) else None

    @property
    def phone_country_code(self) -> str | None:
        """The country code (``+86``) of an SMS factor."""
        value = self.profile.get("phoneCountryCode")
        return value if isinstance(value, str) else None

    @property
    def email(self) -> str | None:
        """The bound address of an EMAIL factor."""
        value = self.profile.get("email")
        return value if isinstance(value, str) else None


class Channel(StrEnum):
    """What a code sent by ``send_sms`` / ``send_email`` is for (GenAuth's ``channel``).

    ``CHANNEL_LOGIN`` codes sign in (``sign_in_by_passcode``); ``CHANNEL_VERIFY_MFA`` codes pass the
    SMS/EMAIL MFA step (``verify_sms_code`` / ``verify_email_code``). Twofold refuses the other GenAuth
    channels (registration, password reset, ...) with :class:`BadRequestError` 40041.
    """

    CHANNEL_LOGIN = "CHANNEL_LOGIN"
    CHANNEL_VERIFY_MFA = "CHANNEL_VERIFY_MFA"
    CHANNEL_BIND_MFA = "CHANNEL_BIND_MFA"
    CHANNEL_UNBIND_MFA = "CHANNEL_UNBIND_MFA"


@dataclass(frozen=True)
class MfaSignIn:
    """A sign-in completed with an SMS or email code (``verify_sms_code`` / ``verify_email_code``):
    the tokens and the user who signed in."""

    tokens: TokenSet
    user: User


class MfaTokenIntrospection(_Result):
    """``verify_mfa_token``: ``active`` and, for a live unspent mfaToken, whose sign-in it belongs to;
    ``exp`` and ``iat`` in seconds."""

    active: bool
    user_pool_id: str | None = None
    user_id: str | None = None
    exp: int | None = None
    iat: int | None = None


@dataclass(frozen=True)
class RecoveryCodeSignIn:
    """A sign-in completed with a recovery code: the tokens, the user, and the user's **new** recovery
    code (the used one is spent; show the new one to the user, it is not shown again)."""

    tokens: TokenSet
    user: User
    new_recovery_code: str


class TokenIntrospection(_SnakeResult):
    """RFC 7662: ``active`` and, for a live token issued to this application, what it is."""

    active: bool
    token_type: str | None = None
    """``access_token`` or ``refresh_token``."""
    scope: str | None = None
    client_id: str | None = None
    sub: str | None = None
    aud: str | None = None
    iss: str | None = None
    iat: int | None = None
    exp: int | None = None
    jti: str | None = None
    userpool_id: str | None = None


class OpenIdConfiguration(_SnakeResult):
    """The discovery document (``/oidc/.well-known/openid-configuration``); the rest in ``model_extra``."""

    issuer: str
    jwks_uri: str
    token_endpoint: str | None = None
    introspection_endpoint: str | None = None
    revocation_endpoint: str | None = None
    id_token_signing_alg_values_supported: list[str] = Field(default_factory=list)


class Jwks(_SnakeResult):
    """The published signing keys (``/oidc/.well-known/jwks.json``), each a JWK dict with its ``kid``."""

    keys: list[dict[str, Any]]
