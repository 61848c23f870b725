"""Log format: one line per record, with the request id."""

from __future__ import annotations

import logging

from twofold.request_context import RequestIdFilter

_FORMAT = "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"


def configure_logging(level: str = "INFO") -> None:
    root = logging.getLogger()
    if any(getattr(h, "_twofold", False) for h in root.handlers):
        return
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter(_FORMAT))
    handler.addFilter(RequestIdFilter())
    handler._twofold = True  # type: ignore[attr-defined]
    root.addHandler(handler)
    root.setLevel(level.upper())
