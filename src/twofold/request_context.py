"""Per-request facts (request id, language, the envelope's statusCode) in context variables.

Neutral ground: the HTTP middleware binds them (``api/middleware.py``), the envelope and the log
format read them (``logs.py``), and neither of those has to import the other's layer.
"""

from __future__ import annotations

import logging
from contextvars import ContextVar
from dataclasses import dataclass

_request_id: ContextVar[str] = ContextVar("twofold_request_id", default="-")
_lang: ContextVar[str] = ContextVar("twofold_lang", default="en-US")


@dataclass
class Outcome:
    """What the answer said, filled in while the request is served (a mutable holder, so that a value
    set in a task the framework spawned still reaches the middleware that bound it)."""

    status_code: int | None = None  # the envelope's statusCode; None: the answer had no envelope


_outcome: ContextVar[Outcome | None] = ContextVar("twofold_outcome", default=None)


def current_request_id() -> str:
    return _request_id.get()


def current_lang() -> str:
    return _lang.get()


def bind(request_id: str, lang: str) -> Outcome:
    _request_id.set(request_id)
    _lang.set(lang)
    outcome = Outcome()
    _outcome.set(outcome)
    return outcome


def note_status_code(status_code: int) -> None:
    """The envelope being rendered answers ``status_code`` (for the request metrics)."""
    outcome = _outcome.get()
    if outcome is not None:
        outcome.status_code = status_code


class RequestIdFilter(logging.Filter):
    """Adds ``request_id`` to every log record."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = _request_id.get()
        return True
