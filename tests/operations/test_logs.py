"""``TWOFOLD_LOG_FORMAT=json``: one JSON object per line, carrying the request id (docs/operations.md#logs)."""

from __future__ import annotations

import logging
import sys

import orjson

from twofold.logs import JsonFormatter
from twofold.request_context import RequestIdFilter, bind


def test_a_json_line_carries_the_request_id_and_the_exception() -> None:
    bind("req-json-0001", "en-US")
    try:
        raise ValueError("boom")
    except ValueError:
        record = logging.getLogger("twofold.test").makeRecord(
            "twofold.test", logging.ERROR, __file__, 1, "user %s failed", ("u-1",), sys.exc_info()
        )
    RequestIdFilter().filter(record)
    line = JsonFormatter().format(record)
    assert "\n" not in line  # one line per record, also with a traceback
    parsed = orjson.loads(line)
    assert parsed["requestId"] == "req-json-0001"
    assert parsed["message"] == "user u-1 failed" and parsed["level"] == "ERROR" and parsed["logger"] == "twofold.test"
    assert "ValueError: boom" in parsed["exception"] and parsed["time"].endswith("+00:00")
