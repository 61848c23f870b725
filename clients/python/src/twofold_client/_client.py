"""``ManagementClient`` and ``AsyncManagementClient``: the same calls, sync and async.

Both build every request with ``_operations`` and share the retry rule, envelope decoding and token
cache (``_transport``, ``_auth``); they differ only in how they wait: blocking ``httpx.Client`` and
``time.sleep`` versus ``httpx.AsyncClient`` and ``asyncio.sleep``.
"""

from __future__ import annotations

import asyncio
import builtins
import threading
import time
from collections.abc import Iterable, Mapping, Sequence
from types import TracebackType
from typing import Any, Literal, Self, TypeVar, Unpack
from urllib.parse import urlsplit

import httpx

from twofold_client import _operations as ops
from twofold_client._auth import DEFAULT_LANG, SDK_VERSION, BearerAuth, SignatureAuth, TokenCache
from twofold_client._errors import AuthenticationError, ServerError, TransportError
from twofold_client._models import (
    Application,
    AuditEvent,
    Factor,
    Identity,
    ImportOtpItem,
    LoginHistoryEntry,
    MfaLockStatus,
    MfaResetResult,
    MfaSettings,
    MfaStatus,
    MfaTriggerData,
    Page,
    User,
    UserIdType,
    UserMfaInfo,
)
from twofold_client._params import CreateApplicationFields, CreateUserFields, UpdateUserFields
from twofold_client._transport import RetryPolicy, decode_envelope, transport_error

T = TypeVar("T")
AuthScheme = Literal["token", "signature"]
DEFAULT_HOST = "http://127.0.0.1:8080"
DEFAULT_TIMEOUT = 10.0
_RETRYABLE = (httpx.HTTPError, ServerError, TransportError)


class _BaseClient:
    """Configuration and everything that does no I/O."""

    def __init__(
        self,
        access_key_id: str,
        access_key_secret: str,
        host: str,
        *,
        timeout: float | None,
        retries: int,
        auth: AuthScheme,
        lang: str,
        backoff_factor: float,
    ) -> None:
        if not access_key_id or not access_key_secret:
            raise ValueError("access_key_id and access_key_secret are required")
        if auth not in ("token", "signature"):
            raise ValueError(f"auth must be 'token' or 'signature', not {auth!r}")
        url = urlsplit(host)
        if url.scheme not in ("http", "https") or not url.netloc:
            raise ValueError(f"host must look like http(s)://host[:port], not {host!r}")
        if timeout is not None and timeout <= 0:
            raise ValueError("timeout must be a positive number of seconds, or None for no timeout")
        self._access_key_id = access_key_id
        self._access_key_secret = access_key_secret
        self.host = host.rstrip("/")
        self.auth_scheme: AuthScheme = auth
        self._policy = RetryPolicy(retries=retries, backoff_factor=backoff_factor)
        self._tokens = TokenCache() if auth == "token" else None
        self._signature = (
            SignatureAuth(access_key_id, access_key_secret, lang=lang, base_path=url.path)
            if auth == "signature"
            else None
        )
        self._client_options: dict[str, Any] = {
            "base_url": self.host,
            "timeout": timeout,
            "headers": {
                "accept": "application/json",
                "x-authing-sdk-version": SDK_VERSION,
                "x-authing-lang": lang,
            },
        }

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(host={self.host!r}, access_key_id={self._access_key_id!r}, "
            f"auth={self.auth_scheme!r})"
        )

    def _token_operation(self) -> ops.Operation[Any]:
        return ops.get_management_token(self._access_key_id, self._access_key_secret)

    def _store_token(self, envelope: Mapping[str, Any]) -> str:
        assert self._tokens is not None
        try:
            return self._tokens.store(envelope.get("data"))
        except ValueError as exc:
            raise TransportError(f"unexpected management-token response: {exc}") from exc

    @staticmethod
    def _result(op: ops.Operation[T], envelope: Mapping[str, Any]) -> T:
        try:
            return op.parse(envelope.get("data"))
        except (ValueError, TypeError) as exc:
            raise TransportError(f"unexpected data in the response to {op.method} {op.path}: {exc}") from exc


class ManagementClient(_BaseClient):
    """A blocking client of Twofold's management API (``/api/v3``).

    ::

        with ManagementClient(access_key_id=AK, access_key_secret=SK, host="http://127.0.0.1:8080") as c:
            user = c.create_user(username="alice", email="alice@example.com")
            otp_required = [ApplicationMfa(mfa_policy=Factor.OTP, status=1, sort=0)]
            c.set_users_mfa_status(MfaTriggerData(mfa_token="-", application_mfa=otp_required), user.user_id)

    ``auth``: ``"token"`` (default) fetches a management token and refreshes it 60 s before it expires,
    or once when the server refuses it; ``"signature"`` signs every request with HMAC-SHA1 instead.
    ``timeout`` is in seconds (``None`` = wait forever); ``retries`` and ``backoff_factor`` follow the
    retry rule documented in ``twofold_client._transport``. ``transport`` replaces the network (tests).
    Methods raise the exceptions documented in ``twofold_client._errors``. The client is thread-safe;
    close it (or use ``with``) to release its connections.
    """

    def __init__(
        self,
        access_key_id: str,
        access_key_secret: str,
        host: str = DEFAULT_HOST,
        *,
        timeout: float | None = DEFAULT_TIMEOUT,
        retries: int = 2,
        auth: AuthScheme = "token",
        lang: str = DEFAULT_LANG,
        backoff_factor: float = 0.5,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        super().__init__(
            access_key_id,
            access_key_secret,
            host,
            timeout=timeout,
            retries=retries,
            auth=auth,
            lang=lang,
            backoff_factor=backoff_factor,
        )
        self._http = httpx.Client(transport=transport, **self._client_options)
        self._token_lock = threading.Lock()

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

    # ------------------------------------------------------------------------------------- I/O
    def _call(self, op: ops.Operation[T]) -> T:
        if self._tokens is None:
            return self._result(op, self._send(op, self._signature))
        token = self._token()
        try:
            return self._result(op, self._send(op, BearerAuth(token)))
        except AuthenticationError:
            self._tokens.invalidate(token)  # refused: fetch a new token and try once more
            return self._result(op, self._send(op, BearerAuth(self._token())))

    def _token(self) -> str:
        assert self._tokens is not None
        with self._token_lock:
            token = self._tokens.current()
            if token is None:
                token = self._store_token(self._send(self._token_operation(), None))
            return token

    def _send(self, op: ops.Operation[Any], auth: httpx.Auth | None) -> Mapping[str, Any]:
        attempt = 0
        while True:
            try:
                return decode_envelope(self._http.send(op.build_request(self._http), auth=auth))
            except _RETRYABLE as exc:
                if not self._policy.should_retry(exc, op.idempotent, attempt):
                    if isinstance(exc, httpx.HTTPError):
                        raise transport_error(exc) from exc
                    raise
            time.sleep(self._policy.delay(attempt))
            attempt += 1

    # ------------------------------------------------------------------------------------- MFA
    def set_users_mfa_status(
        self,
        mfa_trigger_data: MfaTriggerData | Mapping[str, Any],
        user_id: str,
        user_id_type: UserIdType | str | None = None,
        *,
        version: int | None = None,
    ) -> int:
        """Replace the user's MFA status (``POST /api/v3/set-mfa-status``); return its new version.

        With ``version`` (from ``get_user_mfa_status``) the write succeeds only if nobody wrote in
        between, else :class:`VersionConflictError`. An :class:`MfaStatus` read back may be passed
        as ``mfa_trigger_data`` (give it a non-empty ``mfa_token``).
        """
        return self._call(ops.set_users_mfa_status(mfa_trigger_data, user_id, user_id_type, version))

    def get_user_mfa_status(self, user_id: str, user_id_type: UserIdType | str | None = None) -> MfaStatus:
        """The user's stored MFA status and its ``version`` (``GET /api/v3/get-mfa-status``)."""
        return self._call(ops.get_user_mfa_status(user_id, user_id_type))

    def get_user_mfa_info(self, user_id: str, user_id_type: UserIdType | str | None = None) -> UserMfaInfo:
        """Which factors are enabled *and* bound for the user (``GET /api/v3/get-user-mfa-info``)."""
        return self._call(ops.get_user_mfa_info(user_id, user_id_type))

    def get_mfa_trigger_data(
        self, app_id: str, user_id: str, user_id_type: UserIdType | str | None = None
    ) -> MfaStatus:
        """The user's MFA status as application ``app_id`` sees it (``GET /api/v3/get-mfa-trigger-data``)."""
        return self._call(ops.get_mfa_trigger_data(app_id, user_id, user_id_type))

    def update_application_mfa_settings(
        self,
        app_id: str,
        enabled_factors: Iterable[Factor | str] | None = None,
        disabled_factors: Iterable[Factor | str] | None = None,
    ) -> MfaSettings:
        """Switch factors on/off for one application; return its resulting factors."""
        return self._call(ops.update_application_mfa_settings(app_id, enabled_factors, disabled_factors))

    def get_global_mfa_settings(self) -> MfaSettings:
        """The user pool's enabled factors."""
        return self._call(ops.get_global_mfa_settings())

    def update_global_mfa_settings(self, enabled_factors: Iterable[Factor | str]) -> MfaSettings:
        """Make ``enabled_factors`` exactly the pool's factors; return the result."""
        return self._call(ops.update_global_mfa_settings(enabled_factors))

    def disable_global_mfa_settings(self, disable_factors: Iterable[Factor | str]) -> MfaSettings:
        """Remove factors from the pool (Node SDK's ``closeGlobalMfaSettings``); return the result."""
        return self._call(ops.disable_global_mfa_settings(disable_factors))

    def import_otp(self, list: Iterable[ImportOtpItem | Mapping[str, Any]]) -> None:
        """Bind existing TOTP authenticators to users (all items or none)."""
        return self._call(ops.import_otp(list))

    def get_otp_secret_by_user(self, user_id: str, user_id_type: UserIdType | str | None = None) -> str:
        """The user's TOTP secret in clear (needs the ``otp:read-secret`` permission; audited)."""
        return self._call(ops.get_otp_secret_by_user(user_id, user_id_type))

    # ----------------------------------------------------------------------------------- users
    def create_user(self, **fields: Unpack[CreateUserFields]) -> User:
        """Create a user; give at least one of ``username``, ``email``, ``phone``."""
        return self._call(ops.create_user(fields))

    def create_users_batch(
        self, list: Iterable[Mapping[str, Any]], options: Mapping[str, Any] | None = None
    ) -> builtins.list[User]:
        """Create several users (all or none); each item is a wire (camelCase) ``CreateUserInfoDto``."""
        return self._call(ops.create_users_batch(list, options))

    def get_user(
        self,
        user_id: str,
        user_id_type: UserIdType | str | None = None,
        flat_custom_data: bool | None = None,
        with_custom_data: bool | None = None,
        with_post: bool | None = None,
        with_identities: bool | None = None,
    ) -> User:
        """One user; :class:`NotFoundError` (apiCode 40401) if none matches."""
        return self._call(
            ops.get_user(
                user_id, user_id_type, flat_custom_data, with_custom_data, with_post, with_identities
            )
        )

    def get_user_batch(
        self,
        user_ids: Sequence[str] | str,
        user_id_type: UserIdType | str | None = None,
        with_custom_data: bool | None = None,
        flat_custom_data: bool | None = None,
        with_identities: bool | None = None,
    ) -> builtins.list[User]:
        """Several users by identifiers of one ``user_id_type``."""
        return self._call(
            ops.get_user_batch(user_ids, user_id_type, with_custom_data, flat_custom_data, with_identities)
        )

    def list_users(
        self,
        keywords: str | None = None,
        advanced_filter: Sequence[Mapping[str, Any]] | None = None,
        search_query: Mapping[str, Any] | None = None,
        options: Mapping[str, Any] | None = None,
    ) -> Page[User]:
        """Search users (``POST /api/v3/list-users``); ``options={"pagination": {"page", "limit"}}``."""
        return self._call(ops.list_users(keywords, advanced_filter, search_query, options))

    def list_users_legacy(
        self,
        page: int | None = None,
        limit: int | None = None,
        status: str | None = None,
        updated_at_start: int | None = None,
        updated_at_end: int | None = None,
        with_custom_data: bool | None = None,
        with_post: bool | None = None,
        with_identities: bool | None = None,
    ) -> Page[User]:
        """Page through users (``GET /api/v3/list-users``); times are UNIX seconds."""
        return self._call(
            ops.list_users_legacy(
                page,
                limit,
                status,
                updated_at_start,
                updated_at_end,
                with_custom_data,
                with_post,
                with_identities,
            )
        )

    def update_user(self, user_id: str, **fields: Unpack[UpdateUserFields]) -> User:
        """Change a user's attributes; ``options={"userIdType": "email"}`` selects the id type."""
        return self._call(ops.update_user(user_id, fields))

    def update_user_batch(
        self, list: Iterable[Mapping[str, Any]], options: Mapping[str, Any] | None = None
    ) -> builtins.list[User]:
        """Update several users (all or none); each item is a wire dict with the internal ``userId``."""
        return self._call(ops.update_user_batch(list, options))

    def delete_users_batch(self, user_ids: Sequence[str], options: Mapping[str, Any] | None = None) -> None:
        """Delete users; ``options={"userIdType": ...}`` selects the id type."""
        return self._call(ops.delete_users_batch(user_ids, options))

    def is_user_exists(
        self,
        username: str | None = None,
        email: str | None = None,
        phone: str | None = None,
        external_id: str | None = None,
    ) -> bool:
        """Whether a user matches any of the given identifiers (give at least one)."""
        return self._call(ops.is_user_exists(username, email, phone, external_id))

    def link_identity(
        self,
        user_id_in_idp: str,
        user_id: str,
        ext_idp_id: str,
        type: str | None = None,
        is_social: bool | None = None,
    ) -> None:
        """Link an external identity to the user with internal id ``user_id``."""
        return self._call(ops.link_identity(user_id_in_idp, user_id, ext_idp_id, type, is_social))

    def unlink_identity(
        self, user_id: str, ext_idp_id: str, type: str | None = None, is_social: bool | None = None
    ) -> None:
        """Remove all of the user's identities under identity source ``ext_idp_id``."""
        return self._call(ops.unlink_identity(user_id, ext_idp_id, type, is_social))

    def get_user_identities(
        self, user_id: str, user_id_type: UserIdType | str | None = None
    ) -> builtins.list[Identity]:
        """The user's linked external identities."""
        return self._call(ops.get_user_identities(user_id, user_id_type))

    def get_user_login_history(
        self,
        user_id: str,
        user_id_type: UserIdType | str | None = None,
        app_id: str | None = None,
        client_ip: str | None = None,
        start: int | None = None,
        end: int | None = None,
        page: int | None = None,
        limit: int | None = None,
    ) -> Page[LoginHistoryEntry]:
        """The user's sign-ins; ``start``/``end`` are millisecond timestamps."""
        return self._call(
            ops.get_user_login_history(user_id, user_id_type, app_id, client_ip, start, end, page, limit)
        )

    # ---------------------------------------------------------------------------- applications
    def create_application(self, app_name: str, **fields: Unpack[CreateApplicationFields]) -> Application:
        """Create an application; ``app_identifier`` must be unique in the pool."""
        return self._call(ops.create_application(app_name, fields))

    def set_application_auth_method(self, app_id: str, token_endpoint_auth_method: str) -> str:
        """How the application authenticates when it signs users in: ``client_secret_post``,
        ``client_secret_basic`` (confidential) or ``none`` (a public app); returns the method set
        (Twofold extension)."""
        return self._call(ops.set_application_auth_method(app_id, token_endpoint_auth_method))

    def rotate_application_secret(self, app_id: str) -> str:
        """A new client secret for the application, returned this once; the old one stops working."""
        return self._call(ops.rotate_application_secret(app_id))

    def get_application(self, app_id: str) -> Application:
        """One application; :class:`NotFoundError` (apiCode 40402) if unknown."""
        return self._call(ops.get_application(app_id))

    def list_applications(
        self,
        page: int | None = None,
        limit: int | None = None,
        is_integrate_app: bool | None = None,
        is_self_built_app: bool | None = None,
        sso_enabled: bool | None = None,
        keywords: str | None = None,
        all: bool | None = None,
    ) -> Page[Application]:
        """Page through applications (the boolean filters are accepted and ignored by Twofold)."""
        return self._call(
            ops.list_applications(
                page, limit, is_integrate_app, is_self_built_app, sso_enabled, keywords, all
            )
        )

    # -------------------------------------------------------------------------- Twofold extras
    def list_audit_events(
        self,
        user_id: str | None = None,
        action: str | None = None,
        before_id: int | None = None,
        limit: int | None = None,
    ) -> builtins.list[AuditEvent]:
        """Audit events, newest first; page with ``before_id=<id of the last event seen>``."""
        return self._call(ops.list_audit_events(user_id, action, before_id, limit))

    def get_mfa_lock_status(self, user_id: str, user_id_type: UserIdType | str | None = None) -> MfaLockStatus:
        """Every factor's failed verifications and lock for one user (Twofold extension)."""
        return self._call(ops.get_mfa_lock_status(user_id, user_id_type))

    def unlock_mfa(
        self, user_id: str, user_id_type: UserIdType | str | None = None, factor: Factor | str | None = None
    ) -> builtins.list[Factor]:
        """Clear the failure count, and so the lock, of ``factor`` (default: every factor); the
        factors that had one (Twofold extension)."""
        return self._call(ops.unlock_mfa(user_id, user_id_type, factor))

    def reset_mfa_factor(
        self, user_id: str, user_id_type: UserIdType | str | None = None, factor: Factor | str | None = None
    ) -> MfaResetResult:
        """Forget ``factor`` (default: every factor) for the user, with its counters; resetting OTP
        removes the authenticator, so the next sign-in enrols a new one (Twofold extension)."""
        return self._call(ops.reset_mfa_factor(user_id, user_id_type, factor))

    def set_sync_relation(
        self, user_id: str, provider: str, user_id_in_idp: str, user_id_type: UserIdType | str | None = None
    ) -> None:
        """Bind ``<provider>:<user_id_in_idp>`` to a user, for ``UserIdType.SYNC_RELATION`` lookups."""
        return self._call(ops.set_sync_relation(user_id, provider, user_id_in_idp, user_id_type))


class AsyncManagementClient(_BaseClient):
    """The ``asyncio`` twin of :class:`ManagementClient`: the same arguments and methods, awaited.

    ::

        async with AsyncManagementClient(access_key_id=AK, access_key_secret=SK, host=HOST) as c:
            status = await c.get_user_mfa_status("alice", UserIdType.USERNAME)

    ``transport`` may be any ``httpx.AsyncBaseTransport``, e.g. ``httpx.ASGITransport(app=app)`` to
    talk to an in-process Twofold app.
    """

    def __init__(
        self,
        access_key_id: str,
        access_key_secret: str,
        host: str = DEFAULT_HOST,
        *,
        timeout: float | None = DEFAULT_TIMEOUT,
        retries: int = 2,
        auth: AuthScheme = "token",
        lang: str = DEFAULT_LANG,
        backoff_factor: float = 0.5,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        super().__init__(
            access_key_id,
            access_key_secret,
            host,
            timeout=timeout,
            retries=retries,
            auth=auth,
            lang=lang,
            backoff_factor=backoff_factor,
        )
        self._http = httpx.AsyncClient(transport=transport, **self._client_options)
        self._token_lock = asyncio.Lock()

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

    # ------------------------------------------------------------------------------------- I/O
    async def _call(self, op: ops.Operation[T]) -> T:
        if self._tokens is None:
            return self._result(op, await self._send(op, self._signature))
        token = await self._token()
        try:
            return self._result(op, await self._send(op, BearerAuth(token)))
        except AuthenticationError:
            self._tokens.invalidate(token)  # refused: fetch a new token and try once more
            return self._result(op, await self._send(op, BearerAuth(await self._token())))

    async def _token(self) -> str:
        assert self._tokens is not None
        async with self._token_lock:
            token = self._tokens.current()
            if token is None:
                token = self._store_token(await self._send(self._token_operation(), None))
            return token

    async def _send(self, op: ops.Operation[Any], auth: httpx.Auth | None) -> Mapping[str, Any]:
        attempt = 0
        while True:
            try:
                return decode_envelope(await self._http.send(op.build_request(self._http), auth=auth))
            except _RETRYABLE as exc:
                if not self._policy.should_retry(exc, op.idempotent, attempt):
                    if isinstance(exc, httpx.HTTPError):
                        raise transport_error(exc) from exc
                    raise
            await asyncio.sleep(self._policy.delay(attempt))
            attempt += 1

    # ------------------------------------------------------------------------------------- MFA
    async def set_users_mfa_status(
        self,
        mfa_trigger_data: MfaTriggerData | Mapping[str, Any],
        user_id: str,
        user_id_type: UserIdType | str | None = None,
        *,
        version: int | None = None,
    ) -> int:
        """Replace the user's MFA status (``POST /api/v3/set-mfa-status``); return its new version.

        With ``version`` (from ``get_user_mfa_status``) the write succeeds only if nobody wrote in
        between, else :class:`VersionConflictError`. An :class:`MfaStatus` read back may be passed
        as ``mfa_trigger_data`` (give it a non-empty ``mfa_token``).
        """
        return await self._call(ops.set_users_mfa_status(mfa_trigger_data, user_id, user_id_type, version))

    async def get_user_mfa_status(
        self, user_id: str, user_id_type: UserIdType | str | None = None
    ) -> MfaStatus:
        """The user's stored MFA status and its ``version`` (``GET /api/v3/get-mfa-status``)."""
        return await self._call(ops.get_user_mfa_status(user_id, user_id_type))

    async def get_user_mfa_info(
        self, user_id: str, user_id_type: UserIdType | str | None = None
    ) -> UserMfaInfo:
        """Which factors are enabled *and* bound for the user (``GET /api/v3/get-user-mfa-info``)."""
        return await self._call(ops.get_user_mfa_info(user_id, user_id_type))

    async def get_mfa_trigger_data(
        self, app_id: str, user_id: str, user_id_type: UserIdType | str | None = None
    ) -> MfaStatus:
        """The user's MFA status as application ``app_id`` sees it (``GET /api/v3/get-mfa-trigger-data``)."""
        return await self._call(ops.get_mfa_trigger_data(app_id, user_id, user_id_type))

    async def update_application_mfa_settings(
        self,
        app_id: str,
        enabled_factors: Iterable[Factor | str] | None = None,
        disabled_factors: Iterable[Factor | str] | None = None,
    ) -> MfaSettings:
        """Switch factors on/off for one application; return its resulting factors."""
        return await self._call(
            ops.update_application_mfa_settings(app_id, enabled_factors, disabled_factors)
        )

    async def get_global_mfa_settings(self) -> MfaSettings:
        """The user pool's enabled factors."""
        return await self._call(ops.get_global_mfa_settings())

    async def update_global_mfa_settings(self, enabled_factors: Iterable[Factor | str]) -> MfaSettings:
        """Make ``enabled_factors`` exactly the pool's factors; return the result."""
        return await self._call(ops.update_global_mfa_settings(enabled_factors))

    async def disable_global_mfa_settings(self, disable_factors: Iterable[Factor | str]) -> MfaSettings:
        """Remove factors from the pool (Node SDK's ``closeGlobalMfaSettings``); return the result."""
        return await self._call(ops.disable_global_mfa_settings(disable_factors))

    async def import_otp(self, list: Iterable[ImportOtpItem | Mapping[str, Any]]) -> None:
        """Bind existing TOTP authenticators to users (all items or none)."""
        return await self._call(ops.import_otp(list))

    async def get_otp_secret_by_user(self, user_id: str, user_id_type: UserIdType | str | None = None) -> str:
        """The user's TOTP secret in clear (needs the ``otp:read-secret`` permission; audited)."""
        return await self._call(ops.get_otp_secret_by_user(user_id, user_id_type))

    # ----------------------------------------------------------------------------------- users
    async def create_user(self, **fields: Unpack[CreateUserFields]) -> User:
        """Create a user; give at least one of ``username``, ``email``, ``phone``."""
        return await self._call(ops.create_user(fields))

    async def create_users_batch(
        self, list: Iterable[Mapping[str, Any]], options: Mapping[str, Any] | None = None
    ) -> builtins.list[User]:
        """Create several users (all or none); each item is a wire (camelCase) ``CreateUserInfoDto``."""
        return await self._call(ops.create_users_batch(list, options))

    async def get_user(
        self,
        user_id: str,
        user_id_type: UserIdType | str | None = None,
        flat_custom_data: bool | None = None,
        with_custom_data: bool | None = None,
        with_post: bool | None = None,
        with_identities: bool | None = None,
    ) -> User:
        """One user; :class:`NotFoundError` (apiCode 40401) if none matches."""
        return await self._call(
            ops.get_user(
                user_id, user_id_type, flat_custom_data, with_custom_data, with_post, with_identities
            )
        )

    async def get_user_batch(
        self,
        user_ids: Sequence[str] | str,
        user_id_type: UserIdType | str | None = None,
        with_custom_data: bool | None = None,
        flat_custom_data: bool | None = None,
        with_identities: bool | None = None,
    ) -> builtins.list[User]:
        """Several users by identifiers of one ``user_id_type``."""
        return await self._call(
            ops.get_user_batch(user_ids, user_id_type, with_custom_data, flat_custom_data, with_identities)
        )

    async def list_users(
        self,
        keywords: str | None = None,
        advanced_filter: Sequence[Mapping[str, Any]] | None = None,
        search_query: Mapping[str, Any] | None = None,
        options: Mapping[str, Any] | None = None,
    ) -> Page[User]:
        """Search users (``POST /api/v3/list-users``); ``options={"pagination": {"page", "limit"}}``."""
        return await self._call(ops.list_users(keywords, advanced_filter, search_query, options))

    async def list_users_legacy(
        self,
        page: int | None = None,
        limit: int | None = None,
        status: str | None = None,
        updated_at_start: int | None = None,
        updated_at_end: int | None = None,
        with_custom_data: bool | None = None,
        with_post: bool | None = None,
        with_identities: bool | None = None,
    ) -> Page[User]:
        """Page through users (``GET /api/v3/list-users``); times are UNIX seconds."""
        return await self._call(
            ops.list_users_legacy(
                page,
                limit,
                status,
                updated_at_start,
                updated_at_end,
                with_custom_data,
                with_post,
                with_identities,
            )
        )

    async def update_user(self, user_id: str, **fields: Unpack[UpdateUserFields]) -> User:
        """Change a user's attributes; ``options={"userIdType": "email"}`` selects the id type."""
        return await self._call(ops.update_user(user_id, fields))

    async def update_user_batch(
        self, list: Iterable[Mapping[str, Any]], options: Mapping[str, Any] | None = None
    ) -> builtins.list[User]:
        """Update several users (all or none); each item is a wire dict with the internal ``userId``."""
        return await self._call(ops.update_user_batch(list, options))

    async def delete_users_batch(
        self, user_ids: Sequence[str], options: Mapping[str, Any] | None = None
    ) -> None:
        """Delete users; ``options={"userIdType": ...}`` selects the id type."""
        return await self._call(ops.delete_users_batch(user_ids, options))

    async def is_user_exists(
        self,
        username: str | None = None,
        email: str | None = None,
        phone: str | None = None,
        external_id: str | None = None,
    ) -> bool:
        """Whether a user matches any of the given identifiers (give at least one)."""
        return await self._call(ops.is_user_exists(username, email, phone, external_id))

    async def link_identity(
        self,
        user_id_in_idp: str,
        user_id: str,
        ext_idp_id: str,
        type: str | None = None,
        is_social: bool | None = None,
    ) -> None:
        """Link an external identity to the user with internal id ``user_id``."""
        return await self._call(ops.link_identity(user_id_in_idp, user_id, ext_idp_id, type, is_social))

    async def unlink_identity(
        self, user_id: str, ext_idp_id: str, type: str | None = None, is_social: bool | None = None
    ) -> None:
        """Remove all of the user's identities under identity source ``ext_idp_id``."""
        return await self._call(ops.unlink_identity(user_id, ext_idp_id, type, is_social))

    async def get_user_identities(
        self, user_id: str, user_id_type: UserIdType | str | None = None
    ) -> builtins.list[Identity]:
        """The user's linked external identities."""
        return await self._call(ops.get_user_identities(user_id, user_id_type))

    async def get_user_login_history(
        self,
        user_id: str,
        user_id_type: UserIdType | str | None = None,
        app_id: str | None = None,
        client_ip: str | None = None,
        start: int | None = None,
        end: int | None = None,
        page: int | None = None,
        limit: int | None = None,
    ) -> Page[LoginHistoryEntry]:
        """The user's sign-ins; ``start``/``end`` are millisecond timestamps."""
        return await self._call(
            ops.get_user_login_history(user_id, user_id_type, app_id, client_ip, start, end, page, limit)
        )

    # ---------------------------------------------------------------------------- applications
    async def create_application(
        self, app_name: str, **fields: Unpack[CreateApplicationFields]
    ) -> Application:
        """Create an application; ``app_identifier`` must be unique in the pool."""
        return await self._call(ops.create_application(app_name, fields))

    async def set_application_auth_method(self, app_id: str, token_endpoint_auth_method: str) -> str:
        """How the application authenticates when it signs users in: ``client_secret_post``,
        ``client_secret_basic`` (confidential) or ``none`` (a public app); returns the method set
        (Twofold extension)."""
        return await self._call(ops.set_application_auth_method(app_id, token_endpoint_auth_method))

    async def rotate_application_secret(self, app_id: str) -> str:
        """A new client secret for the application, returned this once; the old one stops working."""
        return await self._call(ops.rotate_application_secret(app_id))

    async def get_application(self, app_id: str) -> Application:
        """One application; :class:`NotFoundError` (apiCode 40402) if unknown."""
        return await self._call(ops.get_application(app_id))

    async def list_applications(
        self,
        page: int | None = None,
        limit: int | None = None,
        is_integrate_app: bool | None = None,
        is_self_built_app: bool | None = None,
        sso_enabled: bool | None = None,
        keywords: str | None = None,
        all: bool | None = None,
    ) -> Page[Application]:
        """Page through applications (the boolean filters are accepted and ignored by Twofold)."""
        return await self._call(
            ops.list_applications(
                page, limit, is_integrate_app, is_self_built_app, sso_enabled, keywords, all
            )
        )

    # -------------------------------------------------------------------------- Twofold extras
    async def list_audit_events(
        self,
        user_id: str | None = None,
        action: str | None = None,
        before_id: int | None = None,
        limit: int | None = None,
    ) -> builtins.list[AuditEvent]:
        """Audit events, newest first; page with ``before_id=<id of the last event seen>``."""
        return await self._call(ops.list_audit_events(user_id, action, before_id, limit))

    async def get_mfa_lock_status(self, user_id: str, user_id_type: UserIdType | str | None = None) -> MfaLockStatus:
        """Every factor's failed verifications and lock for one user (Twofold extension)."""
        return await self._call(ops.get_mfa_lock_status(user_id, user_id_type))

    async def unlock_mfa(
        self, user_id: str, user_id_type: UserIdType | str | None = None, factor: Factor | str | None = None
    ) -> builtins.list[Factor]:
        """Clear the failure count, and so the lock, of ``factor`` (default: every factor); the
        factors that had one (Twofold extension)."""
        return await self._call(ops.unlock_mfa(user_id, user_id_type, factor))

    async def reset_mfa_factor(
        self, user_id: str, user_id_type: UserIdType | str | None = None, factor: Factor | str | None = None
    ) -> MfaResetResult:
        """Forget ``factor`` (default: every factor) for the user, with its counters; resetting OTP
        removes the authenticator, so the next sign-in enrols a new one (Twofold extension)."""
        return await self._call(ops.reset_mfa_factor(user_id, user_id_type, factor))

    async def set_sync_relation(
        self, user_id: str, provider: str, user_id_in_idp: str, user_id_type: UserIdType | str | None = None
    ) -> None:
        """Bind ``<provider>:<user_id_in_idp>`` to a user, for ``UserIdType.SYNC_RELATION`` lookups."""
        return await self._call(ops.set_sync_relation(user_id, provider, user_id_in_idp, user_id_type))
