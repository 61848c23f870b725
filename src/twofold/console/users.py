"""The users pages: the list with its search, one user, and the actions on them (set-mfa-status,
unlock, reset).  Every action goes through the service the management API calls, as the session's key."""

from __future__ import annotations

import logging
import re
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from starlette.responses import Response

from twofold.console import views
from twofold.console.web import (
    PREFIX,
    caller_of,
    checked_form,
    current_session,
    lang_of,
    redirect,
    render,
    services_of,
)
from twofold.domain.commands import FilterInput
from twofold.errors import InvalidParameter, TwofoldError, UserNotFound, VersionConflict
from twofold.services.console_sessions import ConsoleSession
from twofold.services.container import Services
from twofold.services.user_support import UserView

log = logging.getLogger("twofold.console")
router = APIRouter()
Session = Annotated[ConsoleSession, Depends(current_session)]
PAGE_SIZE = 20
_PHONE_LIKE = re.compile(r"^\+?[0-9][0-9 \-]{4,}$")
DONE = {"saved", "unlocked", "reset"}
# The users list's MFA-state filter: (label, the list-users filter field, its value).  The flags are
# what set-mfa-status stored (docs/mfa-status.md), not whether the factor is bound.
MFA_FILTERS: dict[str, tuple[str, str, bool]] = {
    "required": ("MFA required", "mfaEnabled", True),
    "not-required": ("MFA not required", "mfaEnabled", False),
    "otp-flag": ("OTP flag on (totpMfaEnabled)", "totpMfaEnabled", True),
    "otp-flag-off": ("OTP flag off", "totpMfaEnabled", False),
    "face-flag": ("Face flag on (faceMfaEnabled)", "faceMfaEnabled", True),
}
# What is bound and locked (services/user_listing.py browse_users): (label, otp_enrolled, locked factor).
# Enrolled is offered for OTP only: SMS and EMAIL are bound by a phone or email that may sit in the
# stored status document, which no index reaches.
STATE_FILTERS: dict[str, tuple[str, bool | None, str | None]] = {
    "otp-enrolled": ("OTP enrolled", True, None),
    "otp-not-enrolled": ("OTP not enrolled", False, None),
    "locked": ("Locked (any factor)", None, "*"),
    "locked-otp": ("OTP locked", None, "OTP"),
    "locked-sms": ("SMS locked", None, "SMS"),
    "locked-email": ("EMAIL locked", None, "EMAIL"),
}


def _wire_lang(request: Request) -> str:
    return "zh-CN" if lang_of(request) == "zh" else "en-US"


async def find_users(services: Services, pool_id: str, text: str) -> list[UserView]:
    """Every user one of whose identifiers is ``text``: email, phone, username, user id, external id.
    Each is an exact, indexed lookup (docs/console.md); a text that cannot be one kind is not tried."""
    kinds = ["user_id", "username", "external_id"]
    if "@" in text:
        kinds.insert(0, "email")
    if _PHONE_LIKE.match(text):
        kinds.insert(0, "phone")
    found: dict[str, UserView] = {}
    for kind in kinds:
        try:
            views_found = await services.users.get_users(pool_id, [text], kind)
        except InvalidParameter:
            continue
        for view in views_found:
            found.setdefault(view.user.id, view)
    return list(found.values())


@router.get("/users")
async def list_users(
    request: Request, session: Session, q: str = "", after: str = "", mfa: str = ""
) -> Response:
    """Newest first by keyset (``after`` is the next page's cursor): no count and no offset, so every
    page costs the same on a big pool; a search is exact lookups (``find_users``)."""
    services = services_of(request)
    pool_id = session.principal.pool_id
    text = q.strip()[:200]
    chosen = MFA_FILTERS.get(mfa)
    bound = STATE_FILTERS.get(mfa)
    next_cursor = None
    if text:
        found = await find_users(services, pool_id, text)
    else:
        filters = () if chosen is None else (FilterInput(chosen[1], "EQUAL", chosen[2]),)
        enrolled, locked = (None, None) if bound is None else bound[1:]
        browse = services.users.browse_users
        try:
            found, next_cursor = await browse(pool_id, filters, after[:100] or None, PAGE_SIZE, enrolled, locked)
        except InvalidParameter:
            found, next_cursor = await browse(pool_id, filters, None, PAGE_SIZE, enrolled, locked)
    rows = []
    for view in found:
        state = await services.mfa.get_status(pool_id, view.user.id, "user_id")
        rows.append((view.user, views.badges(state)))
    context = {
        "rows": rows,
        "q": text,
        "searched": bool(text),
        "paged": bool(after) and not text,
        "next_cursor": next_cursor,
        "mfa": mfa if chosen or bound else "",
        "mfa_filters": [(key, label) for key, (label, _, _) in (MFA_FILTERS | STATE_FILTERS).items()],
    }
    return render(request, "users.html", context, session=session)


async def _user_response(
    request: Request,
    session: ConsoleSession,
    user_id: str,
    editor: views.Editor | None = None,
    status_code: int = 200,
    conflict: bool = False,
    action_error: str | None = None,
) -> Response:
    services = services_of(request)
    try:
        page = await views.user_page(services, session.principal.pool_id, user_id)
    except (UserNotFound, InvalidParameter):
        return render(request, "not_found.html", {}, 404, session=session)
    done = request.query_params.get("done")
    context = {
        "page": page,
        "user": page.state.user,
        "profile": views.profile_rows(page.state.user),
        "editor": editor or views.editor_of(page.state.status),
        "done": done if done in DONE else None,
        "done_version": request.query_params.get("version", ""),
        "conflict": conflict,
        "action_error": action_error,
    }
    return render(request, "user.html", context, status_code, session=session)


@router.get("/users/{user_id}")
async def show_user(request: Request, session: Session, user_id: str) -> Response:
    return await _user_response(request, session, user_id)


@router.post("/users/{user_id}/mfa-status")
async def set_mfa_status(request: Request, session: Session, user_id: str) -> Response:
    form = await checked_form(request, session)
    editor = views.editor_from_form(form)
    services = services_of(request)
    try:
        version = await services.mfa.set_status(
            caller_of(request, session), user_id, "user_id", views.trigger_data(editor), editor.version
        )
    except VersionConflict:
        return await _user_response(request, session, user_id, None, conflict=True)
    except InvalidParameter as exc:
        target = views.field_of(editor, exc.field)
        message = exc.message(_wire_lang(request))
        if target is None:
            editor.general_error = message
        else:
            editor.errors[target] = message
        return await _user_response(request, session, user_id, editor)
    return redirect(f"{PREFIX}/users/{user_id}?done=saved&version={version}#mfa-editor")


async def _factor_action(request: Request, session: ConsoleSession, user_id: str, action: str) -> Response:
    form = await checked_form(request, session)
    factor = form.get("factor") or None
    services = services_of(request)
    caller = caller_of(request, session)
    try:
        if action == "unlocked":
            await services.mfa_admin.unlock(caller, user_id, "user_id", factor)
        else:
            await services.mfa_admin.reset_factor(caller, user_id, "user_id", factor)
    except TwofoldError as exc:
        if isinstance(exc, UserNotFound):
            return render(request, "not_found.html", {}, 404, session=session)
        log.warning("console action refused: %s", type(exc).__name__)
        return await _user_response(request, session, user_id, action_error=exc.message(_wire_lang(request)))
    return redirect(f"{PREFIX}/users/{user_id}?done={action}#locks")


@router.post("/users/{user_id}/unlock")
async def unlock(request: Request, session: Session, user_id: str) -> Response:
    return await _factor_action(request, session, user_id, "unlocked")


@router.post("/users/{user_id}/reset")
async def reset(request: Request, session: Session, user_id: str) -> Response:
    return await _factor_action(request, session, user_id, "reset")
