"""The client's address behind a load balancer (docs/deployment.md#client-addresses), both databases.

``X-Forwarded-For`` names the client only on a connection from a trusted proxy
(``TWOFOLD_FORWARDED_ALLOW_IPS``); from anyone else, or with the setting unset, it is ignored.  The audit
trail, the login history and the per-address sign-in limit all see the same address.
"""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest
from pydantic import ValidationError

from tests.conftest import Api
from tests.integration.test_signin import FakeClock, make_app, make_user, sign_in
from twofold.api.app import create_app
from twofold.config import Settings
from twofold.services.container import bootstrap, build_services

PROXY = "10.0.0.20"  # the load balancer
CLIENT = "198.51.100.7"  # the client behind it
OTHER = "198.51.100.8"
STRANGER = "203.0.113.5"  # a peer that is not a trusted proxy

Peer = Callable[..., Any]


@pytest.fixture
def peer(settings: Settings) -> Peer:
    """The app with ``forwarded_allow_ips``, reached from the address ``host``."""

    @asynccontextmanager
    async def connect(host: str, trusted: str, **limits: int) -> AsyncIterator[Api]:
        tuned = Settings(**{**settings.model_dump(), "forwarded_allow_ips": trusted, **limits})
        services = await build_services(tuned, FakeClock())
        await bootstrap(services, tuned)
        transport = httpx.ASGITransport(app=create_app(tuned, services), client=(host, 40000))
        try:
            async with httpx.AsyncClient(transport=transport, base_url="http://twofold.test") as http:
                yield await Api(http).login()
        finally:
            await services.close()

    return connect


async def recorded_address(api: Api, forwarded_for: str | None) -> str:
    """The ``clientIp`` of the audit event of one ``create-user`` sent with that ``X-Forwarded-For``."""
    headers = {"x-forwarded-for": forwarded_for} if forwarded_for is not None else {}
    body = await api.raw("POST", "/api/v3/create-user", json={"username": f"u{secrets.token_hex(6)}"}, headers=headers)
    assert body["statusCode"] == 200, body
    events = await api.ok("GET", "twofold/list-audit-events", {"userId": body["data"]["userId"]})
    assert len(events) == 1, events
    address: str = events[0]["clientIp"]
    return address


async def test_behind_a_trusted_proxy_the_client_is_the_forwarded_address(peer: Peer) -> None:
    async with peer(PROXY, f"{PROXY}, 10.1.0.0/16") as api:
        assert await recorded_address(api, CLIENT) == CLIENT
        # a client's own header comes first, the proxy appends the peer it saw: the right-most wins
        assert await recorded_address(api, f"192.0.2.66, {CLIENT}") == CLIENT
        # a chain of trusted proxies is skipped, right to left, down to the first untrusted address
        assert await recorded_address(api, f"{CLIENT}, 10.1.2.3") == CLIENT
        assert await recorded_address(api, None) == PROXY  # no header: the proxy itself (its health checks)


async def test_from_an_untrusted_peer_the_header_is_ignored(peer: Peer) -> None:
    async with peer(STRANGER, PROXY) as api:
        assert await recorded_address(api, CLIENT) == STRANGER


async def test_without_the_setting_the_header_is_ignored_even_from_the_proxy(peer: Peer) -> None:
    async with peer(PROXY, "") as api:
        assert await recorded_address(api, CLIENT) == PROXY


async def test_the_login_history_and_the_per_address_limit_see_each_client(peer: Peer) -> None:
    async with peer(PROXY, PROXY, signin_max_failures_per_ip=2, signin_max_failures_per_account=0) as api:
        app, user = await make_app(api), await make_user(api)
        client = api.client

        def via(address: str) -> dict[str, Any]:
            return {"headers": {"x-forwarded-for": address}}

        wrong = {"email": user["email"], "password": "wrong"}
        assert [(await sign_in(client, app, wrong, **via(CLIENT)))["statusCode"] for _ in range(3)] == [401, 401, 429]
        # another client behind the same proxy is not blocked by the first one's failures
        assert (await sign_in(client, app, {"email": user["email"]}, **via(OTHER)))["statusCode"] == 200
        page = await api.ok("GET", "get-user-login-history", {"userId": user["userId"]})
        assert {e["clientIp"] for e in page["list"]} == {CLIENT, OTHER}, page


def test_the_setting_takes_addresses_and_networks_and_refuses_anything_else() -> None:
    assert Settings(forwarded_allow_ips=" 10.0.0.20, 10.1.0.0/16,,::1 ").forwarded_allow_ips == [
        "10.0.0.20", "10.1.0.0/16", "::1"]
    assert Settings(forwarded_allow_ips="").forwarded_allow_ips == []
    for wrong in ("*", "haproxy.internal", "10.0.0.1/16"):  # everyone, a name, host bits set
        with pytest.raises(ValidationError, match="TWOFOLD_FORWARDED_ALLOW_IPS"):
            Settings(forwarded_allow_ips=wrong)
