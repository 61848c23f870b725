"""``AuthenticationClient`` (its ``asyncio`` twin is in ``_authentication_async``): an application
signs its users in.

The same calls, sync and async: both send the requests built in ``_authentication_operations`` and
``_authentication_codes`` with
the retry rule of ``_transport`` and decode them there; they differ only in how they wait. The clients
hold no user state: every call takes the token it needs (mfaToken, access token, refresh token), so
one client serves every user of the application and is safe to share between threads or tasks.

Application credentials (docs/signin.md#client-authentication): ``app_id`` and ``app_secret`` (from
``create_application``), sent as ``client_secret_post`` (default: in the body or form),
``client_secret_basic`` (an ``Authorization: Basic`` header) or ``none`` (a public application, no
secret). They go with the sign-in and the ``/oidc`` token calls; the MFA and enrolment calls are
authorised by the user's mfaToken or access token instead.
"""

from __future__ import annotations

import builtins
import time
from collections.abc import Mapping
from types import TracebackType
from typing import Any, Self, TypeVar

import httpx

from twofold_client import _authentication_codes as codes
from twofold_client import _authentication_operations as ops
from twofold_client._auth import DEFAULT_LANG
from twofold_client._authentication_base import (
    DEFAULT_HOST,
    DEFAULT_TIMEOUT,
    RETRYABLE,
    BaseAuthenticationClient,
)
from twofold_client._authentication_models import (
    Channel,
    EnrolledFactor,
    Jwks,
    MfaSignIn,
    MfaTokenIntrospection,
    OpenIdConfiguration,
    PendingEnrollment,
    RecoveryCodeSignIn,
    SignInResult,
    TokenIntrospection,
    TokenSet,
)
from twofold_client._authentication_operations import AuthMethod, AuthOperation
from twofold_client._models import Factor, LoginHistoryEntry, Page, User

T = TypeVar("T")


class AuthenticationClient(BaseAuthenticationClient):
    """A blocking client of Twofold's end-user API: sign-in, the MFA step, enrolment, tokens.

    ::

        with AuthenticationClient(app_id, app_secret, host="http://127.0.0.1:8080") as auth:
            result = auth.sign_in_by_password("s3cret", email="alice@example.com")
            tokens = result.tokens or auth.verify_totp(result.mfa.mfa_token, input("Code: "))
            print(auth.get_profile(tokens.access_token).email)

    ``token_endpoint_auth_method``: ``"client_secret_post"`` (default), ``"client_secret_basic"`` or
    ``"none"`` (a public application: no ``app_secret``). ``timeout``, ``retries`` and
    ``backoff_factor`` as for ``ManagementClient``; ``transport`` replaces the network (tests).
    """

    def __init__(
        self,
        app_id: str,
        app_secret: str | None = None,
        host: str = DEFAULT_HOST,
        *,
        token_endpoint_auth_method: AuthMethod = "client_secret_post",  # noqa: S107 (a method name)
        timeout: float | None = DEFAULT_TIMEOUT,
        retries: int = 2,
        lang: str = DEFAULT_LANG,
        backoff_factor: float = 0.5,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        super().__init__(
            app_id,
            app_secret,
            host,
            token_endpoint_auth_method=token_endpoint_auth_method,
            timeout=timeout,
            retries=retries,
            lang=lang,
            backoff_factor=backoff_factor,
        )
        self._http = httpx.Client(transport=transport, **self._client_options)

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    def _run(self, op: AuthOperation[T]) -> T:
        attempt = 0
        while True:
            try:
                return op.decode(self._http.send(op.build_request(self._http)))
            except RETRYABLE as exc:
                error = self._give_up(exc, op, attempt)
                if error is exc:
                    raise
                if error is not None:
                    raise error from exc
            time.sleep(self._policy.delay(attempt))
            attempt += 1

    # --------------------------------------------------------------------------------- sign-in
    def sign_in_by_password(
        self,
        password: str,
        *,
        email: str | None = None,
        username: str | None = None,
        phone: str | None = None,
        phone_country_code: str | None = None,
        account: str | None = None,
        scope: str | None = None,
    ) -> SignInResult:
        """Sign a user in with a password (``POST /api/v3/signin``, ``connection: PASSWORD``).

        Give exactly one of ``email``, ``username``, ``phone`` (national number with
        ``phone_country_code``, or ``+CC…``) and ``account`` (tried as username, email, phone).
        Returns ``SignInResult(tokens=...)``, or ``SignInResult(mfa=MfaChallenge(...))`` when the
        user must pass MFA first. A wrong account, password or client secret raises
        :class:`AuthenticationError` (apiCode 40110; all look the same); too many failures 429/42901.
        """
        return self._run(
            ops.sign_in_by_password(
                self._client_auth, password, email, username, phone, phone_country_code, account, scope
            )
        )

    def sign_in_by_passcode(
        self,
        pass_code: str,
        *,
        email: str | None = None,
        phone: str | None = None,
        phone_country_code: str | None = None,
        scope: str | None = None,
    ) -> SignInResult:
        """Sign a user in with a code sent by ``send_email`` / ``send_sms`` on ``CHANNEL_LOGIN``
        (``POST /api/v3/signin``, ``connection: PASSCODE``).

        Give exactly one of ``email`` and ``phone`` (with ``phone_country_code``, or ``+CC…``). The
        answer is that of ``sign_in_by_password``: tokens, or an :class:`MfaChallenge`. Every refusal
        (wrong, expired or spent code, unknown account, wrong client secret) raises
        :class:`AuthenticationError` 40110, all alike.
        """
        return self._run(
            codes.sign_in_by_passcode(self._client_auth, pass_code, email, phone, phone_country_code, scope)
        )

    # ---------------------------------------------------------------------------------- codes
    def send_sms(
        self,
        phone_number: str,
        channel: Channel | str,
        *,
        phone_country_code: str | None = None,
        token: str | None = None,
    ) -> None:
        """Send a one-time code by SMS (``POST /api/v3/send-sms``).

        ``CHANNEL_LOGIN`` (for ``sign_in_by_passcode``): the application is named by the client's app
        id; the answer is the same success whether or not the number belongs to a user. The MFA
        channels (``CHANNEL_VERIFY_MFA`` for ``verify_sms_code``, ...) need ``token``, the sign-in's
        mfaToken or the user's access token, and send only to the user's own numbers: any other raises
        :class:`PermissionDeniedError` (40310). Another channel raises :class:`BadRequestError` (40041);
        a second code within the minute 422/42201; the hourly quotas 429/42902.
        """
        return self._run(codes.send_sms(phone_number, channel, phone_country_code, token))

    def send_email(self, email: str, channel: Channel | str, *, token: str | None = None) -> None:
        """Send a one-time code by email (``POST /api/v3/send-email``), with the rules of ``send_sms``
        (a second code within the minute raises :class:`BadRequestError` 2080)."""
        return self._run(codes.send_email(email, channel, token))

    # -------------------------------------------------------------------------------- MFA step
    def verify_totp(self, mfa_token: str, code: str) -> TokenSet:
        """Finish an MFA sign-in with the code of the user's authenticator app (``mfa-totp-verify``).

        A wrong, replayed or locked code raises :class:`WrongCodeError`; the mfaToken stays usable
        until it expires. A spent or expired mfaToken raises :class:`AuthenticationError` (2021).
        """
        return self._run(ops.verify_totp(mfa_token, code))

    def check_totp(self, access_token: str, code: str) -> bool:
        """Whether ``code`` is the signed-in user's current TOTP code (step-up; the code is spent)."""
        return self._run(ops.check_totp(access_token, code))

    def verify_recovery_code(self, mfa_token: str, recovery_code: str) -> RecoveryCodeSignIn:
        """Finish an OTP sign-in with a recovery code instead (``/api/v2/mfa/totp/recovery``).

        The code works once; the result carries the user's new one. A wrong or used code raises
        :class:`WrongCodeError` (apiCode 6002).
        """
        return self._run(ops.verify_recovery_code(mfa_token, recovery_code))

    def verify_sms_code(
        self, mfa_token: str, phone: str, code: str, phone_country_code: str | None = None
    ) -> MfaSignIn:
        """Finish an MFA sign-in with a code sent by ``send_sms(phone, Channel.CHANNEL_VERIFY_MFA,
        token=mfa_token)`` (``/api/v2/applications/mfa/sms/verify``).

        ``phone`` is the bound one (``MfaChallenge.mfa_phone``, else ``phone``). A wrong, expired or
        spent code, another phone, an unchallenged or locked factor raise :class:`WrongCodeError`
        (2001, all alike); a spent or expired mfaToken :class:`AuthenticationError` (2021).
        """
        return self._run(codes.verify_sms_code(mfa_token, phone, code, phone_country_code))

    def verify_email_code(self, mfa_token: str, email: str, code: str) -> MfaSignIn:
        """Finish an MFA sign-in with a code sent by ``send_email(email, Channel.CHANNEL_VERIFY_MFA,
        token=mfa_token)`` (``/api/v2/applications/mfa/email/verify``); errors as ``verify_sms_code``."""
        return self._run(codes.verify_email_code(mfa_token, email, code))

    def verify_mfa_token(self, mfa_token: str) -> MfaTokenIntrospection:
        """Whether an mfaToken is live and unspent, and whose (``/mfa/token/introspection``); it
        spends nothing. Anything else answers ``active=False``, never an error."""
        return self._run(codes.verify_mfa_token(mfa_token))

    # ------------------------------------------------------------------------------- enrolment
    def send_enroll_factor_request(
        self, token: str, factor_type: Factor | str = Factor.OTP, profile: Mapping[str, Any] | None = None
    ) -> PendingEnrollment:
        """Start enrolling a factor. ``token`` is the user's access token, or the ``mfa_token`` of a
        sign-in that must enrol it first (``MfaChallenge.must_enroll``). For OTP the result's
        ``otp_data`` is the new authenticator (QR code, otpauth URI, recovery code)."""
        return self._run(ops.send_enroll_factor_request(token, factor_type, profile))

    def enroll_factor(
        self, token: str, enrollment_token: str, pass_code: str, *, factor_type: Factor | str = Factor.OTP
    ) -> None:
        """Confirm an enrolment within 60 seconds with a current code of the new factor.

        A wrong code raises :class:`WrongCodeError` (40062; retry while the enrollment token lives),
        an unknown or expired enrollment token :class:`BadRequestError` (40061). After enrolling with
        an mfaToken, finish that sign-in with ``verify_totp`` and a *later* code.
        """
        return self._run(ops.enroll_factor(token, factor_type, enrollment_token, pass_code))

    def list_enrolled_factors(self, access_token: str) -> builtins.list[EnrolledFactor]:
        """The factors the signed-in user has bound."""
        return self._run(ops.list_enrolled_factors(access_token))

    def get_factor(self, access_token: str, factor_id: str) -> EnrolledFactor:
        """One of the user's enrolled factors; an unknown id raises :class:`NotFoundError` (40063)."""
        return self._run(codes.get_factor(access_token, factor_id))

    def reset_factor(self, access_token: str, factor_id: str) -> None:
        """Unbind one of the user's factors (OTP loses its authenticator, SMS its ``mfaPhone``, EMAIL
        its ``mfaEmail``); an unknown id raises :class:`NotFoundError` (40063)."""
        return self._run(codes.reset_factor(access_token, factor_id))

    def list_factors_to_enroll(self, access_token: str) -> builtins.list[Factor]:
        """The factors the application offers that the user has not enrolled, in the offered order."""
        return self._run(codes.list_factors_to_enroll(access_token))

    # ---------------------------------------------------------------------------------- tokens
    def get_profile(
        self, access_token: str, *, with_custom_data: bool | None = None, with_identities: bool | None = None
    ) -> User:
        """The signed-in user (``GET /api/v3/get-profile``); a bad, expired or revoked token raises
        :class:`AuthenticationError` (40111)."""
        return self._run(ops.get_profile(access_token, with_custom_data, with_identities))

    def get_new_access_token_by_refresh_token(self, refresh_token: str) -> TokenSet:
        """New tokens for a refresh token (``/oidc/token``, ``grant_type=refresh_token``).

        Refresh tokens rotate: keep the new ``refresh_token``. Presenting a used one again raises
        :class:`InvalidGrantError` and revokes the whole sign-in.
        """
        return self._run(ops.refresh_tokens(self._client_auth, refresh_token))

    def introspect_token(self, token: str, token_type_hint: str | None = None) -> TokenIntrospection:
        """RFC 7662: whether an access or refresh token issued to this application is live."""
        return self._run(ops.introspect_token(self._client_auth, token, token_type_hint))

    def revoke_token(self, token: str) -> None:
        """RFC 7009: revoke the sign-in of an access or refresh token (succeeds for any token)."""
        return self._run(ops.revoke_token(self._client_auth, token))

    def get_openid_configuration(self) -> OpenIdConfiguration:
        """The discovery document: issuer, ``jwks_uri``, endpoints."""
        return self._run(ops.get_openid_configuration())

    def get_jwks(self) -> Jwks:
        """The public keys access and ID tokens are signed with, for verifying them offline."""
        return self._run(ops.get_jwks())


    def get_login_history(
        self,
        access_token: str,
        *,
        app_id: str | None = None,
        client_ip: str | None = None,
        success: bool | None = None,
        start: int | None = None,
        end: int | None = None,
        page: int | None = None,
        limit: int | None = None,
    ) -> Page[LoginHistoryEntry]:
        """The signed-in user's own sign-in outcomes, newest first (``get-my-login-history``);
        ``start``/``end`` in milliseconds (inclusive), ``limit`` at most 50 (default 10)."""
        return self._run(
            codes.get_login_history(access_token, app_id, client_ip, success, start, end, page, limit)
        )
