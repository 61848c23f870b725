"""The ASGI application factory."""

from __future__ import annotations

import gc
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute

from twofold import __version__
from twofold.api import errors, mfa_token, oidc, openapi, proxy
from twofold.api.edge import BodyLimitMiddleware
from twofold.api.middleware import RequestContextMiddleware
from twofold.api.v2 import codes as codes_v2
from twofold.api.v2 import enrolment as enrolment_v2
from twofold.api.v2 import mfa as mfa_v2
from twofold.api.v3 import (
    applications,
    audit,
    codes,
    enrolment,
    health,
    management_token,
    mfa,
    mfa_admin,
    signin,
    users,
)
from twofold.auth.vault import load_master_key
from twofold.config import Settings
from twofold.console.app import create_console
from twofold.services.container import Services, build_services
from twofold.transports import refuse_outbox_in_production

log = logging.getLogger("twofold")
# The routes of the hot scenarios (docs/performance.md), matched first, in this order.
_HOT_PATHS = (
    "/api/v3/set-mfa-status", "/api/v3/get-mfa-status", "/api/v3/get-user-mfa-info", "/api/v3/mfa-totp-verify"
)


def _hot_first(route: BaseRoute) -> int:
    path = getattr(route, "path", "")
    return _HOT_PATHS.index(path) if path in _HOT_PATHS else len(_HOT_PATHS)


def create_app(settings: Settings | None = None, services: Services | None = None) -> FastAPI:
    """Build the app.  Given ``services`` (tests), the caller owns them; otherwise they live with the app."""
    settings = settings or Settings()
    if services is None:
        load_master_key(settings)  # fail fast: a missing or placeholder master key is MasterKeyError now
        refuse_outbox_in_production(settings)  # and so is a production server without email/SMS transports

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if services is not None:
            app.state.services = services
            yield
            return
        built = await build_services(settings)
        await built.keys.watch_for_changes()
        built.audit_chain.start(settings.audit_seal_interval_seconds)
        app.state.services = built
        # Everything built so far lives as long as the process: keep it out of the cyclic GC's full
        # collections, which otherwise walk the whole framework heap (~60 ms pauses mid-request).
        gc.collect()
        gc.freeze()
        try:
            yield
        finally:
            await built.close()

    app = FastAPI(
        title="Twofold",
        version=__version__,
        description="Self-hosted MFA management, wire-compatible with the GenAuth management API (/api/v3).",
        lifespan=lifespan,
        # Twofold does not export OpenTelemetry data; FastAPI's check for it costs ~3 us per request.
        telemetry={"tracing": False, "metrics": False, "logs": False},
    )
    app.state.settings = settings
    if services is not None:
        app.state.services = services
    app.add_middleware(BodyLimitMiddleware, max_body_bytes=settings.max_body_bytes)
    app.add_middleware(RequestContextMiddleware)  # outside the limit, so the limit's answer has a request id
    proxy.install(app, settings.forwarded_allow_ips)  # added last: outermost, everything sees the real client
    errors.install(app)
    openapi.install(app)
    # Routes are added to the app's own router, not through include_router: FastAPI's lazily
    # included routers cost ~150 us of matching per request (measured; docs/performance.md).
    # Hot paths first, ahead of FastAPI's own /docs and /openapi.json: matching is a linear scan.
    routes = [
        route
        for module in (
            mfa, management_token, signin, enrolment, codes, users, applications, audit, mfa_admin, health, oidc,
            mfa_token, mfa_v2, enrolment_v2, codes_v2,
        )  # fmt: skip
        for route in module.router.routes
    ]
    app.router.routes[:0] = sorted(routes, key=_hot_first)  # stable: the others keep their order
    app.mount("/console", create_console(app))  # the admin console (docs/console.md)

    @app.get("/", include_in_schema=False)
    async def root() -> Response:
        return RedirectResponse("/console/", status_code=307)

    return app
