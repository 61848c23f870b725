"""Access keys of the session's pool: list, create (the secret shown once), revoke (which ends the
key's console sessions, this one too when it is the session's own key)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from starlette.responses import Response

from twofold.console.web import (
    PREFIX,
    SESSION_COOKIE,
    caller_of,
    checked_form,
    current_session,
    redirect,
    render,
    services_of,
)
from twofold.errors import AccessKeyNotFound
from twofold.services.access_keys import NewAccessKey
from twofold.services.console_sessions import ConsoleSession
from twofold.services.context import OTP_SECRET_READ

router = APIRouter()
Session = Annotated[ConsoleSession, Depends(current_session)]


async def _page(
    request: Request, session: ConsoleSession, created: NewAccessKey | None = None, done: str | None = None
) -> Response:
    keys = await services_of(request).keys.list_keys(session.principal.pool_id)
    context = {"keys": keys, "created": created, "done": done, "otp_read": OTP_SECRET_READ}
    return render(request, "keys.html", context, session=session)


@router.get("/keys")
async def list_keys(request: Request, session: Session) -> Response:
    done = request.query_params.get("done")
    return await _page(request, session, done=done if done == "revoked" else None)


@router.post("/keys")
async def create_key(request: Request, session: Session) -> Response:
    """The new secret is in this response only (``Cache-Control: no-store``): never stored in clear,
    never shown again."""
    form = await checked_form(request, session)
    permissions = [OTP_SECRET_READ] if form.get("otp_read") == "1" else []
    created = await services_of(request).keys.create_key(
        session.principal.pool_id,
        form.get("description", "").strip()[:200],
        permissions,
        caller_of(request, session),
    )
    return await _page(request, session, created=created)


@router.post("/keys/{key_id}/revoke")
async def revoke_key(request: Request, session: Session, key_id: str) -> Response:
    await checked_form(request, session)
    try:
        await services_of(request).keys.revoke_key(key_id, caller_of(request, session))
    except AccessKeyNotFound:
        return render(request, "not_found.html", {}, 404, session=session)
    if key_id == session.principal.access_key_id:  # this session ended with its key
        response = redirect(f"{PREFIX}/signin")
        response.delete_cookie(SESSION_COOKIE, path=PREFIX, httponly=True, samesite="strict")
        return response
    return redirect(f"{PREFIX}/keys?done=revoked")
