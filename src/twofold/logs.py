"""Log format: one line per record, with the request id; plain text, or one JSON object per line."""

from __future__ import annotations

import logging
from datetime import UTC, datetime

import orjson

from twofold.request_context import RequestIdFilter

_FORMAT = "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"


class JsonFormatter(logging.Formatter):
    """``{time, level, logger, requestId, message}`` (and ``exception``) on one line.  The message is
    the same text the plain format writes, so what is kept out of one is kept out of the other."""

    def format(self, record: logging.LogRecord) -> str:
        line = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "requestId": getattr(record, "request_id", "-"),
            "message": record.getMessage(),
        }
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return orjson.dumps(line).decode()


def configure_logging(level: str = "INFO", log_format: str = "text") -> None:
    root = logging.getLogger()
    if any(getattr(h, "_twofold", False) for h in root.handlers):
        return
    handler = logging.StreamHandler()
    handler.setFormatter(JsonFormatter() if log_format == "json" else logging.Formatter(_FORMAT))
    handler.addFilter(RequestIdFilter())
    handler._twofold = True  # type: ignore[attr-defined]
    root.addHandler(handler)
    root.setLevel(level.upper())
