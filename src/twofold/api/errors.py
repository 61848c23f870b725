"""Map every exception to the envelope, in one place.  Routes never catch domain errors."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

import orjson
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException
from starlette.responses import Response

from twofold.api.context import current_lang
from twofold.api.envelope import render
from twofold.api.v2 import PREFIX as V2_PREFIX
from twofold.api.v2 import envelope as v2_envelope
from twofold.errors import (
    AuthenticationFailed,
    InvalidParameter,
    MalformedBody,
    OAuthError,
    PageLimitExceeded,
    RouteNotFound,
    TwofoldError,
    parameter_name,
)

log = logging.getLogger("twofold.errors")


def render_error(error: TwofoldError) -> Response:
    return render(error.status_code, error.message(current_lang()), None, error.api_code)


async def on_twofold_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, TwofoldError)
    if isinstance(exc, OAuthError):  # the standard /oidc endpoints answer as RFC 6749 §5.2 says
        log.warning("oauth %s: %s", exc.oauth_error, exc.reason)
        return oauth_error_response(exc)
    if isinstance(exc, AuthenticationFailed):
        log.warning("authentication failed: %s", exc.reason)
    elif exc.status_code >= 500:
        log.error("internal error: %r", exc)
    if request.url.path.startswith(V2_PREFIX + "/"):  # v2 answers also carry ``code``
        return v2_envelope.render_error(exc)
    return render_error(exc)


def oauth_error_response(error: OAuthError) -> Response:
    body = {"error": error.oauth_error, "error_description": error.message(current_lang())}
    headers = {"Cache-Control": "no-store"}
    if error.http_status == 401:
        headers["WWW-Authenticate"] = 'Basic realm="twofold"'
    return Response(orjson.dumps(body), status_code=error.http_status, media_type="application/json", headers=headers)


def field_name(loc: tuple[Any, ...]) -> str:
    """('body', 'mfaTriggerData', 'applicationMfa', 0, 'status') -> mfaTriggerData.applicationMfa[0].status"""
    text = ""
    for part in loc:
        if part in ("body", "query") and not text:
            continue
        if isinstance(part, int):
            text += f"[{part}]"
        elif isinstance(part, str) and not part.startswith(("function-", "union[")):
            text += f".{part}" if text else part
    return text or "body"


def validation_error(first: Mapping[str, Any]) -> TwofoldError:
    """The Twofold error of pydantic's first complaint about a request (body or query)."""
    if first.get("type") == "json_invalid":
        return MalformedBody()
    path = field_name(tuple(first.get("loc", ())))
    if first.get("type") == "less_than_equal" and parameter_name(path) == "limit":
        context = first.get("ctx")
        maximum = context.get("le", 50) if isinstance(context, dict) else 50
        return PageLimitExceeded(path, int(maximum))  # GenAuth's own wording for a page too large
    return InvalidParameter(path, str(first.get("msg", "")))


async def on_validation_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    errors = exc.errors()
    error = validation_error(errors[0] if errors else {"loc": ("body",), "msg": "invalid"})
    if request.url.path.startswith(V2_PREFIX + "/"):
        return v2_envelope.render_error(error)
    return render_error(error)


async def on_http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    if exc.status_code in (404, 405):
        return render_error(RouteNotFound())
    return render(exc.status_code, str(exc.detail), None, 40000 + exc.status_code)


async def on_unexpected(request: Request, exc: Exception) -> Response:
    log.exception("unhandled error")
    return render_error(TwofoldError())


def install(app: FastAPI) -> None:
    app.add_exception_handler(TwofoldError, on_twofold_error)
    app.add_exception_handler(RequestValidationError, on_validation_error)
    app.add_exception_handler(HTTPException, on_http_error)
    app.add_exception_handler(Exception, on_unexpected)
