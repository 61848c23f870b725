"""The overview: how many users, how many must pass MFA, the OTP flag, the last audit events.

The counts are the user directory's list totals (``list-users`` with an MFA filter), so they are
exact and cost a count of the pool's users each (docs/console.md#not-yet)."""

from __future__ import annotations

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


@router.get("/")
async def overview(request: Request, session: Session) -> Response:
    services = services_of(request)
    pool_id = session.principal.pool_id
    counts = []
    for label, filters in COUNTS:
        total, _ = await services.users.list_users(pool_id, ListUsersInput(filters=filters, limit=1))
        counts.append((label, total))
    events = await services.audit.list_events(pool_id, limit=10)
    factors = await services.mfa.get_global_factors(pool_id)
    context = {"counts": counts, "events": events, "factors": [str(f) for f in factors]}
    return render(request, "overview.html", context, session=session)
