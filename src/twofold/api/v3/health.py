"""Liveness and readiness probes (not part of the GenAuth API, no envelope)."""

from __future__ import annotations

import asyncio
import logging

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from twofold.api.routing import LeanRoute
from twofold.storage.migrate import is_at_head

log = logging.getLogger("twofold.health")
router = APIRouter(tags=["health"], route_class=LeanRoute)


@router.get("/healthz")
async def healthz() -> JSONResponse:
    return JSONResponse({"status": "ok"})


@router.get("/readyz")
async def readyz(request: Request) -> JSONResponse:
    checks = {"database": False, "migrations": False}
    try:
        checks["database"] = await request.app.state.services.db.ping()
        url = request.app.state.settings.resolved_database_url
        checks["migrations"] = await asyncio.to_thread(is_at_head, url)
    except Exception:  # noqa: BLE001 - a probe reports, it does not raise
        log.warning("readiness check failed", exc_info=True)
    ready = all(checks.values())
    return JSONResponse(
        {"status": "ready" if ready else "unavailable", **checks}, status_code=200 if ready else 503
    )
