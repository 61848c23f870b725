"""Twofold extension: the audit trail, newest first."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends
from pydantic import Field
from starlette.responses import Response

from twofold.api import envelope
from twofold.api.deps import CallerDep, ServicesDep
from twofold.api.query import query
from twofold.api.routing import LeanRoute
from twofold.api.v3 import PREFIX
from twofold.api.v3.dto import iso
from twofold.schemas.common import Int32, ShortText, WireModel

router = APIRouter(prefix=PREFIX, tags=["twofold"], route_class=LeanRoute)


class AuditQuery(WireModel):
    user_id: ShortText | None = None
    action: ShortText | None = None
    before_id: Int32 | None = None
    limit: int = Field(default=50, ge=1, le=500)


@router.get("/twofold/list-audit-events")
async def list_audit_events(
    q: Annotated[AuditQuery, Depends(query(AuditQuery))], caller: CallerDep, services: ServicesDep
) -> Response:
    events = await services.audit.list_events(caller.pool_id, q.user_id, q.action, q.before_id, q.limit)
    return envelope.ok(
        [
            {
                "id": e.id,
                "at": iso(e.at),
                "actor": e.actor,
                "requestId": e.request_id,
                "clientIp": e.client_ip,
                "userId": e.target_user_id,
                "action": e.action,
                "before": e.before,
                "after": e.after,
            }
            for e in events
        ]
    )
