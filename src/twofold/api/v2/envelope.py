"""The v2 envelope, in one place: the v3 envelope (``api/envelope.py``) plus the member ``code``.

``authing-js-sdk`` returns ``data`` when ``code`` (or ``statusCode``) is 200 and throws otherwise; Guard
reads ``statusCode`` and ``apiCode``.  So a v2 success carries ``code: 200`` next to a 3xx
``statusCode`` and ``apiCode: 1600`` (docs/signin.md#v2-mfa-step), and a v2 error carries its apiCode
as ``code`` too (6001, 6002, 2021).  Always HTTP 200, like every Twofold answer.
"""

from __future__ import annotations

from typing import Any

import orjson
from starlette.responses import Response

from twofold.api import envelope
from twofold.api.context import current_lang
from twofold.errors import TwofoldError

SIGNED_IN_STATUS = 302  # Guard ends the flow on a 3xx statusCode; 302 as for apiCode 1636
SIGNED_IN_API_CODE = 1600
_SIGNED_IN = {"en-US": "Signed in", "zh-CN": "登录成功"}
_SENT = {"en-US": "Sent", "zh-CN": "发送成功"}


def signed_in(data: Any, extra: dict[str, Any] | None = None) -> Response:
    """The success of a v2 MFA step: ``{code: 200, statusCode: 302, apiCode: 1600, message, data}``;
    ``extra`` adds top-level members (the new ``recoveryCode``)."""
    message = _SIGNED_IN.get(current_lang(), _SIGNED_IN["en-US"])
    response = envelope.render(SIGNED_IN_STATUS, message, data, SIGNED_IN_API_CODE, 200)
    if not extra:
        return response
    body: dict[str, Any] = orjson.loads(bytes(response.body))
    body.update(extra)
    return Response(orjson.dumps(body), status_code=200, media_type="application/json")


def sent() -> Response:
    """A v2 call that succeeded with nothing to return (a code sent): ``{code: 200, statusCode: 200}``."""
    return envelope.render(200, _SENT.get(current_lang(), _SENT["en-US"]), None, None, 200)


def render_error(error: TwofoldError) -> Response:
    """A v2 error: the usual envelope, with ``code`` equal to the apiCode."""
    return envelope.render(error.status_code, error.message(current_lang()), None, error.api_code, error.api_code)
