"""The console's ASGI app, mounted by ``twofold.api.app`` at ``/console``."""

from __future__ import annotations

import logging
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException
from starlette.responses import Response
from starlette.staticfiles import StaticFiles

from twofold.console import apps, audit, keys, outbox, overview, settings, signin, user_new, users
from twofold.console.web import PREFIX, CsrfRefused, SecurityHeaders, SignInRequired, redirect, render
from twofold.errors import TwofoldError

log = logging.getLogger("twofold.console")
STATIC = Path(__file__).resolve().parent / "static"


def create_console(parent: FastAPI) -> FastAPI:
    """The console app; it reads the services from ``parent`` (which owns them) at each request."""
    console = FastAPI(docs_url=None, redoc_url=None, openapi_url=None)
    console.state.parent = parent
    console.add_middleware(SecurityHeaders)
    console.mount("/static", StaticFiles(directory=STATIC), name="static")
    for module in (signin, overview, user_new, users, audit, keys, settings, apps, outbox):
        console.include_router(module.router)

    @console.exception_handler(SignInRequired)
    async def to_signin(request: Request, exc: SignInRequired) -> Response:
        return redirect(f"{PREFIX}/signin")

    @console.exception_handler(CsrfRefused)
    async def refused(request: Request, exc: CsrfRefused) -> Response:
        return render(request, "refused.html", {}, 403)

    @console.exception_handler(HTTPException)
    async def http_error(request: Request, exc: HTTPException) -> Response:
        return render(request, "not_found.html" if exc.status_code == 404 else "error.html", {}, exc.status_code)

    @console.exception_handler(RequestValidationError)
    async def bad_request(request: Request, exc: RequestValidationError) -> Response:
        return render(request, "error.html", {}, 400)

    @console.exception_handler(TwofoldError)
    async def service_error(request: Request, exc: TwofoldError) -> Response:
        log.warning("console request refused: %s %s", type(exc).__name__, exc.detail or "")
        return render(request, "error.html", {}, exc.status_code)

    return console
