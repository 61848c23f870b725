"""What both faces of the ``AuthenticationClient`` share and that does no I/O: configuration, headers,
the client authentication, the retry decision."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

import httpx

from twofold_client._auth import SDK_VERSION
from twofold_client._authentication_operations import AuthMethod, AuthOperation, ClientAuth
from twofold_client._errors import ServerError, TransportError
from twofold_client._transport import RetryPolicy, transport_error

DEFAULT_HOST = "http://127.0.0.1:8080"
DEFAULT_TIMEOUT = 10.0
RETRYABLE = (httpx.HTTPError, ServerError, TransportError)


class BaseAuthenticationClient:
    """Configuration and everything that does no I/O."""

    def __init__(
        self,
        app_id: str,
        app_secret: str | None,
        host: str,
        *,
        token_endpoint_auth_method: AuthMethod,
        timeout: float | None,
        retries: int,
        lang: str,
        backoff_factor: float,
    ) -> None:
        url = urlsplit(host)
        if url.scheme not in ("http", "https") or not url.netloc:
            raise ValueError(f"host must look like http(s)://host[:port], not {host!r}")
        if timeout is not None and timeout <= 0:
            raise ValueError("timeout must be a positive number of seconds, or None for no timeout")
        self._client_auth = ClientAuth(app_id, app_secret, token_endpoint_auth_method)
        self.app_id = app_id
        self.host = host.rstrip("/")
        self.token_endpoint_auth_method: AuthMethod = token_endpoint_auth_method
        self._policy = RetryPolicy(retries=retries, backoff_factor=backoff_factor)
        self._client_options: dict[str, Any] = {
            "base_url": self.host,
            "timeout": timeout,
            "headers": {
                "accept": "application/json",
                "x-authing-app-id": app_id,
                "x-authing-sdk-version": SDK_VERSION,
                "x-authing-lang": lang,
            },
        }

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(host={self.host!r}, app_id={self.app_id!r}, "
            f"token_endpoint_auth_method={self.token_endpoint_auth_method!r})"
        )

    def _give_up(self, exc: Exception, op: AuthOperation[Any], attempt: int) -> Exception | None:
        """The exception to raise now, or ``None`` to retry."""
        if self._policy.should_retry(exc, op.idempotent, attempt):
            return None
        return transport_error(exc) if isinstance(exc, httpx.HTTPError) else exc
