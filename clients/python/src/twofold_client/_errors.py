"""The one exception tree of the SDK.

Every failure a client method can raise is a :class:`TwofoldError`::

    TwofoldError                      anything this SDK raises
    ├── ApiError                      the server answered with an envelope whose statusCode is not 200
    │   ├── BadRequestError           statusCode 400 (apiCode 40001-40005: a field is invalid, 40041: a
    │   │                             code channel Twofold does not send for, ...)
    │   │   ├── WrongCodeError        a wrong MFA or enrolment code (apiCode 6001, 6002, 2001, 40062)
    │   │   └── InvalidGrantError     /oidc/token: refresh token invalid, expired, revoked or reused
    │   ├── AuthenticationError       statusCode 401 (apiCode 40100: bad key, secret, token or signature)
    │   ├── PermissionDeniedError     statusCode 403 (apiCode 40300: the key lacks a permission;
    │   │                             40310: a code on an MFA channel to an address not the user's own)
    │   ├── NotFoundError             statusCode 404 (apiCode 40401 user, 40402 application, ...)
    │   ├── ConflictError             statusCode 409 (apiCode 40901 user exists, 40902 identity linked)
    │   │   └── VersionConflictError  apiCode 40903: the ``version`` sent with a write is not current
    │   └── ServerError               statusCode 500 and above (apiCode 50000)
    └── TransportError                no usable envelope: connection refused or reset, timeout,
                                      a body that is not JSON or not the documented shape

:class:`ApiError` carries what the server said: ``status_code`` (the envelope's business status, not
the HTTP status, which Twofold keeps at 200), ``api_code``, ``message``, ``request_id`` (quote it when
reporting a problem: it is in every server log line of that request) and the raw ``body``. Any other
non-200 ``statusCode`` is raised as a plain :class:`ApiError`.

:class:`TransportError` carries ``http_status`` when a response arrived (``None`` otherwise); the
underlying ``httpx`` exception, if any, is its ``__cause__``.

The standard ``/oidc`` endpoints answer RFC 6749 errors (``{error, error_description}`` with the HTTP
status) instead of an envelope; :func:`error_from_oauth` maps them onto the same tree by HTTP status
(``invalid_client`` is an :class:`AuthenticationError`), with ``api_code`` ``None`` and the RFC's
``error`` in ``oauth_error``.

The full list of api codes is in Twofold's ``docs/errors.md``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


class TwofoldError(Exception):
    """Base class of every exception raised by ``twofold_client``."""


class ApiError(TwofoldError):
    """The server refused the call: the envelope's ``statusCode`` is not 200."""

    def __init__(
        self,
        message: str,
        *,
        status_code: int,
        api_code: int | None = None,
        request_id: str | None = None,
        body: Mapping[str, Any] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.status_code = status_code
        self.api_code = api_code
        self.request_id = request_id
        self.body: Mapping[str, Any] = body if body is not None else {}
        raw_error = self.body.get("error")
        self.oauth_error: str | None = raw_error if isinstance(raw_error, str) else None
        """The RFC 6749 ``error`` (``invalid_grant``, ``invalid_client``, ...) of an ``/oidc`` refusal."""

    def __str__(self) -> str:
        return (
            f"{self.message} (statusCode={self.status_code}, apiCode={self.api_code}, "
            f"requestId={self.request_id})"
        )

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(message={self.message!r}, status_code={self.status_code}, "
            f"api_code={self.api_code}, request_id={self.request_id!r})"
        )


class BadRequestError(ApiError):
    """statusCode 400: a parameter is missing, malformed or out of range; the message names it."""


class WrongCodeError(BadRequestError):
    """The code was refused: a wrong, replayed or expired TOTP code (6001), recovery code (6002), SMS or
    email MFA code (2001) or enrolment code (40062). A locked factor looks the same, on purpose. The
    token stays usable, so the user may try again (with the next code, or a fresh one sent)."""


class InvalidGrantError(BadRequestError):
    """``invalid_grant`` from ``/oidc/token``: the refresh token is invalid, expired, revoked or was
    already used (a reuse revokes the whole sign-in). Sign in again."""


class AuthenticationError(ApiError):
    """statusCode 401: unknown or revoked key, wrong secret, bad or expired token, bad signature."""


class PermissionDeniedError(ApiError):
    """statusCode 403: the access key lacks the permission the endpoint needs (40300), or a code on an
    MFA channel was asked for a phone or address that is not the user's own (40310)."""


class NotFoundError(ApiError):
    """statusCode 404: no user, application, ... matches the identifier."""


class ConflictError(ApiError):
    """statusCode 409: the write collides with existing data."""


class VersionConflictError(ConflictError):
    """apiCode 40903: someone else changed the record since you read its ``version``."""


class ServerError(ApiError):
    """statusCode 500 or above: the server failed; the request id finds it in the server log."""


class TransportError(TwofoldError):
    """No envelope could be read: connection error, timeout, non-JSON or unexpected response."""

    def __init__(self, message: str, *, http_status: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.http_status = http_status


VERSION_CONFLICT_API_CODE = 40903
WRONG_CODE_API_CODES = frozenset({6001, 6002, 2001, 40062})
SEND_TARGET_NOT_ALLOWED_API_CODE = 40310
UNSUPPORTED_CHANNEL_API_CODE = 40041
# apiCodes whose class does not depend on the statusCode they come with
_BY_API_CODE: dict[int, type[ApiError]] = {
    VERSION_CONFLICT_API_CODE: VersionConflictError,
    SEND_TARGET_NOT_ALLOWED_API_CODE: PermissionDeniedError,
    UNSUPPORTED_CHANNEL_API_CODE: BadRequestError,
    **{code: WrongCodeError for code in WRONG_CODE_API_CODES},
}
_BY_STATUS: dict[int, type[ApiError]] = {
    400: BadRequestError,
    401: AuthenticationError,
    403: PermissionDeniedError,
    404: NotFoundError,
    409: ConflictError,
}


def error_from_envelope(body: Mapping[str, Any]) -> ApiError:
    """The exception for an envelope whose ``statusCode`` is not 200."""
    raw_status = body.get("statusCode")
    status = raw_status if isinstance(raw_status, int) else 0
    raw_code = body.get("apiCode")
    api_code = raw_code if isinstance(raw_code, int) else None
    raw_id = body.get("requestId")
    request_id = raw_id if isinstance(raw_id, str) else None
    message = str(body.get("message") or f"request failed with statusCode {raw_status!r}")
    cls: type[ApiError]
    if api_code is not None and api_code in _BY_API_CODE:
        cls = _BY_API_CODE[api_code]
    elif status >= 500:
        cls = ServerError
    else:
        cls = _BY_STATUS.get(status, ApiError)
    return cls(message, status_code=status, api_code=api_code, request_id=request_id, body=body)


def error_from_oauth(http_status: int, body: Mapping[str, Any], request_id: str | None = None) -> ApiError:
    """The exception for an RFC 6749 error answer of an ``/oidc`` endpoint (``{error, error_description}``)."""
    error = body.get("error")
    description = body.get("error_description")
    message = str(description or error or f"HTTP {http_status}")
    cls: type[ApiError]
    if error == "invalid_grant":
        cls = InvalidGrantError
    elif http_status >= 500:
        cls = ServerError
    else:
        cls = _BY_STATUS.get(http_status, ApiError)
    return cls(message, status_code=http_status, request_id=request_id, body=body)
