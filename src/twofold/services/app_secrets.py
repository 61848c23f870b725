"""Application secrets and client authentication (docs/signin.md#client-authentication).

A secret is generated at ``create-application`` (and by ``rotate``), shown once, and stored as a keyed
digest (``auth/client_secrets.py`` says why HMAC-SHA256).  ``authenticate`` decides whether a request
really comes from the application it names; it never says why not, except to the log.
"""

from __future__ import annotations

from dataclasses import dataclass

from twofold.auth import client_secrets
from twofold.domain.signin import ClientAuthMethod, ClientCredentials
from twofold.errors import ApplicationNotFound, InvalidParameter
from twofold.services import audit
from twofold.services.context import Caller, Clock
from twofold.storage.database import Connection, Database
from twofold.storage.repositories import app_credentials as creds_repo
from twofold.storage.repositories import applications as apps_repo


@dataclass(frozen=True)
class AppClient:
    """An application that authenticated (or is public)."""

    pool_id: str
    app_id: str
    auth_method: ClientAuthMethod


@dataclass(frozen=True)
class ClientCheck:
    """The outcome of client authentication: the application named (if it exists), whether it proved
    its identity, and else why not (for the log and the audit trail only)."""

    app: AppClient | None
    passed: bool
    reason: str = ""

    @property
    def client(self) -> AppClient | None:
        return self.app if self.passed else None


class AppSecretService:
    def __init__(self, db: Database, key: bytes, clock: Clock) -> None:
        self._db = db
        self._key = key
        self._clock = clock

    async def issue(self, conn: Connection, pool_id: str, app_id: str) -> str:
        """A new secret for ``app_id`` inside the caller's transaction; the plaintext is returned once."""
        secret = client_secrets.new_secret()
        await creds_repo.upsert(
            conn,
            pool_id,
            app_id,
            client_secrets.digest(self._key, secret),
            str(ClientAuthMethod.CLIENT_SECRET_POST),
            self._clock(),
        )
        return secret

    async def rotate(self, caller: Caller, app_id: str | None) -> str:
        """Replace the application's secret (the old one stops working at once); audited."""
        if not app_id:
            raise InvalidParameter("appId")
        async with self._db.transaction() as conn:
            if await apps_repo.get(conn, caller.pool_id, app_id) is None:
                raise ApplicationNotFound()
            secret = await self.issue(conn, caller.pool_id, app_id)
            await audit.record(conn, self._clock, caller, "application.secret.rotate", None, after={"appId": app_id})
        return secret

    async def set_auth_method(self, caller: Caller, app_id: str | None, method: str | None) -> ClientAuthMethod:
        """``none`` makes the application public: it signs in without a secret.  Audited."""
        if not app_id:
            raise InvalidParameter("appId")
        try:
            chosen = ClientAuthMethod(method or "")
        except ValueError:
            raise InvalidParameter(
                "tokenEndpointAuthMethod", f"expected one of {', '.join(m.value for m in ClientAuthMethod)}"
            ) from None
        async with self._db.transaction() as conn:
            if await apps_repo.get(conn, caller.pool_id, app_id) is None:
                raise ApplicationNotFound()
            if not await creds_repo.set_auth_method(conn, caller.pool_id, app_id, str(chosen), self._clock()):
                await self.issue(conn, caller.pool_id, app_id)  # an app older than secrets: give it one
                await creds_repo.set_auth_method(conn, caller.pool_id, app_id, str(chosen), self._clock())
            await audit.record(
                conn,
                self._clock,
                caller,
                "application.auth-method.update",
                None,
                after={"appId": app_id, "tokenEndpointAuthMethod": str(chosen)},
            )
        return chosen

    async def authenticate(self, presented: ClientCredentials) -> ClientCheck:
        """Which application is calling, and whether it proved it.  Every path computes one HMAC, so a
        missing secret, a wrong one and an unknown application cost the same."""
        ids = presented.app_ids()
        app_id = next(iter(ids)) if len(ids) == 1 else None
        row = None
        if app_id is not None and len(app_id) <= 64:
            async with self._db.read() as conn:
                row = await creds_repo.get(conn, app_id)
        stored = row["secret_hash"] if row is not None else None
        secret_ok = client_secrets.matches(self._key, presented.secret, stored)
        if app_id is None:
            return ClientCheck(None, False, "several different app ids" if ids else "no app id")
        if row is None:
            return ClientCheck(None, False, f"unknown application {app_id[:64]!r}")
        if row["auth_method"] is None:
            return ClientCheck(None, False, f"application {app_id} has no secret yet (rotate-application-secret)")
        method = ClientAuthMethod(row["auth_method"])
        client = AppClient(row["pool_id"], app_id, method)
        if method is ClientAuthMethod.NONE or secret_ok:
            return ClientCheck(client, True)
        return ClientCheck(client, False, "missing client secret" if presented.secret is None else "wrong client secret")
