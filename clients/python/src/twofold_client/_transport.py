"""What the sync and async clients share around the I/O: the retry rule, backoff, envelope decoding.

Retry rule
----------
A call is attempted at most ``1 + retries`` times. Between attempts the client sleeps
``min(max_backoff, backoff_factor * 2**attempt)`` seconds plus up to 10 % random jitter.

* Idempotent calls — every GET, and the management-token request — are retried after a connection
  error, a timeout, a network error or a connection the server dropped (``httpx.NetworkError``,
  ``httpx.TimeoutException``, ``httpx.RemoteProtocolError``), an HTTP 5xx response, or an envelope
  whose ``statusCode`` is 500 or above.
* Every other call (a POST that changes something) is retried **only** when the request provably never
  left the client: ``httpx.ConnectError``, ``httpx.ConnectTimeout`` (no connection was made) or
  ``httpx.PoolTimeout`` (no connection was free). A POST that timed out or failed after it was sent is
  never repeated silently, because the server may have applied it; the error is raised instead.
* Business errors (statusCode 4xx) are never retried. With ``auth="token"`` one exception: a 401
  makes the client drop its cached token, fetch a new one and repeat the call once (the server refuses
  a bad token before doing anything, so that is safe for POSTs too).
"""

from __future__ import annotations

import random
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import httpx
from pydantic_core import from_json

from twofold_client._errors import ServerError, TransportError, error_from_envelope

_NOTHING_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)
_TRANSIENT = (httpx.TimeoutException, httpx.NetworkError, httpx.RemoteProtocolError)


@dataclass(frozen=True)
class RetryPolicy:
    retries: int = 2
    backoff_factor: float = 0.5
    max_backoff: float = 8.0
    jitter: float = 0.1

    def __post_init__(self) -> None:
        if self.retries < 0 or self.backoff_factor < 0 or self.max_backoff < 0:
            raise ValueError("retries, backoff_factor and max_backoff must not be negative")

    def delay(self, attempt: int) -> float:
        """Seconds to wait after failed attempt number ``attempt`` (0-based)."""
        base = min(self.max_backoff, self.backoff_factor * 2.0**attempt)
        return min(self.max_backoff, base + random.uniform(0, base * self.jitter))  # noqa: S311

    def should_retry(self, error: Exception, idempotent: bool, attempt: int) -> bool:
        return attempt < self.retries and is_retryable(error, idempotent)


def is_retryable(error: Exception, idempotent: bool) -> bool:
    if isinstance(error, _NOTHING_SENT):
        return True
    if not idempotent:
        return False
    if isinstance(error, (*_TRANSIENT, ServerError)):
        return True
    return isinstance(error, TransportError) and (error.http_status or 0) >= 500


def transport_error(error: httpx.HTTPError) -> TransportError:
    """The SDK's exception for an ``httpx`` failure (raise it ``from error``)."""
    kind = "timed out" if isinstance(error, httpx.TimeoutException) else "failed"
    return TransportError(f"request {kind}: {type(error).__name__}: {error}")


def decode_envelope(response: httpx.Response) -> Mapping[str, Any]:
    """The envelope of a successful call; raise the matching error otherwise."""
    status = response.status_code
    try:
        body = from_json(response.content)  # pydantic's JSON parser: twice the speed of json.loads
    except ValueError:
        raise TransportError(
            f"HTTP {status}: the response is not JSON "
            f"({response.headers.get('content-type', 'no content type')})",
            http_status=status,
        ) from None
    if not isinstance(body, dict) or not isinstance(body.get("statusCode"), int):
        raise TransportError(f"HTTP {status}: the response is not a Twofold envelope", http_status=status)
    if body["statusCode"] != 200:
        if not isinstance(body.get("requestId"), str) and "x-request-id" in response.headers:
            body = {**body, "requestId": response.headers["x-request-id"]}
        raise error_from_envelope(body)
    if not response.is_success:
        raise TransportError(f"HTTP {status} with a success envelope", http_status=status)
    return body
