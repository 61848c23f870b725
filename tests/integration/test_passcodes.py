"""One-time codes through the real service on both databases, delivered to the dev outbox (the
default transport) and read back from it: single use, attempts, expiry, replacement, send limits,
and the races that must have exactly one winner."""

from __future__ import annotations

import asyncio
import multiprocessing
import os
from collections.abc import AsyncIterator
from typing import Any

import pytest

from tests.conftest import SECRET_KEY
from tests.delivery_peers import Factory, ManualClock, code_in
from twofold.config import Settings
from twofold.domain.passcodes import Channel, Email, Phone
from twofold.errors import EmailSendTooFrequent, SendQuotaExceeded, SmsSendTooFrequent
from twofold.services.container import Services, build_services

POOL = "pool0000000000000000000a"
LOGIN, VERIFY = Channel.CHANNEL_LOGIN, Channel.CHANNEL_VERIFY_MFA




@pytest.fixture
async def svc(make: Factory) -> AsyncIterator[Services]:
    async with make() as built:
        yield built


async def last_code(services: Services, to: str) -> str:
    messages = [m for m in await services.outbox.list_messages(limit=500) if m.to == to]
    assert messages, f"nothing in the outbox for {to}"
    return code_in(messages[0].text)


async def test_a_code_is_accepted_once(svc: Services) -> None:
    target = Email.parse("Alice@Example.com")
    await svc.passcodes.send(POOL, LOGIN, target, "198.51.100.1")
    code = await last_code(svc, "alice@example.com")
    assert await svc.passcodes.check(POOL, LOGIN, Email.parse("alice@example.com"), code) is True
    assert await svc.passcodes.check(POOL, LOGIN, target, code) is False


async def test_the_code_is_bound_to_its_channel_pool_and_target(svc: Services) -> None:
    target = Phone.parse("13800138000", "+86")
    await svc.passcodes.send(POOL, VERIFY, target, "198.51.100.1")
    code = await last_code(svc, "+8613800138000")
    assert await svc.passcodes.check(POOL, LOGIN, target, code) is False
    assert await svc.passcodes.check("pool0000000000000000000b", VERIFY, target, code) is False
    assert await svc.passcodes.check(POOL, VERIFY, Phone.parse("13800138001", "+86"), code) is False
    assert await svc.passcodes.check(POOL, VERIFY, Phone.parse("+8613800138000"), code) is True


async def test_five_wrong_attempts_spend_the_code(svc: Services) -> None:
    target = Email.parse("bob@example.com")
    await svc.passcodes.send(POOL, LOGIN, target, "198.51.100.1")
    code = await last_code(svc, "bob@example.com")
    wrong = f"{(int(code) + 1) % 1_000_000:06d}"
    for _ in range(5):
        assert await svc.passcodes.check(POOL, LOGIN, target, wrong) is False
    assert await svc.passcodes.check(POOL, LOGIN, target, code) is False


async def test_the_right_code_after_four_wrong_ones_is_accepted(svc: Services) -> None:
    target = Email.parse("carol@example.com")
    await svc.passcodes.send(POOL, LOGIN, target, "198.51.100.1")
    code = await last_code(svc, "carol@example.com")
    for wrong in ("\ud800" * 6, "１２３４５６", "12345", "1234567"):  # a lone surrogate, full-width digits
        assert await svc.passcodes.check(POOL, LOGIN, target, wrong) is False
    assert await svc.passcodes.check(POOL, LOGIN, target, code) is True


async def test_a_code_expires_after_five_minutes(svc: Services, clock: ManualClock) -> None:
    first, second = Email.parse("dave@example.com"), Email.parse("erin@example.com")
    await svc.passcodes.send(POOL, LOGIN, first, "198.51.100.1")
    await svc.passcodes.send(POOL, LOGIN, second, "198.51.100.1")
    clock.advance(299.9)
    assert await svc.passcodes.check(POOL, LOGIN, first, await last_code(svc, "dave@example.com")) is True
    clock.advance(0.2)
    assert await svc.passcodes.check(POOL, LOGIN, second, await last_code(svc, "erin@example.com")) is False


async def test_a_new_code_replaces_the_old_one(svc: Services, clock: ManualClock) -> None:
    target = Email.parse("frank@example.com")
    await svc.passcodes.send(POOL, LOGIN, target, "198.51.100.1")
    old = await last_code(svc, "frank@example.com")
    new = old
    while new == old:  # one chance in a million that the new code has the same digits
        clock.advance(61)
        await svc.passcodes.send(POOL, LOGIN, target, "198.51.100.1")
        new = await last_code(svc, "frank@example.com")
    assert await svc.passcodes.check(POOL, LOGIN, target, old) is False
    assert await svc.passcodes.check(POOL, LOGIN, target, new) is True


@pytest.mark.usefixtures("counters")
async def test_one_send_a_minute_per_target(svc: Services, clock: ManualClock) -> None:
    email, phone = Email.parse("grace@example.com"), Phone.parse("13800138002")
    await svc.passcodes.send(POOL, LOGIN, email, "198.51.100.1")
    await svc.passcodes.send(POOL, VERIFY, phone, "198.51.100.1")
    clock.advance(59)
    with pytest.raises(EmailSendTooFrequent) as email_error:
        await svc.passcodes.send(POOL, VERIFY, email, "198.51.100.2")  # another channel, another IP
    assert (email_error.value.api_code, email_error.value.status_code) == (2080, 400)
    with pytest.raises(SmsSendTooFrequent) as sms_error:
        await svc.passcodes.send(POOL, VERIFY, phone, "198.51.100.2")
    assert sms_error.value.status_code == 422
    clock.advance(1)
    await svc.passcodes.send(POOL, VERIFY, email, "198.51.100.2")
    await svc.passcodes.send(POOL, VERIFY, phone, "198.51.100.2")


@pytest.mark.usefixtures("counters")
async def test_the_interval_is_configurable(make: Factory, clock: ManualClock) -> None:
    async with make(passcode_send_interval_seconds=5) as svc:
        target = Email.parse("heidi@example.com")
        await svc.passcodes.send(POOL, LOGIN, target, "198.51.100.1")
        clock.advance(4)
        with pytest.raises(EmailSendTooFrequent):
            await svc.passcodes.send(POOL, LOGIN, target, "198.51.100.1")
        clock.advance(1)
        await svc.passcodes.send(POOL, LOGIN, target, "198.51.100.1")


@pytest.mark.usefixtures("counters")
async def test_hourly_quota_per_client_ip(make: Factory, clock: ManualClock) -> None:
    clock.now -= clock.now % 3_600_000  # the start of an hour
    async with make(passcode_ip_hourly_limit=3) as svc:
        for n in range(3):
            await svc.passcodes.send(POOL, LOGIN, Email.parse(f"ip{n}@example.com"), "198.51.100.7")
        with pytest.raises(SendQuotaExceeded) as error:
            await svc.passcodes.send(POOL, LOGIN, Email.parse("ip3@example.com"), "198.51.100.7")
        assert error.value.status_code == 429
        # The refused send counted nothing: the target can get a code right away from another IP.
        await svc.passcodes.send(POOL, LOGIN, Email.parse("ip3@example.com"), "198.51.100.8")
        clock.advance(3600)
        await svc.passcodes.send(POOL, LOGIN, Email.parse("ip4@example.com"), "198.51.100.7")


@pytest.mark.usefixtures("counters")
async def test_hourly_quota_per_pool(make: Factory, clock: ManualClock) -> None:
    clock.now -= clock.now % 3_600_000
    async with make(passcode_pool_hourly_limit=2) as svc:
        await svc.passcodes.send(POOL, LOGIN, Email.parse("p0@example.com"), "198.51.100.1")
        await svc.passcodes.send(POOL, LOGIN, Phone.parse("13800138003"), "198.51.100.2")
        with pytest.raises(SendQuotaExceeded):
            await svc.passcodes.send(POOL, LOGIN, Email.parse("p1@example.com"), "198.51.100.3")
        await svc.passcodes.send("pool0000000000000000000b", LOGIN, Email.parse("p1@example.com"), "198.51.100.3")


@pytest.mark.usefixtures("counters")
async def test_parallel_sends_to_one_target_deliver_one_code(make: Factory) -> None:
    async with make() as one, make() as two:  # two instances on one database
        target = Email.parse("ivan@example.com")
        outcomes = await asyncio.gather(
            *(s.passcodes.send(POOL, LOGIN, target, f"198.51.100.{n}") for n, s in enumerate([one, two] * 10)),
            return_exceptions=True,
        )
        assert sum(o is None for o in outcomes) == 1
        assert all(o is None or isinstance(o, EmailSendTooFrequent) for o in outcomes), outcomes
        assert len([m for m in await one.outbox.list_messages(limit=50) if m.to == "ivan@example.com"]) == 1


@pytest.mark.usefixtures("counters")
async def test_parallel_sends_cannot_pass_the_ip_quota(make: Factory) -> None:
    async with make(passcode_ip_hourly_limit=5) as one, make(passcode_ip_hourly_limit=5) as two:
        outcomes = await asyncio.gather(
            *(
                s.passcodes.send(POOL, LOGIN, Email.parse(f"race{n}@example.com"), "198.51.100.9")
                for n, s in enumerate([one, two] * 10)
            ),
            return_exceptions=True,
        )
        assert sum(o is None for o in outcomes) == 5
        assert all(o is None or isinstance(o, SendQuotaExceeded) for o in outcomes), outcomes


async def test_twenty_parallel_correct_submissions_one_success(make: Factory) -> None:
    async with make() as one, make() as two:
        target = Email.parse("judy@example.com")
        await one.passcodes.send(POOL, VERIFY, target, "198.51.100.1")
        code = await last_code(one, "judy@example.com")
        results = await asyncio.gather(
            *(s.passcodes.check(POOL, VERIFY, target, code) for s in [one, two] * 10)
        )
        assert results.count(True) == 1 and results.count(False) == 19


async def test_parallel_wrong_guesses_cannot_pass_five_attempts(make: Factory) -> None:
    async with make() as one, make() as two:
        target = Email.parse("ken@example.com")
        await one.passcodes.send(POOL, VERIFY, target, "198.51.100.1")
        code = await last_code(one, "ken@example.com")
        guesses = [f"{n:06d}" for n in range(40) if f"{n:06d}" != code][:30]
        assert not any(
            await asyncio.gather(*(s.passcodes.check(POOL, VERIFY, target, g) for s, g in zip([one, two] * 15, guesses, strict=True)))
        )
        async with one.db.read() as conn:
            attempts = await conn.fetch_value("SELECT attempts FROM passcodes")
        assert attempts == 5
        assert await one.passcodes.check(POOL, VERIFY, target, code) is False


async def test_only_a_keyed_hash_of_the_code_is_stored(svc: Services) -> None:
    target = Email.parse("leo@example.com")
    await svc.passcodes.send(POOL, LOGIN, target, "198.51.100.1")
    code = await last_code(svc, "leo@example.com")
    async with svc.db.read() as conn:
        codes = [dict(r) for r in await conn.fetch_all("SELECT * FROM passcodes")]
        outbox = [dict(r) for r in await conn.fetch_all("SELECT * FROM outbox_messages")]
    assert len(codes) == 1 and len(codes[0]["code_hash"]) == 64
    assert code not in codes[0]["code_hash"] and code not in codes[0]["target"]  # text columns; the rest are times
    assert outbox and all(code not in row["ciphertext"] for row in outbox)
    assert all("leo@example.com" not in row["ciphertext"] for row in outbox)  # encrypted at rest


async def test_sending_is_audited_without_the_code(svc: Services) -> None:
    target = Phone.parse("13800138004")
    await svc.passcodes.send(POOL, VERIFY, target, "198.51.100.1", user_id="user000000000000000000001")
    code = await last_code(svc, "+8613800138004")
    events = await svc.audit.list_events(POOL, action="passcode.send")
    assert len(events) == 1
    event = events[0]
    assert event.target_user_id == "user000000000000000000001" and event.client_ip == "198.51.100.1"
    assert event.after == {"channel": "CHANNEL_VERIFY_MFA", "medium": "sms", "to": "+8613800138004", "via": "outbox"}
    assert event.before is None and code not in str(event.after)


async def test_sends_forget_expired_codes_and_past_counters(svc: Services, clock: ManualClock) -> None:
    await svc.passcodes.send(POOL, LOGIN, Email.parse("mia@example.com"), "198.51.100.1")
    clock.advance(2 * 3600)
    await svc.passcodes.send(POOL, LOGIN, Email.parse("nick@example.com"), "198.51.100.2")
    async with svc.db.read() as conn:
        targets = [r["target"] for r in await conn.fetch_all("SELECT target FROM passcodes")]
        scopes = sorted(r["scope"] for r in await conn.fetch_all("SELECT scope FROM passcode_quotas"))
        throttled = [r["scope"] for r in await conn.fetch_all("SELECT scope FROM passcode_throttles")]
    assert targets == ["email:nick@example.com"]
    assert scopes == ["ip:198.51.100.2", f"pool:{POOL}"]
    assert throttled == [f"target:{POOL}:email:nick@example.com"]



def _check_in_a_process(database_url: str, data_dir: str, code: str, barrier: Any, results: Any) -> None:
    """A worker process of its own: ten simultaneous checks of one code, started with the others."""

    async def main() -> list[bool]:
        settings = Settings(database_url=database_url, data_dir=data_dir, secret_key=SECRET_KEY)
        services = await build_services(settings)
        try:
            target = Email.parse("olga@example.com")
            barrier.wait(timeout=60)
            checks = (services.passcodes.check(POOL, VERIFY, target, code) for _ in range(10))
            return list(await asyncio.gather(*checks))
        finally:
            await services.close()

    results.put(asyncio.run(main()))


async def in_two_processes(target: Any, *args: Any) -> list[Any]:
    """Run ``target(*args, barrier, results)`` in two spawned processes; the batch each put, together."""
    context = multiprocessing.get_context("spawn")
    barrier, results = context.Barrier(2), context.Queue()
    workers = [context.Process(target=target, args=(*args, barrier, results)) for _ in range(2)]
    for worker in workers:
        worker.start()
    try:
        batches = [await asyncio.to_thread(results.get, True, 120) for _ in workers]
    finally:
        for worker in workers:
            worker.join(timeout=60)
    return [outcome for batch in batches for outcome in batch]


async def test_twenty_correct_submissions_from_two_processes_one_success(settings: Settings) -> None:
    svc = await build_services(settings)  # the system clock, as the worker processes have
    try:
        await svc.passcodes.send(POOL, VERIFY, Email.parse("olga@example.com"), "198.51.100.1")
        code = await last_code(svc, "olga@example.com")
    finally:
        await svc.close()
    outcomes = await in_two_processes(_check_in_a_process, settings.resolved_database_url, str(settings.data_dir), code)
    assert len(outcomes) == 20 and outcomes.count(True) == 1


def _send_in_a_process(database_url: str, data_dir: str, where: dict[str, Any], barrier: Any, results: Any) -> None:
    """A worker process of its own: ten simultaneous sends from one client address, with the others."""

    async def main() -> list[str]:
        settings = Settings(
            database_url=database_url, data_dir=data_dir, secret_key=SECRET_KEY, passcode_ip_hourly_limit=5, **where
        )
        at = 1_800_000_000_000 - 1_800_000_000_000 % 3_600_000 + 60_000  # one clock, inside one hour
        services = await build_services(settings, lambda: at)
        try:
            barrier.wait(timeout=60)
            sends = (
                services.passcodes.send(POOL, LOGIN, Email.parse(f"w{os.getpid()}-{n}@example.com"), "198.51.100.10")
                for n in range(10)
            )
            return ["sent" if o is None else type(o).__name__ for o in await asyncio.gather(*sends, return_exceptions=True)]
        finally:
            await services.close()

    results.put(asyncio.run(main()))


async def test_parallel_sends_from_two_processes_cannot_pass_the_ip_quota(settings: Settings, counters: dict[str, Any]) -> None:
    outcomes = await in_two_processes(_send_in_a_process, settings.resolved_database_url, str(settings.data_dir), counters)
    assert sorted(outcomes) == ["SendQuotaExceeded"] * 15 + ["sent"] * 5, outcomes
