"""What every console page shares: templates, the session, CSRF, the language, the security headers."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import jinja2
from fastapi import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from twofold.api.proxy import client_address
from twofold.console.i18n import LANG_COOKIE, pick_lang, translator
from twofold.request_context import current_request_id
from twofold.services.console_sessions import ConsoleSession
from twofold.services.container import Services
from twofold.services.context import Caller

PREFIX = "/console"
SESSION_COOKIE = "twofold_console"
SIGNIN_COOKIE = "twofold_console_signin"  # the sign-in form's double-submit value (before a session)
CSRF_FIELD = "csrf"
MAX_FORM_BYTES = 64 * 1024

SECURITY_HEADERS: tuple[tuple[bytes, bytes], ...] = (
    (
        b"content-security-policy",
        b"default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self';"
        b" form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
    ),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"no-referrer"),
    (b"x-content-type-options", b"nosniff"),
    (b"cache-control", b"no-store"),
)

_env = jinja2.Environment(
    loader=jinja2.FileSystemLoader(Path(__file__).resolve().parent / "templates"),
    autoescape=True,  # every template is HTML: every value is escaped unless marked safe (none is)
    trim_blocks=True,
    lstrip_blocks=True,
)


def when(ms: int | None) -> str:
    if ms is None:
        return "—"
    return datetime.fromtimestamp(ms / 1000, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


_env.filters["when"] = when


class SecurityHeaders:
    """Adds the console's security headers to every response it sends, errors and assets included."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message = dict(message, headers=[*message.get("headers", []), *SECURITY_HEADERS])
            await send(message)

        await self.app(scope, receive, with_headers)


class SignInRequired(Exception):
    """No live session: the page redirects to the sign-in form."""


class CsrfRefused(Exception):
    """A state-changing request without this session's token: refused before anything changes."""


def services_of(request: Request) -> Services:
    services: Services = request.app.state.parent.state.services
    return services


def outbox_in_use(request: Request) -> bool:
    """Whether email or SMS codes go to the dev outbox (no transport configured)."""
    delivery = services_of(request).delivery
    return "outbox" in (delivery.email.name, delivery.sms.name)


def lang_of(request: Request) -> str:
    return pick_lang(request.cookies.get(LANG_COOKIE), request.headers.get("accept-language"))


def caller_of(request: Request, session: ConsoleSession) -> Caller:
    return session.caller(current_request_id(), client_address(request))


def render(
    request: Request,
    template: str,
    context: dict[str, Any],
    status_code: int = 200,
    session: ConsoleSession | None = None,
) -> HTMLResponse:
    lang = lang_of(request)
    page = _env.get_template(template).render(
        t=translator(lang),
        lang=lang,
        session=session,
        csrf=session.csrf_token if session else "",
        here=request.url.path + (f"?{request.url.query}" if request.url.query else ""),
        prefix=PREFIX,
        show_outbox=session is not None and outbox_in_use(request),
        **context,
    )
    return HTMLResponse(page, status_code=status_code)


async def current_session(request: Request) -> ConsoleSession:
    """The request's session (a FastAPI dependency); ``SignInRequired`` without a live one."""
    session = await services_of(request).console.resume(request.cookies.get(SESSION_COOKIE))
    if session is None:
        raise SignInRequired()
    return session


async def read_form(request: Request) -> dict[str, str]:
    """An ``application/x-www-form-urlencoded`` body, the first value of each field."""
    body = await request.body()
    if len(body) > MAX_FORM_BYTES:
        return {}
    fields = parse_qs(body.decode("utf-8", "replace"), keep_blank_values=True, max_num_fields=200)
    return {name: values[0] for name, values in fields.items()}


async def checked_form(request: Request, session: ConsoleSession) -> dict[str, str]:
    """The form, if it carries the session's CSRF token; ``CsrfRefused`` otherwise."""
    form = await read_form(request)
    if not services_of(request).console.csrf_ok(session, form.get(CSRF_FIELD)):
        raise CsrfRefused()
    return form


def redirect(path: str) -> RedirectResponse:
    return RedirectResponse(path, status_code=303)


def set_cookie(request: Request, response: Response, name: str, value: str, max_age: int | None) -> None:
    response.set_cookie(
        name,
        value,
        max_age=max_age,
        path=PREFIX,
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
    )


def new_signin_cookie() -> str:
    return secrets.token_urlsafe(24)
