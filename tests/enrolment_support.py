"""Test support for the enrolment tests: services on an injected clock with a real SMTP server and a
real SMS webhook receiver, the API in-process, and helpers to make apps, users and tokens."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import httpx
from pydantic import SecretStr

from tests.conftest import Api
from tests.delivery_peers import (
    Factory,
    ManualClock,
    SmtpHandler,
    Webhook,
    code_in,
    smtp_server,
    webhook_receiver,
)
from tests.factories import user_payload
from twofold.api.app import create_app
from twofold.config import Settings
from twofold.services.container import Services, bootstrap
from twofold.services.context import system_clock

WEBHOOK_SECRET = "whsec-enrol-0123456789abcdef"  # noqa: S105 - the test receiver's


@dataclass
class Peers:
    services: Services
    api: Api
    hook: Webhook
    mail: SmtpHandler
    clock: ManualClock
    pool_id: str
    http: httpx.AsyncClient  # the API in-process

    async def v2(self, method: str, path: str, token: str | None, **kwargs: Any) -> dict[str, Any]:
        """A raw v2 call (as GenAuth's login UI makes it), the token in ``authorization``."""
        headers = {"authorization": f"Bearer {token}"} if token else {}
        response = await self.http.request(method, f"/api/v2/{path}", headers=headers, **kwargs)
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body

    def last_sms_code(self, to: str) -> str:
        texts = [r["json"]["text"] for r in self.hook.delivered if r["json"]["to"] == to]
        assert texts, f"no SMS to {to}"
        return code_in(texts[-1])

    def last_email_code(self, to: str) -> str:
        bodies = [m.message.get_content() for m in self.mail.received if m.recipients == [to]]
        assert bodies, f"no email to {to}"
        return code_in(bodies[-1])

    async def app(self, factors: list[str]) -> str:
        app = await self.api.ok("POST", "create-application", {"appName": "Enrol codes"})
        await self.api.ok("POST", "update-application-mfa-settings", {"appId": app["appId"], "enabledFactors": factors})
        return str(app["appId"])

    async def user(self, **fields: Any) -> str:
        created = await self.api.ok("POST", "create-user", user_payload(**fields))
        return str(created["userId"])

    async def access_token(self, user_id: str, app_id: str) -> str:
        view = await self.services.users.get_user(self.pool_id, user_id, "user_id")
        return (await self.services.tokens.issue(view.user, app_id, "openid profile", ["pwd"])).access_token

    async def status(self, user_id: str) -> dict[str, Any]:
        data: dict[str, Any] = await self.api.ok("GET", "get-mfa-status", {"userId": user_id})
        return data

    async def actions(self, user_id: str) -> list[tuple[str, Any]]:
        events = await self.services.audit.list_events(self.pool_id, user_id, limit=500)
        return [(e.action, e.after) for e in events]


@asynccontextmanager
async def running_peers(make: Factory, settings: Settings, clock: ManualClock) -> AsyncIterator[Peers]:
    clock.now = system_clock()  # the management tokens are checked against the real time too
    hook = Webhook(WEBHOOK_SECRET.encode())
    with smtp_server() as (mail, port), webhook_receiver(hook) as url:
        overrides = {
            "smtp_url": SecretStr(f"smtp://127.0.0.1:{port}"),
            "smtp_from": "Twofold <no-reply@twofold.test>",
            "sms_webhook_url": url,
            "sms_webhook_secret": SecretStr(WEBHOOK_SECRET),
            "sms_webhook_backoff_seconds": 0.01,
        }
        async with make(**overrides) as services:
            await bootstrap(services, settings)
            app = create_app(settings, services)
            async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as http:
                api = await Api(http).login()
                pool, _ = await services.keys.ensure_default_pool()
                yield Peers(services, api, hook, mail, clock, pool.id, http)
