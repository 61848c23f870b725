"""Redis for the short-lived counters goes away mid-test and comes back (docs/deployment.md#redis).

Twofold reaches Redis through a TCP relay the test controls: stopped (connections cut, nothing
listening) or silent (connections taken, never answered: a Redis slower than the socket timeout).
Meanwhile the send limits and the sign-in throttle still hold, counted in the database, with no
internal error; the switch is logged once each way; and once Redis answers again it counts again.
"""

from __future__ import annotations

import asyncio
import logging
import re
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import suppress
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
import redis.asyncio as aioredis
from pydantic import SecretStr

from tests.conftest import REDIS_URL, Api, counter_fallbacks
from tests.integration.test_signin import make_app, make_user, sign_in
from twofold.api.app import create_app
from twofold.config import Settings
from twofold.services.container import bootstrap, build_services

WAIT = 30.0  # seconds: how long Redis may take to be used again once it is back


class RedisRelay:
    """127.0.0.1:<port> relayed to the test Redis; ``stop()``, ``silence()`` and ``restore()`` it."""

    def __init__(self) -> None:
        upstream = urlsplit(REDIS_URL)
        self._upstream = (upstream.hostname or "127.0.0.1", upstream.port or 6379)
        self._path = upstream.path
        self._server: asyncio.Server | None = None
        self._writers: set[asyncio.StreamWriter] = set()
        self.port = 0
        self.silent = False

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}{self._path}"

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", self.port)
        self.port = self._server.sockets[0].getsockname()[1]

    async def stop(self) -> None:
        """Nothing listens, and the connections Twofold holds are cut."""
        assert self._server is not None
        self._server.close()
        for writer in list(self._writers):
            writer.close()
        await self._server.wait_closed()
        self._server = None

    def silence(self) -> None:
        """Connections are taken and requests read, but nothing is ever answered."""
        self.silent = True

    async def restore(self) -> None:
        self.silent = False
        if self._server is None:
            await self.start()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._writers.add(writer)
        try:
            up_reader, up_writer = await asyncio.open_connection(*self._upstream)
        except OSError:
            writer.close()
            return
        self._writers.add(up_writer)
        await asyncio.gather(self._pump(reader, up_writer), self._pump(up_reader, writer))

    async def _pump(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with suppress(OSError):
            while data := await reader.read(65536):
                if not self.silent:
                    writer.write(data)
                    await writer.drain()
        writer.close()
        self._writers.discard(writer)


class Front:
    """The service over HTTP, and what the test reads of where the counts went."""

    def __init__(self, client: httpx.AsyncClient, app: dict[str, Any], services: Any, prefix: str) -> None:
        self.client, self.app, self.services, self.prefix = client, app, services, prefix
        self.redis = aioredis.Redis.from_url(REDIS_URL)

    async def send(self, email: str) -> tuple[int, int | None]:
        response = await self.client.post(
            "/api/v3/send-email", json={"email": email, "channel": "CHANNEL_LOGIN"},
            headers={"x-genauth-app-id": self.app["appId"]},
        )
        assert response.status_code == 200, response.text
        body = response.json()
        assert body["statusCode"] != 500, body
        return body["statusCode"], body.get("apiCode")

    async def in_redis(self) -> int:
        keys = [key async for key in self.redis.scan_iter(match=f"{self.prefix}*", count=1000)]
        shape = re.compile(rb"(interval|quota|attempts):[0-9a-f]{32}(:[0-9]+)?")  # digests, not people
        assert all(shape.fullmatch(k.removeprefix(self.prefix.encode())) for k in keys), keys
        return len(keys)

    async def in_database(self) -> int:
        async with self.services.db.read() as conn:
            return int(await conn.fetch_value("SELECT count(*) FROM passcode_throttles"))


@pytest.fixture
async def front(settings: Settings, redis_answers: str | None) -> AsyncIterator[tuple[Front, RedisRelay]]:
    if redis_answers:
        pytest.skip(redis_answers)
    relay = RedisRelay()
    await relay.start()
    prefix = f"twofold-test:{uuid.uuid4().hex}:"
    tuned = settings.model_copy(update={
        # a timeout a loaded machine keeps to while Redis is up; the silent relay then costs it once
        "redis_url": SecretStr(relay.url), "redis_key_prefix": prefix, "redis_retry_seconds": 3.0,
        "redis_timeout_seconds": 1.0,
        "signin_max_failures_per_account": 2,
    })
    try:
        services = await build_services(tuned)
        try:
            await bootstrap(services, tuned)
            transport = httpx.ASGITransport(app=create_app(tuned, services))
            async with httpx.AsyncClient(transport=transport, base_url="http://twofold.test") as http:
                result = Front(http, await make_app(await Api(http).login()), services, prefix)
                try:
                    yield result, relay
                finally:
                    await result.redis.aclose()
        finally:
            await services.close()
    finally:
        await relay.restore()
        await relay.stop()


@pytest.mark.parametrize("away", ["stopped", "silent"])
async def test_limits_hold_in_the_database_while_redis_is_away_then_redis_counts_again(
    front: tuple[Front, RedisRelay], away: str, caplog: pytest.LogCaptureFixture
) -> None:
    twofold, relay = front
    caplog.set_level(logging.WARNING, logger="twofold.counters")
    assert await twofold.send("first@example.com") == (200, None)
    assert await twofold.send("first@example.com") == (400, 2080)
    assert await twofold.in_redis() > 0 and await twofold.in_database() == 0  # counted in Redis only

    errors, open_breaker = counter_fallbacks("redis_error"), counter_fallbacks("breaker_open")
    if away == "stopped":
        await relay.stop()
    else:
        relay.silence()
    assert await twofold.send("second@example.com") == (200, None)
    assert await twofold.send("second@example.com") == (400, 2080)  # still one code a minute
    assert await twofold.in_database() == 1
    api = await Api(twofold.client).login()
    user = await make_user(api)
    wrong = {"email": user["email"], "password": "wrong"}
    answers = [(await sign_in(twofold.client, twofold.app, wrong))["statusCode"] for _ in range(3)]
    assert answers == [401, 401, 429]  # the account's throttle holds too
    assert counter_fallbacks("redis_error") > errors and counter_fallbacks("breaker_open") > open_breaker
    unavailable = [r for r in caplog.records if "unavailable" in r.getMessage()]
    assert len(unavailable) == 1, caplog.records  # once per switch, not once per request

    await relay.restore()
    in_redis, deadline, n = await twofold.in_redis(), time.monotonic() + WAIT, 0
    while await twofold.in_redis() == in_redis:  # each send a new target, until one is counted in Redis
        assert time.monotonic() < deadline, "Redis is back but not used again"
        n += 1
        assert await twofold.send(f"back{n}@example.com") == (200, None)
        await asyncio.sleep(0.2)
    assert await twofold.send(f"back{n}@example.com") == (400, 2080)
    assert len([r for r in caplog.records if "available again" in r.getMessage()]) == 1
    assert all(REDIS_URL not in r.getMessage() and "@example.com" not in r.getMessage() for r in caplog.records)


@pytest.mark.parametrize("url", ["http://:hunter2-secret@cache:6379/0", "redis://:hunter2-secret@cache:port/0"])
async def test_a_url_that_is_not_redis_is_a_startup_error_that_does_not_repeat_it(settings: Settings, url: str) -> None:
    with pytest.raises(ValueError, match="TWOFOLD_REDIS_URL") as refused:
        await build_services(settings.model_copy(update={"redis_url": SecretStr(url)}))
    assert "hunter2" not in str(refused.value) and "hunter2" not in repr(refused.value)
