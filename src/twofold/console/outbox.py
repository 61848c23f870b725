"""The dev outbox: the codes Twofold would have sent, while the outbox is a transport (development).

Shown only while email or SMS goes to the outbox, so a person running ``make serve`` can read the
codes sent to test users; every read is audited (``outbox.read``)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from starlette.responses import Response

from twofold.console.web import caller_of, current_session, outbox_in_use, render, services_of
from twofold.services.console_sessions import ConsoleSession

router = APIRouter()
Session = Annotated[ConsoleSession, Depends(current_session)]


@router.get("/outbox")
async def outbox(request: Request, session: Session) -> Response:
    if not outbox_in_use(request):
        return render(request, "not_found.html", {}, 404, session=session)
    messages = await services_of(request).outbox.list_messages(
        session.principal.pool_id, 50, caller_of(request, session)
    )
    return render(request, "outbox.html", {"messages": messages}, session=session)
