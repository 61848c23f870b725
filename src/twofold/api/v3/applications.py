"""Application endpoints (docs/wire.md#application-endpoints, A1-A3): what application-level MFA needs."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends
from starlette.responses import Response

from twofold.api import envelope
from twofold.api.deps import CallerDep, ServicesDep
from twofold.api.query import query
from twofold.api.routing import LeanRoute
from twofold.api.v3 import PREFIX
from twofold.domain.applications import Application
from twofold.schemas.mfa import AppIdQuery, CreateApplicationRequest, ListApplicationsQuery

router = APIRouter(prefix=PREFIX, tags=["applications"], route_class=LeanRoute)


def application_dto(app: Application) -> dict[str, Any]:
    config = app.config
    return {
        "appId": app.id,
        "appIdentifier": app.identifier,
        "appName": app.name,
        "appLogo": config.get("appLogo", ""),
        "appDescription": config.get("appDescription"),
        "appType": app.app_type,
        "userPoolId": app.pool_id,
        "isIntegrateApp": bool(config.get("template")),
        "template": config.get("template"),
        "defaultProtocol": config.get("defaultProtocol", "oidc"),
        "redirectUris": config.get("redirectUris", []),
        "logoutRedirectUris": config.get("logoutRedirectUris", []),
        "initLoginUri": config.get("initLoginUri", ""),
        "ssoEnabled": False,
        "ssoEnabledAt": None,
        "loginConfig": {},
        "registerConfig": {},
        "brandingConfig": {},
        "oidcConfig": {},
        "samlProviderEnabled": False,
        "oauthProviderEnabled": False,
        "casProviderEnabled": False,
        "customBrandingEnabled": False,
        "customSecurityEnabled": False,
        "mfaEnabledFactors": app.mfa_enabled_factors,
    }


@router.post("/create-application")
async def create_application(
    body: CreateApplicationRequest, caller: CallerDep, services: ServicesDep
) -> Response:
    return envelope.ok(application_dto(await services.applications.create(caller, body.to_command())))


@router.get("/get-application")
async def get_application(
    q: Annotated[AppIdQuery, Depends(query(AppIdQuery))], caller: CallerDep, services: ServicesDep
) -> Response:
    return envelope.ok(application_dto(await services.applications.get(caller.pool_id, q.app_id)))


@router.get("/list-applications")
async def list_applications(
    q: Annotated[ListApplicationsQuery, Depends(query(ListApplicationsQuery))],
    caller: CallerDep,
    services: ServicesDep,
) -> Response:
    """``isIntegrateApp``/``isSelfBuiltApp``/``ssoEnabled`` are accepted and ignored: Node always sends false."""
    total, apps = await services.applications.list(caller.pool_id, q.page, q.limit, q.keywords)
    return envelope.page([application_dto(a) for a in apps], total)
