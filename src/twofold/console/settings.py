"""The pool's global MFA settings: which factors the pool offers (``update-global-mfa-settings``)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from starlette.responses import Response

from twofold.console.web import (
    PREFIX,
    caller_of,
    checked_form,
    current_session,
    redirect,
    render,
    services_of,
)
from twofold.domain.mfa import ALL_FACTORS
from twofold.services.console_sessions import ConsoleSession

router = APIRouter()
Session = Annotated[ConsoleSession, Depends(current_session)]


@router.get("/settings")
async def show_settings(request: Request, session: Session) -> Response:
    enabled = await services_of(request).mfa.get_global_factors(session.principal.pool_id)
    context = {
        "factors": [(str(f), f in enabled) for f in ALL_FACTORS],
        "done": request.query_params.get("done") == "saved",
    }
    return render(request, "settings.html", context, session=session)


@router.post("/settings")
async def save_settings(request: Request, session: Session) -> Response:
    form = await checked_form(request, session)
    enabled = [str(f) for f in ALL_FACTORS if form.get(f"factor_{f}") == "1"]
    await services_of(request).mfa.set_global_factors(caller_of(request, session), enabled)
    return redirect(f"{PREFIX}/settings?done=saved")
