"""The admin console's sessions (services/console_sessions.py) on an injected clock, on both databases."""

from __future__ import annotations

import hashlib
from typing import Any

import pytest

from tests.conftest import BOOTSTRAP_KEY_ID, BOOTSTRAP_SECRET
from tests.delivery_peers import Factory, ManualClock
from twofold.config import Settings
from twofold.errors import AuthenticationFailed, SignInThrottled
from twofold.services.container import Services, bootstrap
from twofold.services.context import OTP_SECRET_READ

IDLE = 600
MAX_AGE = 3600


async def rows(services: Services) -> list[dict[str, object]]:
    async with services.db.read() as conn:
        return [dict(r) for r in await conn.fetch_all("SELECT * FROM console_sessions")]


def started(make: Factory, **overrides: object) -> Any:
    return make(console_session_idle_seconds=IDLE, console_session_max_seconds=MAX_AGE, **overrides)


async def test_a_session_is_stored_as_the_digest_of_its_id_and_audited(make: Factory, settings: Settings) -> None:
    async with started(make) as services:
        await bootstrap(services, settings)
        session = await services.console.sign_in(BOOTSTRAP_KEY_ID, BOOTSTRAP_SECRET, "10.0.0.1", "req-1")
        stored = await rows(services)
        assert [r["id_digest"] for r in stored] == [hashlib.sha256(session.session_id.encode()).hexdigest()]
        assert all(session.session_id not in str(v) and session.csrf_token not in str(v)
                   for r in stored for v in r.values())
        assert stored[0]["access_key_id"] == BOOTSTRAP_KEY_ID
        events = await services.audit.list_events(session.principal.pool_id, action="console.signin")
        assert [(e.actor, e.client_ip, e.request_id) for e in events] == [(BOOTSTRAP_KEY_ID, "10.0.0.1", "req-1")]
        assert session.principal.has_permission(OTP_SECRET_READ)


async def test_idle_sessions_end_and_activity_keeps_one_only_up_to_its_maximum_age(
    make: Factory, settings: Settings, clock: ManualClock
) -> None:
    async with started(make) as services:
        await bootstrap(services, settings)
        idle = await services.console.sign_in(BOOTSTRAP_KEY_ID, BOOTSTRAP_SECRET, "ip", "r")
        busy = await services.console.sign_in(BOOTSTRAP_KEY_ID, BOOTSTRAP_SECRET, "ip", "r")
        clock.advance(IDLE - 1)
        assert await services.console.resume(busy.session_id) is not None
        clock.advance(2)
        assert await services.console.resume(idle.session_id) is None  # IDLE + 1 s without a request
        assert await services.console.resume(busy.session_id) is not None  # used 2 s ago
        for _ in range(MAX_AGE // (IDLE - 1)):
            clock.advance(IDLE - 1)
            await services.console.resume(busy.session_id)
        assert clock.now - 1_800_000_000_000 > MAX_AGE * 1000
        assert await services.console.resume(busy.session_id) is None  # used, but older than MAX_AGE


async def test_sign_out_and_revocation_end_sessions_on_the_server(make: Factory, settings: Settings) -> None:
    async with started(make) as services:
        await bootstrap(services, settings)
        pool, _ = await services.keys.ensure_default_pool()
        other = await services.keys.create_key(pool.id)
        mine = await services.console.sign_in(BOOTSTRAP_KEY_ID, BOOTSTRAP_SECRET, "ip", "r")
        theirs = [await services.console.sign_in(other.id, other.secret, "ip", "r") for _ in range(2)]
        await services.console.sign_out(mine, "r2", "ip")
        assert await services.console.resume(mine.session_id) is None
        assert not services.console.csrf_ok(theirs[0], theirs[1].csrf_token)
        assert services.console.csrf_ok(theirs[0], theirs[0].csrf_token)
        await services.keys.revoke_key(other.id)
        assert await rows(services) == []  # revoking the key deleted its sessions
        assert all([await services.console.resume(s.session_id) is None for s in theirs])
        with pytest.raises(AuthenticationFailed):
            await services.console.sign_in(other.id, other.secret, "ip", "r")
        signouts = await services.audit.list_events(mine.principal.pool_id, action="console.signout")
        assert [e.actor for e in signouts] == [BOOTSTRAP_KEY_ID]


@pytest.mark.usefixtures("counters")
async def test_sign_in_is_counted_before_the_secret_is_checked_and_holds_in_another_process(make: Factory, settings: Settings) -> None:
    async with started(make, console_signin_max_failures_per_key=3) as services:
        await bootstrap(services, settings)
        for _ in range(3):
            with pytest.raises(AuthenticationFailed):
                await services.console.sign_in(BOOTSTRAP_KEY_ID, "wrong-secret-0123456789", "ip", "r")
        with pytest.raises(SignInThrottled):  # the right secret, over the limit
            await services.console.sign_in(BOOTSTRAP_KEY_ID, BOOTSTRAP_SECRET, "ip", "r")
    async with started(make, console_signin_max_failures_per_key=3) as fresh:  # another process
        with pytest.raises(SignInThrottled):
            await fresh.console.sign_in(BOOTSTRAP_KEY_ID, BOOTSTRAP_SECRET, "ip", "r")
