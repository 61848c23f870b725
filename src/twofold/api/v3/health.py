"""Liveness and readiness probes and the Prometheus metrics (not part of the GenAuth API, no envelope)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from starlette.responses import Response

from twofold import metrics
from twofold.api.routing import LeanRoute

router = APIRouter(tags=["health"], route_class=LeanRoute)


@router.get("/healthz")
async def healthz() -> JSONResponse:
    return JSONResponse({"status": "ok"})


@router.get("/readyz")
async def readyz(request: Request) -> JSONResponse:
    readiness = await request.app.state.services.health.readiness()
    return JSONResponse(
        {
            "status": "ready" if readiness.ready else "unavailable",
            "database": readiness.database,
            "migrations": readiness.migrations,
        },
        status_code=200 if readiness.ready else 503,
    )


@router.get("/metrics")
async def prometheus_metrics() -> Response:
    """docs/operations.md#metrics: for the operator's scraper; keep it off the public network."""
    body, content_type = metrics.exposition()
    return Response(body, media_type=content_type)
