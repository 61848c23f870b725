"""``AuthenticationClient`` and ``AsyncAuthenticationClient``: an application signs its users in.

The same calls, sync and async: both send the requests built in ``_authentication_operations`` with
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

import asyncio
import builtins
import time
from collections.abc import Mapping
from types import TracebackType
from typing import Any, Self, TypeVar

import httpx

from twofold_client import _authentication_operations as ops
from twofold_client._auth import DEFAULT_LANG
from twofold_client._authentication_base import (
    DEFAULT_HOST,
    DEFAULT_TIMEOUT,
    RETRYABLE,
    BaseAuthenticationClient,
)
from twofold_client._authentication_models import (
    EnrolledFactor,
    Jwks,
    OpenIdConfiguration,
    PendingEnrollment,
    RecoveryCodeSignIn,
    SignInResult,
    TokenIntrospection,
    TokenSet,
)
from twofold_client._authentication_operations import AuthMethod, AuthOperation
from twofold_client._models import Factor, User

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


class AsyncAuthenticationClient(BaseAuthenticationClient):
    """The ``asyncio`` twin of :class:`AuthenticationClient`: the same methods, awaited.

    ::

        async with AsyncAuthenticationClient(app_id, app_secret, host="http://127.0.0.1:8080") as auth:
            result = await auth.sign_in_by_password("s3cret", email="alice@example.com")
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
        transport: httpx.AsyncBaseTransport | None = None,
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
        self._http = httpx.AsyncClient(transport=transport, **self._client_options)

    async def aclose(self) -> None:
        await self._http.aclose()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def _run(self, op: AuthOperation[T]) -> T:
        attempt = 0
        while True:
            try:
                return op.decode(await self._http.send(op.build_request(self._http)))
            except RETRYABLE as exc:
                error = self._give_up(exc, op, attempt)
                if error is exc:
                    raise
                if error is not None:
                    raise error from exc
            await asyncio.sleep(self._policy.delay(attempt))
            attempt += 1

    # --------------------------------------------------------------------------------- sign-in
    async def sign_in_by_password(
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
        return await self._run(
            ops.sign_in_by_password(
                self._client_auth, password, email, username, phone, phone_country_code, account, scope
            )
        )

    # -------------------------------------------------------------------------------- MFA step
    async def verify_totp(self, mfa_token: str, code: str) -> TokenSet:
        """Finish an MFA sign-in with the code of the user's authenticator app (``mfa-totp-verify``).

        A wrong, replayed or locked code raises :class:`WrongCodeError`; the mfaToken stays usable
        until it expires. A spent or expired mfaToken raises :class:`AuthenticationError` (2021).
        """
        return await self._run(ops.verify_totp(mfa_token, code))

    async def check_totp(self, access_token: str, code: str) -> bool:
        """Whether ``code`` is the signed-in user's current TOTP code (step-up; the code is spent)."""
        return await self._run(ops.check_totp(access_token, code))

    async def verify_recovery_code(self, mfa_token: str, recovery_code: str) -> RecoveryCodeSignIn:
        """Finish an OTP sign-in with a recovery code instead (``/api/v2/mfa/totp/recovery``).

        The code works once; the result carries the user's new one. A wrong or used code raises
        :class:`WrongCodeError` (apiCode 6002).
        """
        return await self._run(ops.verify_recovery_code(mfa_token, recovery_code))

    # ------------------------------------------------------------------------------- enrolment
    async def send_enroll_factor_request(
        self, token: str, factor_type: Factor | str = Factor.OTP, profile: Mapping[str, Any] | None = None
    ) -> PendingEnrollment:
        """Start enrolling a factor. ``token`` is the user's access token, or the ``mfa_token`` of a
        sign-in that must enrol it first (``MfaChallenge.must_enroll``). For OTP the result's
        ``otp_data`` is the new authenticator (QR code, otpauth URI, recovery code)."""
        return await self._run(ops.send_enroll_factor_request(token, factor_type, profile))

    async def enroll_factor(
        self, token: str, enrollment_token: str, pass_code: str, *, factor_type: Factor | str = Factor.OTP
    ) -> None:
        """Confirm an enrolment within 60 seconds with a current code of the new factor.

        A wrong code raises :class:`WrongCodeError` (40062; retry while the enrollment token lives),
        an unknown or expired enrollment token :class:`BadRequestError` (40061). After enrolling with
        an mfaToken, finish that sign-in with ``verify_totp`` and a *later* code.
        """
        return await self._run(ops.enroll_factor(token, factor_type, enrollment_token, pass_code))

    async def list_enrolled_factors(self, access_token: str) -> builtins.list[EnrolledFactor]:
        """The factors the signed-in user has bound."""
        return await self._run(ops.list_enrolled_factors(access_token))

    # ---------------------------------------------------------------------------------- tokens
    async def get_profile(
        self, access_token: str, *, with_custom_data: bool | None = None, with_identities: bool | None = None
    ) -> User:
        """The signed-in user (``GET /api/v3/get-profile``); a bad, expired or revoked token raises
        :class:`AuthenticationError` (40111)."""
        return await self._run(ops.get_profile(access_token, with_custom_data, with_identities))

    async def get_new_access_token_by_refresh_token(self, refresh_token: str) -> TokenSet:
        """New tokens for a refresh token (``/oidc/token``, ``grant_type=refresh_token``).

        Refresh tokens rotate: keep the new ``refresh_token``. Presenting a used one again raises
        :class:`InvalidGrantError` and revokes the whole sign-in.
        """
        return await self._run(ops.refresh_tokens(self._client_auth, refresh_token))

    async def introspect_token(self, token: str, token_type_hint: str | None = None) -> TokenIntrospection:
        """RFC 7662: whether an access or refresh token issued to this application is live."""
        return await self._run(ops.introspect_token(self._client_auth, token, token_type_hint))

    async def revoke_token(self, token: str) -> None:
        """RFC 7009: revoke the sign-in of an access or refresh token (succeeds for any token)."""
        return await self._run(ops.revoke_token(self._client_auth, token))

    async def get_openid_configuration(self) -> OpenIdConfiguration:
        """The discovery document: issuer, ``jwks_uri``, endpoints."""
        return await self._run(ops.get_openid_configuration())

    async def get_jwks(self) -> Jwks:
        """The public keys access and ID tokens are signed with, for verifying them offline."""
        return await self._run(ops.get_jwks())
