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
from twofold.schemas.signin import RotateApplicationSecretRequest, SetApplicationAuthMethodRequest

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
    """``appSecret`` is a Twofold extension, shown this once (docs/signin.md#application-secrets)."""
    created = await services.applications.create(caller, body.to_command())
    return envelope.ok({**application_dto(created.application), "appSecret": created.secret})


@router.post("/twofold/rotate-application-secret")
async def rotate_application_secret(
    body: RotateApplicationSecretRequest, caller: CallerDep, services: ServicesDep
) -> Response:
    """A new ``appSecret``, shown once; the old one stops working at once."""
    secret = await services.app_secrets.rotate(caller, body.app_id)
    return envelope.ok({"appId": body.app_id, "appSecret": secret})


@router.post("/twofold/set-application-auth-method")
async def set_application_auth_method(
    body: SetApplicationAuthMethodRequest, caller: CallerDep, services: ServicesDep
) -> Response:
    """``client_secret_post`` / ``client_secret_basic`` (confidential) or ``none`` (public)."""
    method = await services.app_secrets.set_auth_method(caller, body.app_id, body.token_endpoint_auth_method)
    return envelope.ok({"appId": body.app_id, "tokenEndpointAuthMethod": str(method)})


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
