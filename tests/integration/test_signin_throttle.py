"""Password sign-in throttling per account and per address (docs/signin.md#throttling), both databases,
counted in the database and in Redis (the ``counters`` fixture)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest

from tests.conftest import Api
from tests.integration.test_signin import PASSWORD, FakeClock, make_app, make_user, sign_in
from twofold.api.app import create_app
from twofold.config import Settings
from twofold.services.container import bootstrap, build_services

Factory = Callable[..., Any]
pytestmark = pytest.mark.usefixtures("counters")


@pytest.fixture
def throttled(settings: Settings) -> Factory:
    @asynccontextmanager
    async def start(clock: FakeClock, **limits: int) -> AsyncIterator[httpx.AsyncClient]:
        tuned = settings.model_copy(update=limits)
        services = await build_services(tuned, clock)
        await bootstrap(services, tuned)
        transport = httpx.ASGITransport(app=create_app(tuned, services))
        try:
            async with httpx.AsyncClient(transport=transport, base_url="http://twofold.test") as http:
                yield http
        finally:
            await services.close()

    return start


async def test_an_account_is_throttled_after_its_limit_until_the_window_ends(throttled: Factory) -> None:
    clock = FakeClock()
    async with throttled(clock, signin_max_failures_per_account=3, signin_throttle_window_seconds=600) as client:
        api = await Api(client).login()
        app, user, other = await make_app(api), await make_user(api), await make_user(api)
        wrong = {"email": user["email"], "password": "wrong"}
        assert [(await sign_in(client, app, wrong))["statusCode"] for _ in range(3)] == [401, 401, 401]
        blocked = await sign_in(client, app, {"email": user["email"]})  # even the right password
        assert (blocked["statusCode"], blocked["apiCode"], blocked["data"]) == (429, 42901, None)
        assert (await sign_in(client, app, {"email": other["email"]}))["statusCode"] == 200
        clock.now += 600_000
        assert (await sign_in(client, app, {"email": user["email"]}))["statusCode"] == 200
        # the success cleared the account's failures: three more may fail before a block
        assert [(await sign_in(client, app, wrong))["statusCode"] for _ in range(4)] == [401, 401, 401, 429]
        events = await api.ok("GET", "twofold/list-audit-events", {"action": "signin.throttled"})
        assert len(events) == 2


async def test_unknown_accounts_are_throttled_alike(throttled: Factory) -> None:
    async with throttled(FakeClock(), signin_max_failures_per_account=2) as client:
        api = await Api(client).login()
        app = await make_app(api)
        answers = [(await sign_in(client, app, {"email": "nobody@example.com"}))["statusCode"] for _ in range(3)]
        assert answers == [401, 401, 429]


async def test_parallel_failures_cannot_push_past_the_limit(throttled: Factory) -> None:
    async with throttled(FakeClock(), signin_max_failures_per_account=3) as client:
        api = await Api(client).login()
        app, user = await make_app(api), await make_user(api)
        wrong = {"email": user["email"], "password": "wrong"}
        answers = await asyncio.gather(*[sign_in(client, app, wrong) for _ in range(10)])
        codes = sorted(a["statusCode"] for a in answers)
        assert codes == [401] * 3 + [429] * 7


async def test_an_address_is_throttled_across_accounts(throttled: Factory) -> None:
    async with throttled(FakeClock(), signin_max_failures_per_ip=2, signin_max_failures_per_account=0) as client:
        api = await Api(client).login()
        app = await make_app(api)
        users = [await make_user(api) for _ in range(3)]
        answers = [(await sign_in(client, app, {"email": u["email"], "password": "x"}))["statusCode"] for u in users]
        assert answers == [401, 401, 429]
        right = await sign_in(client, app, {"email": users[0]["email"], "password": PASSWORD})
        assert right["statusCode"] == 429


async def test_successes_give_the_address_its_slots_back(throttled: Factory) -> None:
    """A success gives its address slot back in the write that ends the sign-in (with its tokens, audit
    event and login history): successes alone never throttle an address, and failures still count."""
    async with throttled(FakeClock(), signin_max_failures_per_ip=2) as client:
        api = await Api(client).login()
        app, user = await make_app(api), await make_user(api)
        assert [(await sign_in(client, app, {"email": user["email"]}))["statusCode"] for _ in range(4)] == [200] * 4
        wrong = {"email": user["email"], "password": "wrong"}
        assert [(await sign_in(client, app, wrong))["statusCode"] for _ in range(3)] == [401, 401, 429]
        events = await api.ok("GET", "twofold/list-audit-events", {"action": "signin.success"})
        assert len(events) == 4
