"""The one renderer of every response body: ``{statusCode, message, apiCode, requestId, data}``.

Business outcomes are always HTTP 200 (the Node SDK throws on anything else); the outcome is
``statusCode``.  The request id and language come from ``context.py``.
"""

from __future__ import annotations

from typing import Any

import orjson
from starlette.responses import Response

from twofold.api.context import current_lang, current_request_id, note_status_code

_SUCCESS = {"en-US": "Operation successful", "zh-CN": "操作成功"}


def render(
    status_code: int, message: str, data: Any, api_code: int | None = None, code: int | None = None
) -> Response:
    """``code`` is the v2 member some GenAuth clients read instead of ``apiCode`` (docs/wire.md#mfa-required)."""
    note_status_code(status_code)
    body: dict[str, Any] = {
        "statusCode": status_code,
        "message": message,
        "requestId": current_request_id(),
        "data": data,
    }
    if api_code is not None:
        body["apiCode"] = api_code
    if code is not None:
        body["code"] = code
    return Response(orjson.dumps(body), status_code=200, media_type="application/json")


def ok(data: Any = None) -> Response:
    return render(200, _SUCCESS.get(current_lang(), _SUCCESS["en-US"]), data)


def page(items: list[Any], total: int) -> Response:
    return ok({"list": items, "totalCount": total})
