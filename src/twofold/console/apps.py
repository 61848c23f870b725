"""Applications of the session's pool: list, create one (its secret shown once), choose its MFA factors."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from starlette.responses import Response

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
from twofold.domain.commands import CreateApplicationInput
from twofold.domain.mfa import ALL_FACTORS
from twofold.errors import TwofoldError
from twofold.services.applications import CreatedApplication
from twofold.services.console_sessions import ConsoleSession

router = APIRouter()
Session = Annotated[ConsoleSession, Depends(current_session)]
PAGE_SIZE = 50


async def _page(
    request: Request,
    session: ConsoleSession,
    created: CreatedApplication | None = None,
    error: str | None = None,
) -> Response:
    services = services_of(request)
    pool_id = session.principal.pool_id
    total, apps = await services.applications.list(pool_id, 1, PAGE_SIZE, None)
    pool_factors = [str(f) for f in await services.mfa.get_global_factors(pool_id)]
    rows = [
        (app, app.mfa_enabled_factors is None, app.mfa_enabled_factors or pool_factors) for app in apps
    ]
    context = {
        "rows": rows,
        "total": total,
        "factors": [str(f) for f in ALL_FACTORS],
        "created": created,
        "error": error,
        "done": request.query_params.get("done") == "saved",
    }
    return render(request, "apps.html", context, session=session)


@router.get("/apps")
async def list_apps(request: Request, session: Session) -> Response:
    return await _page(request, session)


@router.post("/apps")
async def create_app(request: Request, session: Session) -> Response:
    """The secret is in this response only (``Cache-Control: no-store``); only its digest is kept."""
    form = await checked_form(request, session)
    name = form.get("app_name", "").strip()[:200]
    try:
        created = await services_of(request).applications.create(
            caller_of(request, session), CreateApplicationInput(app_name=name)
        )
    except TwofoldError as exc:
        return await _page(request, session, error=exc.message("zh-CN" if lang_of(request) == "zh" else "en-US"))
    return await _page(request, session, created=created)


@router.post("/apps/{app_id}/factors")
async def set_factors(request: Request, session: Session, app_id: str) -> Response:
    form = await checked_form(request, session)
    on = [str(f) for f in ALL_FACTORS if form.get(f"factor_{f}") == "1"]
    off = [str(f) for f in ALL_FACTORS if str(f) not in on]
    try:
        await services_of(request).mfa.update_application_factors(caller_of(request, session), app_id, on, off)
    except TwofoldError as exc:
        return await _page(request, session, error=exc.message("zh-CN" if lang_of(request) == "zh" else "en-US"))
    return redirect(f"{PREFIX}/apps?done=saved")
