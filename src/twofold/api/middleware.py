"""A pure ASGI middleware: request id, language, path normalisation, one access log line, and the
request metrics (``twofold.metrics``: route template, method, envelope statusCode, latency)."""

from __future__ import annotations

import logging
import re
import time
import uuid

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from twofold import metrics
from twofold.request_context import bind

log = logging.getLogger("twofold.http")
_SLASHES = re.compile(r"/{2,}")
_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:\-]{1,128}$")
_LANG_HEADERS = (b"x-genauth-lang", b"x-authing-lang")


class RequestContextMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = ""
        lang = "en-US"
        for name, value in scope["headers"]:
            if name == b"x-request-id":
                candidate = value.decode("latin-1")
                if _REQUEST_ID.match(candidate):
                    request_id = candidate
            elif name in _LANG_HEADERS and value.strip() == b"zh-CN":
                lang = "zh-CN"
        request_id = request_id or str(uuid.uuid4())
        outcome = bind(request_id, lang)
        if "//" in scope["path"]:  # the Python SDKs concatenate host + path (docs/wire.md#rule-17)
            scope = dict(scope, path=_SLASHES.sub("/", scope["path"]))
        started = time.perf_counter()
        status = 0
        header = (b"x-request-id", request_id.encode())

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message = dict(message, headers=[*message.get("headers", []), header])
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            elapsed = time.perf_counter() - started
            route = scope.get("route")
            template = getattr(route, "path", None) or metrics.UNMATCHED_ROUTE
            answered = outcome.status_code if outcome.status_code is not None else status
            metrics.observe_request(template, scope["method"], str(answered), elapsed)
            if log.isEnabledFor(logging.INFO):
                log.info("%s %s -> %s in %.1f ms", scope["method"], scope["path"], status, elapsed * 1000)
