"""The audit trail: newest first, filtered by user and action, paged backwards by event id."""

from __future__ import annotations

from typing import Annotated

import orjson
from fastapi import APIRouter, Depends, Request
from starlette.responses import Response

from twofold.console.web import current_session, render, services_of
from twofold.services.console_sessions import ConsoleSession

router = APIRouter()
Session = Annotated[ConsoleSession, Depends(current_session)]
PAGE_SIZE = 50


def _compact(value: object) -> str:
    return "" if value is None else orjson.dumps(value).decode()[:400]


@router.get("/audit")
async def audit_trail(
    request: Request, session: Session, user: str = "", action: str = "", before: int | None = None
) -> Response:
    user_id = user.strip()[:64] or None
    action_name = action.strip()[:64] or None
    events = await services_of(request).audit.list_events(
        session.principal.pool_id, user_id, action_name, before, PAGE_SIZE
    )
    context = {
        "events": [(e, _compact(e.before), _compact(e.after)) for e in events],
        "user": user_id or "",
        "action": action_name or "",
        "older": events[-1].id if len(events) == PAGE_SIZE else None,
        "paged": before is not None,
    }
    return render(request, "audit.html", context, session=session)
