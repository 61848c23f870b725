"""Applications, as far as application-level MFA needs them (docs/wire.md#application-endpoints)."""

from __future__ import annotations

from dataclasses import dataclass

from twofold.domain.applications import APP_TYPES, PROTOCOLS, Application
from twofold.domain.commands import CreateApplicationInput
from twofold.errors import ApplicationNotFound, Conflict, InvalidParameter
from twofold.services import audit
from twofold.services.app_secrets import AppSecretService
from twofold.services.context import Caller, Clock, new_id
from twofold.storage.database import Database
from twofold.storage.errors import UniqueViolation
from twofold.storage.repositories import applications as apps_repo


@dataclass(frozen=True)
class CreatedApplication:
    """A new application and its secret, which is shown this once (only its digest is stored)."""

    application: Application
    secret: str


class ApplicationService:
    def __init__(self, db: Database, clock: Clock, app_secrets: AppSecretService) -> None:
        self._db = db
        self._clock = clock
        self._secrets = app_secrets

    async def create(self, caller: Caller, request: CreateApplicationInput) -> CreatedApplication:
        if not request.app_name.strip():
            raise InvalidParameter("appName")
        app_type = request.app_type or "web"
        if app_type not in APP_TYPES:
            raise InvalidParameter("appType", f"expected one of {', '.join(APP_TYPES)}")
        protocol = request.default_protocol or "oidc"
        if protocol not in PROTOCOLS:
            raise InvalidParameter("defaultProtocol", f"expected one of {', '.join(PROTOCOLS)}")
        app_id = new_id()
        config = {
            "appLogo": request.app_logo or "",
            "appDescription": request.app_description,
            "defaultProtocol": protocol,
            "redirectUris": list(request.redirect_uris),
            "logoutRedirectUris": list(request.logout_redirect_uris),
            "initLoginUri": request.init_login_uri or "",
            "template": request.template,
        }
        now = self._clock()
        record = Application(
            app_id,
            caller.pool_id,
            request.app_name.strip(),
            (request.app_identifier or "").strip() or app_id,
            app_type,
            config,
            None,
            now,
            now,
        )
        try:
            async with self._db.transaction() as conn:
                await apps_repo.insert(conn, record)
                secret = await self._secrets.issue(conn, caller.pool_id, app_id)
                await audit.record(
                    conn,
                    self._clock,
                    caller,
                    "application.create",
                    None,
                    after={"appId": app_id, "appName": record.name},
                )
        except UniqueViolation:
            raise Conflict("appIdentifier is already used in this user pool") from None
        return CreatedApplication(record, secret)

    async def get(self, pool_id: str, app_id: str | None) -> Application:
        if not app_id:
            raise InvalidParameter("appId")
        async with self._db.read() as conn:
            app = await apps_repo.get(conn, pool_id, app_id)
        if app is None:
            raise ApplicationNotFound()
        return app

    async def list(
        self, pool_id: str, page: int, limit: int, keywords: str | None
    ) -> tuple[int, list[Application]]:
        async with self._db.read() as conn:
            return await apps_repo.list_page(conn, pool_id, keywords, (page - 1) * limit, limit)
