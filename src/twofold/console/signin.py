"""Signing in with an access key, signing out, and the language switch."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from starlette.responses import Response

from twofold.api.proxy import client_address
from twofold.console.i18n import LANG_COOKIE, LANGS
from twofold.console.web import (
    PREFIX,
    SESSION_COOKIE,
    SIGNIN_COOKIE,
    checked_form,
    current_session,
    new_signin_cookie,
    read_form,
    redirect,
    render,
    services_of,
    set_cookie,
)
from twofold.errors import AuthenticationFailed, SignInThrottled
from twofold.request_context import current_request_id
from twofold.services.console_sessions import ConsoleSession

router = APIRouter()
FAILED = (
    "Sign-in failed: the access key is unknown, revoked or the secret is wrong, or there were too many"
    " attempts. Try again later."
)


def _signin_page(request: Request, error: str | None, key_id: str, status_code: int) -> Response:
    cookie = request.cookies.get(SIGNIN_COOKIE) or new_signin_cookie()
    token = services_of(request).console.pre_session_token(cookie)
    response = render(
        request, "signin.html", {"error": error, "key_id": key_id, "signin_token": token}, status_code
    )
    set_cookie(request, response, SIGNIN_COOKIE, cookie, None)
    return response


@router.get("/signin")
async def signin_form(request: Request) -> Response:
    return _signin_page(request, None, "", 200)


@router.post("/signin")
async def signin(request: Request) -> Response:
    form = await read_form(request)
    services = services_of(request)
    if not services.console.pre_session_ok(request.cookies.get(SIGNIN_COOKIE), form.get("csrf")):
        return render(request, "refused.html", {}, 403)
    key_id = form.get("access_key_id", "").strip()
    try:
        session = await services.console.sign_in(
            key_id, form.get("access_key_secret", ""), client_address(request), current_request_id()
        )
    except (AuthenticationFailed, SignInThrottled):
        # One answer for every refusal, status included (a 401 here and a 429 there would tell them
        # apart); 200 because it is the form again, with its message (docs/console.md#sign-in).
        return _signin_page(request, FAILED, key_id[:64], 200)
    response = redirect(f"{PREFIX}/users")
    set_cookie(request, response, SESSION_COOKIE, session.session_id, None)
    response.delete_cookie(SIGNIN_COOKIE, path=PREFIX, httponly=True, samesite="strict")
    return response


@router.post("/signout")
async def signout(
    request: Request, session: Annotated[ConsoleSession, Depends(current_session)]
) -> Response:
    await checked_form(request, session)
    await services_of(request).console.sign_out(session, current_request_id(), client_address(request))
    response = redirect(f"{PREFIX}/signin")
    response.delete_cookie(SESSION_COOKIE, path=PREFIX, httponly=True, samesite="strict")
    return response


@router.get("/lang")
async def switch_language(request: Request, to: str = "en", back: str = "") -> Response:
    """The language switch: remembered in a cookie; ``back`` must be a console page (no open redirect)."""
    target = back if back.startswith(f"{PREFIX}/") and "//" not in back and "\\" not in back else PREFIX + "/"
    response = redirect(target)
    if to in LANGS:
        set_cookie(request, response, LANG_COOKIE, to, 365 * 86400)
    return response
