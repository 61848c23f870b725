"""The overview: how many users, how many must pass MFA, the OTP flag, the last audit events.

The counts are the user directory's list totals (``list-users`` with an MFA filter): exact, but each
counts the pool's users, seconds on a million.  So a process reuses them for
``console_counts_max_age_seconds`` and the page says how old they are."""

from __future__ import annotations

import time
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from starlette.responses import Response

from twofold.console.web import current_session, render, services_of
from twofold.domain.commands import FilterInput, ListUsersInput
from twofold.services.console_sessions import ConsoleSession

router = APIRouter()
Session = Annotated[ConsoleSession, Depends(current_session)]
COUNTS = (  # (label, filters)
    ("Users in total", ()),
    ("Users with MFA required", (FilterInput("mfaEnabled", "EQUAL", True),)),
    ("Users with the OTP flag on", (FilterInput("totpMfaEnabled", "EQUAL", True),)),
)


_counted: dict[str, tuple[float, list[tuple[str, int]]]] = {}  # pool id -> (when, counts)


async def _counts(request: Request, pool_id: str) -> tuple[list[tuple[str, int]], int]:
    """The counts and their age in seconds: reused while younger than the setting."""
    max_age = request.app.state.parent.state.settings.console_counts_max_age_seconds
    now = time.monotonic()
    kept = _counted.get(pool_id)
    if kept is not None and now - kept[0] < max_age:
        return kept[1], int(now - kept[0])
    counts = []
    for label, filters in COUNTS:
        total, _ = await services_of(request).users.list_users(pool_id, ListUsersInput(filters=filters, limit=1))
        counts.append((label, total))
    if len(_counted) > 1000:
        _counted.clear()
    _counted[pool_id] = (now, counts)
    return counts, 0


@router.get("/")
async def overview(request: Request, session: Session) -> Response:
    services = services_of(request)
    pool_id = session.principal.pool_id
    counts, age = await _counts(request, pool_id)
    events = await services.audit.list_events(pool_id, limit=10)
    factors = await services.mfa.get_global_factors(pool_id)
    context = {"counts": counts, "age": age, "events": events, "factors": [str(f) for f in factors]}
    return render(request, "overview.html", context, session=session)
