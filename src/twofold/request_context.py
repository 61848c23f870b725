"""Per-request facts (request id, language) in context variables.

Neutral ground: the HTTP middleware binds them (``api/middleware.py``), the envelope and the log
format read them (``logs.py``), and neither of those has to import the other's layer.
"""

from __future__ import annotations

import logging
from contextvars import ContextVar

_request_id: ContextVar[str] = ContextVar("twofold_request_id", default="-")
_lang: ContextVar[str] = ContextVar("twofold_lang", default="en-US")


def current_request_id() -> str:
    return _request_id.get()


def current_lang() -> str:
    return _lang.get()


def bind(request_id: str, lang: str) -> None:
    _request_id.set(request_id)
    _lang.set(lang)


class RequestIdFilter(logging.Filter):
    """Adds ``request_id`` to every log record."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = _request_id.get()
        return True
