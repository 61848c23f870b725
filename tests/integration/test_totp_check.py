"""TOTP verification on a bound authenticator: ±1 step, each step accepted once, and one code sent many
times at once accepted exactly once (compare-and-set in the database), in one process and across two."""

from __future__ import annotations

import asyncio

import pyotp
import pytest

from tests.mfa_support import FakeClock, OtpUser, bind_otp, otp_user, run_workers, step_start
from twofold.config import Settings
from twofold.services.totp_check import HASHED_RECOVERY, matching_steps, time_step
from twofold.storage.repositories import otp as otp_repo

RACERS = 20


@pytest.fixture
async def otp(settings: Settings) -> OtpUser:  # type: ignore[misc]
    async with otp_user(settings) as user:
        yield user


async def verify(otp: OtpUser, code: str) -> bool:
    return await otp.services.mfa_check.totp.verify_totp(otp.pool_id, otp.user_id, code)


async def test_the_current_code_is_accepted_once(otp: OtpUser) -> None:
    code = otp.code()
    assert await verify(otp, code)
    assert not await verify(otp, code)  # the same step again: a replay
    otp.clock.advance(10)  # same step, later
    assert not await verify(otp, code)


async def test_one_step_either_side_is_accepted_and_two_are_not(otp: OtpUser) -> None:
    assert not await verify(otp, otp.code(-2))
    assert not await verify(otp, otp.code(2))
    assert await verify(otp, otp.code(-1))
    assert await verify(otp, otp.code(0))
    assert await verify(otp, otp.code(1))


async def test_an_older_step_is_refused_after_a_newer_one_was_accepted(otp: OtpUser) -> None:
    older, newer = otp.code(0), otp.code(1)
    assert await verify(otp, newer)
    assert not await verify(otp, older)  # inside the window, but older than the last accepted step
    otp.clock.advance(30)  # now ``newer`` is the current step's code: still used
    assert not await verify(otp, newer)
    assert await verify(otp, otp.code(1))


async def test_malformed_and_wrong_codes_are_refused(otp: OtpUser) -> None:
    right = otp.code()
    for code in ("", "12345", right + "0", right[:5], "abcdef", "١٢٣٤٥٦", otp.wrong_code(), f"{right}\x00"):
        assert not await verify(otp, code), code
    assert await verify(otp, f"{right[:3]} {right[3:]}")  # as people type it


async def test_a_user_without_an_authenticator_is_refused(otp: OtpUser) -> None:
    assert not await otp.services.mfa_check.totp.verify_totp(otp.pool_id, "no-such-user", otp.code())
    assert not await otp.services.mfa_check.totp.verify_totp("other-pool", otp.user_id, otp.code())


async def test_binding_a_new_secret_starts_a_new_history(otp: OtpUser) -> None:
    assert await verify(otp, otp.code())
    otp.secret = pyotp.random_base32(32)
    item = {"userId": otp.user_id, "otp": {"secret": otp.secret}}
    await otp.api.ok("POST", "import-otp", {"list": [item]})
    assert await verify(otp, otp.code())


async def test_the_recovery_code_works_once(otp: OtpUser) -> None:
    totp = otp.services.mfa_check.totp
    assert not await totp.verify_recovery_code(otp.pool_id, otp.user_id, "rc-0000-0000")
    assert await totp.verify_recovery_code(otp.pool_id, otp.user_id, otp.recovery_code.upper())
    assert not await totp.verify_recovery_code(otp.pool_id, otp.user_id, otp.recovery_code)
    assert await verify(otp, otp.code())  # the authenticator itself is untouched


async def test_twenty_simultaneous_submissions_of_one_code_give_one_success(otp: OtpUser) -> None:
    code = otp.code()
    results = await asyncio.gather(*(verify(otp, code) for _ in range(RACERS)))
    assert results.count(True) == 1
    # through the sign-in entry point too (next step's code: a fresh one), and the losers are not
    # counted as failures: they typed the right code
    code = otp.code(1)
    check = otp.services.mfa_check
    results = await asyncio.gather(*(check.check_totp(otp.pool_id, otp.user_id, code) for _ in range(RACERS)))
    assert results.count(True) == 1
    _, locks = await otp.services.mfa_admin.lock_status(otp.pool_id, otp.user_id, None)
    assert [(lock.failures, lock.locked) for lock in locks] == [(0, False)] * 4


async def test_twenty_simultaneous_recovery_code_uses_give_one_success(otp: OtpUser) -> None:
    check = otp.services.mfa_check
    results = await asyncio.gather(
        *(check.check_recovery_code(otp.pool_id, otp.user_id, otp.recovery_code) for _ in range(RACERS))
    )
    assert results.count(True) == 1


@pytest.mark.parametrize("mode", ["verify", "check"])
async def test_one_code_in_two_processes_at_once_gives_one_success(otp: OtpUser, settings: Settings, mode: str) -> None:
    results = run_workers(settings, otp.clock(), otp.pool_id, otp.user_id, mode, otp.code(), RACERS // 2)
    assert len(results) == RACERS
    assert results.count(True) == 1
    assert not await verify(otp, otp.code())  # and this process sees the step as used


async def test_one_recovery_code_in_two_processes_at_once_gives_one_success(otp: OtpUser, settings: Settings) -> None:
    results = run_workers(
        settings, otp.clock(), otp.pool_id, otp.user_id, "recovery", otp.recovery_code, RACERS // 2
    )
    assert results.count(True) == 1 and len(results) == RACERS


async def test_many_users_race_independently(settings: Settings) -> None:
    clock = FakeClock(step_start())
    async with otp_user(settings, clock) as first:
        other_secret = pyotp.random_base32(32)
        other = await bind_otp(first.api, other_secret, "rc-other")
        code = first.code()
        other_code = pyotp.TOTP(other_secret).generate_otp(time_step(clock()))
        totp = first.services.mfa_check.totp
        results = await asyncio.gather(
            *(totp.verify_totp(first.pool_id, first.user_id, code) for _ in range(10)),
            *(totp.verify_totp(first.pool_id, other, other_code) for _ in range(10)),
        )
        assert results[:10].count(True) == 1 and results[10:].count(True) == 1


def test_matching_steps_uses_the_window_of_now() -> None:
    secret = pyotp.random_base32(32)
    at = 1_700_000_000_000
    now = time_step(at)
    totp = pyotp.TOTP(secret)
    for offset in (-1, 0, 1):
        assert now + offset in matching_steps(secret, totp.generate_otp(now + offset), at)
    for offset in (-2, 2):
        assert now + offset not in matching_steps(secret, totp.generate_otp(now + offset), at)


async def test_a_user_without_an_authenticator_is_refused_and_not_counted(otp: OtpUser) -> None:
    await otp.api.ok("POST", "twofold/reset-mfa-factor", {"userId": otp.user_id, "factor": "OTP"})
    for _ in range(6):
        assert not await otp.services.mfa_check.check_totp(otp.pool_id, otp.user_id, otp.code())
    _, locks = await otp.services.mfa_admin.lock_status(otp.pool_id, otp.user_id, None)
    assert locks[0].failures == 0
    reasons = {e["after"].get("reason") for e in await otp.audit() if e["action"] == "mfa.factor.failed"}
    assert reasons == {"not_bound"}


async def test_an_imported_recovery_code_is_kept_only_as_its_digest(otp: OtpUser, settings: Settings) -> None:
    async with otp.services.db.read() as conn:
        stored = await otp_repo.find(conn, otp.pool_id, otp.user_id)
    assert stored is not None and stored.recovery_code_ciphertext is not None
    kept = await otp.services.keyring.decrypt(stored.recovery_code_ciphertext)
    assert kept.startswith(HASHED_RECOVERY) and otp.recovery_code.lower() not in kept.lower()


async def test_a_recovery_code_given_at_user_creation_works_once_and_is_kept_as_its_digest(otp: OtpUser) -> None:
    """create-users-batch with ``otp`` stores what import-otp stores: the code's digest, not the code."""
    created = await otp.api.ok("POST", "create-users-batch", {"list": [
        {"username": "batch-otp", "otp": {"secret": pyotp.random_base32(32), "recoveryCode": "rc-7777-8888"}}]})
    user_id = created[0]["userId"]
    async with otp.services.db.read() as conn:
        stored = await otp_repo.find(conn, otp.pool_id, user_id)
    assert stored is not None and stored.recovery_code_ciphertext is not None
    kept = await otp.services.keyring.decrypt(stored.recovery_code_ciphertext)
    assert kept.startswith(HASHED_RECOVERY) and "7777" not in kept
    totp = otp.services.mfa_check.totp
    assert await totp.verify_recovery_code(otp.pool_id, user_id, "RC-7777-8888")
    assert not await totp.verify_recovery_code(otp.pool_id, user_id, "rc-7777-8888")
