"""MFA failure counting and lockout: per user and factor, every 5th failure locks for a doubling time
(capped), a success or an unlock clears it, a locked factor answers like a wrong code, and parallel
failures cannot count past a lock.  Time is an injected clock: no test sleeps."""

from __future__ import annotations

import asyncio

import pytest

from tests.mfa_support import OtpUser, otp_user, run_workers
from twofold.config import Settings
from twofold.domain.lockout import LockoutPolicy
from twofold.domain.mfa import Factor
from twofold.services.mfa_admin import FactorLock
from twofold.services.totp_check import Outcome
from twofold.storage.database import Connection
from twofold.storage.repositories.mfa_failures import OnAccept, after_accept

LIMIT = 5


@pytest.fixture
async def otp(settings: Settings) -> OtpUser:  # type: ignore[misc]
    async with otp_user(settings) as user:
        yield user


async def check(otp: OtpUser, code: str) -> bool:
    return await otp.services.mfa_check.check_totp(otp.pool_id, otp.user_id, code)


async def otp_lock(otp: OtpUser) -> FactorLock:
    _, locks = await otp.services.mfa_admin.lock_status(otp.pool_id, otp.user_id, None)
    return next(lock for lock in locks if lock.factor is Factor.OTP)


async def fail(otp: OtpUser, times: int) -> None:
    for _ in range(times):
        assert not await check(otp, otp.wrong_code())


async def test_the_fifth_failure_locks_and_a_locked_factor_refuses_the_right_code(otp: OtpUser) -> None:
    await fail(otp, LIMIT - 1)
    lock = await otp_lock(otp)
    assert (lock.failures, lock.locked, lock.locked_until) == (LIMIT - 1, False, None)
    await fail(otp, 1)
    lock = await otp_lock(otp)
    assert (lock.failures, lock.locked, lock.locked_until) == (LIMIT, True, otp.clock() + 60_000)
    assert not await check(otp, otp.code())  # the right code, refused like a wrong one
    assert (await otp_lock(otp)).failures == LIMIT  # and not counted
    otp.clock.advance(59)
    assert not await check(otp, otp.code())
    otp.clock.advance(1)  # the lock is over
    assert await check(otp, otp.code())
    assert (await otp_lock(otp)).failures == 0


async def test_a_locked_attempt_does_not_spend_the_code(otp: OtpUser) -> None:
    await fail(otp, LIMIT)
    code = otp.code()
    assert not await check(otp, code)
    await otp.services.mfa_admin.unlock(_caller(otp), otp.user_id, None, "OTP")
    assert await check(otp, code)  # the same code, still unused


async def test_lock_times_double_and_are_capped(otp: OtpUser) -> None:
    policy = LockoutPolicy()  # the defaults the services use: 5, 60 s, 900 s
    assert otp.services.mfa_check.policy == policy
    seen = []
    for lock_number in range(1, 8):
        await fail(otp, LIMIT)
        lock = await otp_lock(otp)
        assert lock.locked and lock.failures == LIMIT * lock_number
        seen.append((lock.locked_until or 0) - otp.clock())
        otp.clock.advance(seen[-1] / 1000)
    assert seen == [60_000, 120_000, 240_000, 480_000, 900_000, 900_000, 900_000]
    assert seen == [policy.lock_ms(LIMIT * k) for k in range(1, 8)]


async def test_a_success_clears_the_count(otp: OtpUser) -> None:
    await fail(otp, LIMIT - 1)
    assert await check(otp, otp.code())
    await fail(otp, LIMIT - 1)
    assert not (await otp_lock(otp)).locked
    assert (await otp_lock(otp)).failures == LIMIT - 1


async def test_a_replayed_code_is_refused_and_not_counted(otp: OtpUser) -> None:
    code = otp.code()
    assert await check(otp, code)
    for _ in range(LIMIT + 2):
        assert not await check(otp, code)
    assert (await otp_lock(otp)).failures == 0


async def test_the_recovery_code_shares_the_otp_lock(otp: OtpUser) -> None:
    check_rc = otp.services.mfa_check.check_recovery_code
    for _ in range(LIMIT):
        assert not await check_rc(otp.pool_id, otp.user_id, "rc-wrong")
    assert (await otp_lock(otp)).locked
    assert not await check_rc(otp.pool_id, otp.user_id, otp.recovery_code)
    otp.clock.advance(60)
    assert await check_rc(otp.pool_id, otp.user_id, otp.recovery_code)
    assert not await check_rc(otp.pool_id, otp.user_id, otp.recovery_code)  # spent


async def test_parallel_failures_cannot_count_past_the_lock(otp: OtpUser) -> None:
    codes = [otp.wrong_code()] * 20
    results = await asyncio.gather(*(check(otp, c) for c in codes))
    assert results == [False] * 20
    lock = await otp_lock(otp)
    assert (lock.failures, lock.locked, lock.locked_until) == (LIMIT, True, otp.clock() + 60_000)


async def test_one_code_checked_20_times_at_once_wins_once_and_is_audited_once(otp: OtpUser) -> None:
    """The winner's compare-and-set, cleared count and audit event are one write (one statement on
    PostgreSQL): the losers leave no ``verified`` event and clear nothing, and are not counted."""
    await fail(otp, LIMIT - 1)
    code = otp.code()
    results = await asyncio.gather(*(check(otp, code) for _ in range(20)))
    assert sorted(results) == [False] * 19 + [True]
    actions = [e["action"] for e in await otp.audit()]
    assert actions.count("mfa.factor.verified") == 1
    assert (await otp_lock(otp)).failures == 0
    await fail(otp, 1)
    assert (await otp_lock(otp)).failures == 1  # a loser's replay did not touch the count afterwards


async def test_parallel_failures_in_two_processes_cannot_count_past_the_lock(
    otp: OtpUser, settings: Settings
) -> None:
    results = run_workers(settings, otp.clock(), otp.pool_id, otp.user_id, "check", otp.wrong_code(), 10)
    assert results == [False] * 20
    lock = await otp_lock(otp)
    assert (lock.failures, lock.locked, lock.locked_until) == (LIMIT, True, otp.clock() + 60_000)


async def test_failures_are_counted_per_user(otp: OtpUser) -> None:
    from tests.mfa_support import bind_otp

    other = await bind_otp(otp.api, otp.secret, "rc-other")
    await fail(otp, LIMIT)
    assert not await check(otp, otp.code())
    assert await otp.services.mfa_check.check_totp(otp.pool_id, other, otp.code())


async def test_audit_events_record_the_attempts_and_never_the_code(otp: OtpUser) -> None:
    wrong, right = otp.wrong_code(), otp.code()
    for _ in range(LIMIT):
        assert not await check(otp, wrong)
    assert not await check(otp, right)  # locked
    otp.clock.advance(60)
    later = otp.code()
    assert await check(otp, later)
    assert not await check(otp, later)  # replayed
    events = list(reversed(await otp.audit()))
    mfa = [(e["action"], e["after"].get("reason")) for e in events if e["action"].startswith("mfa.factor")]
    assert mfa == [("mfa.factor.failed", "wrong_code")] * 4 + [
        ("mfa.factor.lockout", None),
        ("mfa.factor.failed", "wrong_code"),
        ("mfa.factor.failed", "locked"),
        ("mfa.factor.verified", None),
        ("mfa.factor.failed", "replayed"),
    ]
    assert all(e["actor"] == f"user:{otp.user_id}" for e in events if e["action"].startswith("mfa.factor"))
    for value in _values(events):
        for secret in (wrong, right, later, otp.secret):
            assert secret not in value if isinstance(value, str) else str(value) != secret.lstrip("0"), value


def _values(value: object) -> list[object]:
    """Every scalar in a JSON document (codes may hide in a string or be an integer)."""
    if isinstance(value, dict):
        return [v for item in value.values() for v in _values(item)]
    if isinstance(value, list):
        return [v for item in value for v in _values(item)]
    return [value]


def _caller(otp: OtpUser):  # type: ignore[no-untyped-def]
    from twofold.services.context import Caller, Principal

    return Caller(Principal(otp.pool_id, "test-admin", frozenset()), "req-test", "127.0.0.1")


async def test_the_database_computes_the_same_lock_times_as_the_formula(settings: Settings) -> None:
    """Every failure locks (limit 1), base 1 s, cap 30 days: the SQL shift, up to and past the cap."""
    tight = settings.model_copy(
        update={"mfa_max_failures": 1, "mfa_lockout_base_seconds": 1, "mfa_lockout_max_seconds": 30 * 86400}
    )
    async with otp_user(tight) as otp:
        policy = otp.services.mfa_check.policy
        assert policy == LockoutPolicy(1, 1_000, 30 * 86400 * 1000)
        for failures in range(1, 40):
            await fail(otp, 1)
            lock = await otp_lock(otp)
            assert lock.failures == failures
            assert (lock.locked_until or 0) - otp.clock() == policy.lock_ms(failures), failures
            otp.clock.advance(((lock.locked_until or 0) - otp.clock()) / 1000)
        assert policy.lock_ms(39) == 30 * 86400 * 1000


class _EmailCode:
    """An email code compared elsewhere (the sign-in flow brings its own): only its outcome matters here."""

    def __init__(self, outcome: Outcome) -> None:
        self.outcome = outcome

    async def accept(self, conn: Connection, then: OnAccept | None = None) -> Outcome:
        if self.outcome is Outcome.ACCEPTED and then is not None:
            await after_accept(conn, then)
        return self.outcome


async def test_failures_are_counted_per_factor(otp: OtpUser) -> None:
    async def wrong_email() -> _EmailCode:
        return _EmailCode(Outcome.WRONG)

    check = otp.services.mfa_check
    for _ in range(LIMIT):
        assert not await check.check_factor(otp.pool_id, otp.user_id, Factor.EMAIL, wrong_email)
    _, locks = await otp.services.mfa_admin.lock_status(otp.pool_id, otp.user_id, None)
    assert [(lock.factor, lock.failures, lock.locked) for lock in locks] == [
        (Factor.OTP, 0, False), (Factor.SMS, 0, False), (Factor.EMAIL, LIMIT, True), (Factor.FACE, 0, False),
    ]
    assert await check.check_totp(otp.pool_id, otp.user_id, otp.code())  # OTP is not locked by EMAIL

    async def right_email() -> _EmailCode:
        return _EmailCode(Outcome.ACCEPTED)

    assert not await check.check_factor(otp.pool_id, otp.user_id, Factor.EMAIL, right_email)  # locked
