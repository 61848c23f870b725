"""The overview: how many users, how many must pass MFA, the OTP flag, MFA adoption per factor (a chart),
the users locked out, the recent MFA failures, the last audit events.

The counts are the user directory's list totals (``list-users`` with an MFA filter) and the adoption
per factor (``MfaOverviewService.adoption``): exact, but each reads the pool's users, seconds on a
million.  So a process reuses them for ``console_counts_max_age_seconds`` and the page says how old
they are.  The locked factors and the failures are read on every view, from indexes that do not grow
with the pool (``mfa_failures``; the audit trail's ``(pool_id, action, id)``)."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from starlette.responses import Response

from twofold.console.web import current_session, render, services_of
from twofold.domain.commands import FilterInput, ListUsersInput
from twofold.services.console_sessions import ConsoleSession
from twofold.services.mfa_failures import FAILED
from twofold.services.mfa_overview import FactorAdoption

router = APIRouter()
Session = Annotated[ConsoleSession, Depends(current_session)]
COUNTS = (  # (label, filters)
    ("Users in total", ()),
    ("Users with MFA required", (FilterInput("mfaEnabled", "EQUAL", True),)),
    ("Users with the OTP flag on", (FilterInput("totpMfaEnabled", "EQUAL", True),)),
)


CHART_WIDTH = 300  # the bars' scale in the SVG's user units


@dataclass(frozen=True)
class Counted:
    counts: list[tuple[str, int]]
    adoption: list[FactorAdoption]


@dataclass(frozen=True)
class Bar:
    """One factor's row of the chart: the two bars' lengths (SVG units) and their numbers."""

    factor: str
    enrolled: int
    missing: int
    enrolled_width: int
    missing_width: int


_counted: dict[str, tuple[float, Counted]] = {}  # pool id -> (when, counts)


async def _counts(request: Request, pool_id: str) -> tuple[Counted, int]:
    """The counts and their age in seconds: reused while younger than the setting."""
    max_age = request.app.state.parent.state.settings.console_counts_max_age_seconds
    now = time.monotonic()
    kept = _counted.get(pool_id)
    if kept is not None and now - kept[0] < max_age:
        return kept[1], int(now - kept[0])
    services = services_of(request)
    counts = []
    for label, filters in COUNTS:
        total, _ = await services.users.list_users(pool_id, ListUsersInput(filters=filters, limit=1))
        counts.append((label, total))
    adoption, locked = await services.mfa_overview.adoption(pool_id)
    counts.append(("Users locked out", locked))
    if len(_counted) > 1000:
        _counted.clear()
    counted = Counted(counts, adoption)
    _counted[pool_id] = (now, counted)
    return counted, 0


def chart(adoption: list[FactorAdoption], users: int) -> list[Bar]:
    """Bars scaled to the pool's users (a bar of every user is ``CHART_WIDTH`` long); a count above
    zero is at least 1 unit, so it shows."""
    scale = max(users, *(max(a.enrolled, a.required_not_enrolled) for a in adoption), 1)

    def width(n: int) -> int:
        return 0 if n <= 0 else max(1, round(n * CHART_WIDTH / scale))

    return [
        Bar(str(a.factor), a.enrolled, a.required_not_enrolled, width(a.enrolled), width(a.required_not_enrolled))
        for a in adoption
    ]


@router.get("/")
async def overview(request: Request, session: Session) -> Response:
    services = services_of(request)
    pool_id = session.principal.pool_id
    counted, age = await _counts(request, pool_id)
    events = await services.audit.list_events(pool_id, limit=10)
    failures = await services.audit.list_events(pool_id, action=FAILED, limit=10)
    locked = await services.mfa_overview.locked(pool_id, 10)
    factors = await services.mfa.get_global_factors(pool_id)
    context = {
        "counts": counted.counts,
        "bars": chart(counted.adoption, counted.counts[0][1]),
        "chart_width": CHART_WIDTH,
        "age": age,
        "events": events,
        "failures": failures,
        "locked": locked,
        "factors": [str(f) for f in factors],
    }
    return render(request, "overview.html", context, session=session)
