"""The audit trail: newest first, filtered by user, action and time (from/to, UTC), paged backwards by
event id; above it, the integrity of the pool's hash chain (services/audit_chain.py).  Checking walks
the whole chain, so a process reuses the result for ``console_counts_max_age_seconds`` and the page
says how old it is; **Check now** checks again."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Annotated

import orjson
from fastapi import APIRouter, Depends, Request
from starlette.responses import Response

from twofold.console.web import current_session, render, services_of
from twofold.services.audit_chain import ChainReport
from twofold.services.console_sessions import ConsoleSession

router = APIRouter()
Session = Annotated[ConsoleSession, Depends(current_session)]
PAGE_SIZE = 50
_checked: dict[str, tuple[float, ChainReport]] = {}  # pool id -> (when, the chain's report)


async def _integrity(request: Request, pool_id: str, again: bool) -> tuple[ChainReport, int]:
    """The pool's chain report and its age in seconds: reused while younger than the setting."""
    max_age = request.app.state.parent.state.settings.console_counts_max_age_seconds
    now = time.monotonic()
    kept = _checked.get(pool_id)
    if kept is not None and not again and now - kept[0] < max_age:
        return kept[1], int(now - kept[0])
    (report,) = await services_of(request).audit_chain.verify(pool_id)
    if len(_checked) > 1000:
        _checked.clear()
    _checked[pool_id] = (now, report)
    return report, 0


def _compact(value: object) -> str:
    return "" if value is None else orjson.dumps(value).decode()[:400]


def _time(text: str, end: bool) -> int | None:
    """A ``datetime-local`` value (UTC, to the minute or second) -> ms; the end of ``to`` is inclusive
    to the end of its minute.  None when empty or not a time (the field then shows the error)."""
    text = text.strip()[:32]
    if not text:
        return None
    try:
        at = datetime.fromisoformat(text)
    except ValueError:
        return None
    if at.tzinfo is None:
        at = at.replace(tzinfo=UTC)
    ms = int(at.timestamp() * 1000)
    if end and at.second == 0 and at.microsecond == 0:
        ms += 59_999
    return ms


@router.get("/audit")
async def audit_trail(
    request: Request,
    session: Session,
    user: str = "",
    action: str = "",
    before: int | None = None,
    since: str = "",
    until: str = "",
    check: str = "",
) -> Response:
    user_id = user.strip()[:64] or None
    action_name = action.strip()[:64] or None
    since_ms, until_ms = _time(since, False), _time(until, True)
    given = (("since", since, since_ms), ("until", until, until_ms))
    errors = {name: True for name, text, ms in given if text.strip() and ms is None}
    events = await services_of(request).audit.list_events(
        session.principal.pool_id, user_id, action_name, before, PAGE_SIZE, since_ms, until_ms
    )
    integrity, checked_ago = await _integrity(request, session.principal.pool_id, bool(check))
    context = {
        "integrity": integrity,
        "checked_ago": checked_ago,
        "events": [(e, _compact(e.before), _compact(e.after)) for e in events],
        "user": user_id or "",
        "action": action_name or "",
        "since": since.strip()[:32] if since_ms is not None else "",
        "until": until.strip()[:32] if until_ms is not None else "",
        "time_errors": errors,
        "older": events[-1].id if len(events) == PAGE_SIZE else None,
        "paged": before is not None,
    }
    return render(request, "audit.html", context, session=session)
