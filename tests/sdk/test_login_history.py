"""The typed SDK reads the login history (docs/signin.md#login-history) with its typed members."""

from __future__ import annotations

import httpx
from fastapi import FastAPI

from tests.sdk.conftest import IN_PROCESS_HOST, person
from twofold_client import AsyncManagementClient, LoginHistoryEntry

PASSWORD = "typed sdk history password"  # noqa: S105 - a test password


async def test_login_history_entries_are_typed(sdk: AsyncManagementClient, app: FastAPI) -> None:
    application = await sdk.create_application("History SDK")
    user = await sdk.create_user(**person(), password=PASSWORD)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=IN_PROCESS_HOST) as http:
        for password in ("wrong", PASSWORD):
            await http.post("/api/v3/signin", headers={"user-agent": "typed/1"}, json={
                "connection": "PASSWORD", "client_id": application.app_id, "client_secret": application.app_secret,
                "passwordPayload": {"email": user.email, "password": password}})
    history = await sdk.get_user_login_history(user.user_id, app_id=application.app_id)
    assert history.total_count == 2
    newest, oldest = history.list
    assert isinstance(newest, LoginHistoryEntry)
    assert (newest.outcome, newest.success, newest.factor, newest.login_method) == ("success", True, None, "PASSWORD")
    assert (oldest.outcome, oldest.success, oldest.error_message) == ("failure", False, "wrong password")
    assert (newest.app_name, newest.user_agent, newest.user_id) == ("History SDK", "typed/1", user.user_id)
    assert newest.time == newest.login_at
