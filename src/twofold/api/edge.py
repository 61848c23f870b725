"""Limits at the edge (docs/operations.md#limits-at-the-edge): what a client may cost before it is cut off.

* ``BodyLimitMiddleware``: a body over ``max_body_bytes`` is refused with ``BodyTooLarge`` (statusCode 413
  in the envelope), by its ``content-length`` before a byte of it is read, or counted as a chunked body
  streams in.  Nothing was done: the route never ran, or failed reading its body.
* ``GuardedHttpToolsProtocol``: uvicorn's httptools protocol with two limits it lacks.  The request
  line and headers must arrive within ``header_timeout_seconds`` of the connection (or of the first
  byte of a later request on it), and may be at most ``max_header_bytes`` long; otherwise the
  connection is answered 408 or 431 and closed.  Without this a client that sends a header byte every
  few seconds (slowloris) holds its connection, and a slot of uvicorn's ``limit_concurrency``, forever:
  uvicorn's keep-alive timer only runs between requests.

``twofold serve`` selects the protocol and passes uvicorn its own limits (``cli/main.py``).
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from functools import cache

from starlette.types import ASGIApp, Message, Receive, Scope, Send
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from twofold.api.errors import render_error
from twofold.config import Settings
from twofold.errors import BodyTooLarge

_REASONS = {408: b"Request Timeout", 431: b"Request Header Fields Too Large"}


class BodyLimitMiddleware:
    def __init__(self, app: ASGIApp, max_body_bytes: int) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        for name, value in scope["headers"]:
            if name == b"content-length":
                if not value.isdigit() or int(value) > self.max_body_bytes:
                    await render_error(BodyTooLarge())(scope, receive, send)
                    return
                break
        received = 0

        async def counted() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_body_bytes:
                    raise BodyTooLarge()  # raised into the route's body read: api/errors.py answers it
            return message

        await self.app(scope, counted, send)


@dataclass(frozen=True)
class HeaderLimits:
    timeout_seconds: float
    max_bytes: int


@cache
def header_limits() -> HeaderLimits:
    """Read once per worker process, from the environment ``twofold serve`` was started with."""
    settings = Settings()
    return HeaderLimits(settings.header_timeout_seconds, settings.max_header_bytes)


class GuardedHttpToolsProtocol(HttpToolsProtocol):
    _header_timer: asyncio.TimerHandle | None = None
    _header_bytes = 0
    _in_headers = True  # the bytes arriving now are a request's head
    _tail = b""

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._start_header_timer()

    def _start_header_timer(self) -> None:
        if self._header_timer is None:
            self._header_timer = self.loop.call_later(header_limits().timeout_seconds, self._refuse, 408)

    def _stop_header_timer(self) -> None:
        if self._header_timer is not None:
            self._header_timer.cancel()
            self._header_timer = None

    def data_received(self, data: bytes) -> None:
        if self._in_headers:
            # Count the request's head up to the blank line that ends it, across packets (the last
            # three bytes of the previous one are kept for a terminator split between two).
            seen = self._tail + data
            end = seen.find(b"\r\n\r\n")
            self._header_bytes += len(data) if end < 0 else end + 4 - len(self._tail)
            if self._header_bytes > header_limits().max_bytes:
                self._refuse(431)
                return
            if end < 0:
                self._tail = seen[-3:]
            else:
                self._in_headers, self._tail = False, b""
        super().data_received(data)

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._start_header_timer()  # a later request on a kept-alive connection gets its own deadline

    def on_message_complete(self) -> None:
        super().on_message_complete()
        self._in_headers, self._header_bytes, self._tail = True, 0, b""  # next comes the next request's head

    def on_headers_complete(self) -> None:
        self._stop_header_timer()
        super().on_headers_complete()

    def connection_lost(self, exc: Exception | None) -> None:
        self._stop_header_timer()
        super().connection_lost(exc)

    def _refuse(self, status: int) -> None:
        self._header_timer = None
        if self.transport.is_closing():
            return
        reason = _REASONS[status]
        self.transport.write(
            b"HTTP/1.1 %d %s\r\ncontent-length: 0\r\nconnection: close\r\n\r\n" % (status, reason)
        )
        self.transport.close()
