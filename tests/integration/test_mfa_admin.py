"""The administrators' MFA endpoints: lock status, unlock, reset of one factor or all (with the reset
hook the sign-in flow uses to revoke refresh tokens), over HTTP on the in-process app."""

from __future__ import annotations

from collections.abc import Sequence

import pytest

from tests.mfa_support import OtpUser, otp_user
from twofold.api.v3.dto import iso
from twofold.config import Settings
from twofold.domain.mfa import Factor
from twofold.storage.database import Connection

FACTORS = ["OTP", "SMS", "EMAIL", "FACE"]


@pytest.fixture
async def otp(settings: Settings) -> OtpUser:  # type: ignore[misc]
    async with otp_user(settings) as user:
        yield user


async def lock_out(otp: OtpUser) -> None:
    for _ in range(5):
        assert not await otp.services.mfa_check.check_totp(otp.pool_id, otp.user_id, otp.wrong_code())


async def lock_status(otp: OtpUser, **query: str) -> dict[str, dict[str, object]]:
    data = await otp.api.ok("GET", "twofold/get-mfa-lock-status", query or {"userId": otp.user_id})
    assert data["userId"] == otp.user_id
    assert [f["factor"] for f in data["factors"]] == FACTORS
    return {f["factor"]: f for f in data["factors"]}


async def test_the_lock_status_shows_failures_and_the_lock(otp: OtpUser) -> None:
    fresh = await lock_status(otp)
    assert fresh["OTP"] == {"factor": "OTP", "failures": 0, "locked": False, "lockedUntil": None, "lastFailureAt": None}
    await lock_out(otp)
    status = await lock_status(otp)
    assert status["OTP"] == {
        "factor": "OTP",
        "failures": 5,
        "locked": True,
        "lockedUntil": iso(otp.clock() + 60_000),
        "lastFailureAt": iso(otp.clock()),
    }
    assert status["SMS"]["failures"] == 0  # per factor
    otp.clock.advance(60)
    after = await lock_status(otp)
    assert (after["OTP"]["failures"], after["OTP"]["locked"], after["OTP"]["lockedUntil"]) == (5, False, None)


async def test_unlock_clears_the_lock_and_the_count(otp: OtpUser) -> None:
    await lock_out(otp)
    code = otp.code()
    assert not await otp.services.mfa_check.check_totp(otp.pool_id, otp.user_id, code)
    data = await otp.api.ok("POST", "twofold/unlock-mfa", {"userId": otp.user_id, "factor": "OTP"})
    assert data == {"success": True, "unlockedFactors": ["OTP"]}
    assert (await lock_status(otp))["OTP"]["failures"] == 0
    assert await otp.services.mfa_check.check_totp(otp.pool_id, otp.user_id, code)
    events = [e for e in await otp.audit() if e["action"] == "mfa.unlock"]
    assert len(events) == 1 and events[0]["actor"] != f"user:{otp.user_id}"


async def test_unlock_without_a_factor_unlocks_all_by_any_user_id_type(otp: OtpUser) -> None:
    await lock_out(otp)
    user = await otp.api.ok("GET", "get-user", {"userId": otp.user_id})
    body = {"userId": user["username"], "userIdType": "username"}
    assert await otp.api.ok("POST", "twofold/unlock-mfa", body) == {"success": True, "unlockedFactors": ["OTP"]}
    assert await otp.api.ok("POST", "twofold/unlock-mfa", body) == {"success": True, "unlockedFactors": []}
    status = await lock_status(otp, userId=user["email"], userIdType="email")
    assert all(f["failures"] == 0 for f in status.values())


async def test_reset_of_otp_removes_the_authenticator_and_its_counters(otp: OtpUser) -> None:
    await lock_out(otp)
    data = await otp.api.ok("POST", "twofold/reset-mfa-factor", {"userId": otp.user_id, "factor": "OTP"})
    assert data == {"success": True, "userId": otp.user_id, "factors": ["OTP"], "otpRemoved": True}
    assert (await lock_status(otp))["OTP"]["failures"] == 0
    assert not await otp.services.mfa_check.totp.verify_totp(otp.pool_id, otp.user_id, otp.code())
    info = await otp.api.ok("GET", "get-user-mfa-info", {"userId": otp.user_id})
    assert info["totpStatus"] == "disabled"
    body = await otp.api.get("get-otp-secret-by-user", userId=otp.user_id)
    assert body["apiCode"] == 40404
    again = await otp.api.ok("POST", "twofold/reset-mfa-factor", {"userId": otp.user_id})
    assert again == {"success": True, "userId": otp.user_id, "factors": FACTORS, "otpRemoved": False}
    resets = [e for e in await otp.audit() if e["action"] == "mfa.factor.reset"]
    assert [e["after"] for e in resets] == [
        {"factors": FACTORS, "otpRemoved": False},
        {"factors": ["OTP"], "otpRemoved": True},
    ]


async def test_reset_of_another_factor_keeps_the_authenticator(otp: OtpUser) -> None:
    data = await otp.api.ok("POST", "twofold/reset-mfa-factor", {"userId": otp.user_id, "factor": "SMS"})
    assert data == {"success": True, "userId": otp.user_id, "factors": ["SMS"], "otpRemoved": False}
    assert await otp.services.mfa_check.totp.verify_totp(otp.pool_id, otp.user_id, otp.code())


async def test_reset_hooks_run_in_the_reset_transaction(otp: OtpUser) -> None:
    calls: list[tuple[str, str, list[Factor]]] = []

    async def revoke(conn: Connection, pool_id: str, user_id: str, factors: Sequence[Factor]) -> None:
        calls.append((pool_id, user_id, list(factors)))
        if len(calls) == 2:
            raise RuntimeError("the revocation failed")

    otp.services.mfa_admin.add_reset_hook(revoke)
    await otp.api.ok("POST", "twofold/reset-mfa-factor", {"userId": otp.user_id, "factor": "SMS"})
    assert calls == [(otp.pool_id, otp.user_id, [Factor.SMS])]
    with pytest.raises(RuntimeError):
        await otp.services.mfa_admin.reset_factor(_admin(otp), otp.user_id, None, "OTP")
    # the failed hook undid the reset: the authenticator is still there
    assert await otp.services.mfa_check.totp.verify_totp(otp.pool_id, otp.user_id, otp.code())


@pytest.mark.parametrize("path", ["twofold/unlock-mfa", "twofold/reset-mfa-factor"])
async def test_bad_input_is_refused_and_changes_nothing(otp: OtpUser, path: str) -> None:
    await lock_out(otp)
    for body, api_code in (
        ({"userId": otp.user_id, "factor": "PASSWORD"}, 40003),
        ({"userId": otp.user_id, "factor": ""}, 40003),
        ({"userId": otp.user_id, "factor": "otp"}, 40003),
        ({"userId": "nobody"}, 40401),
        ({"userId": otp.user_id, "userIdType": "nonsense"}, 40001),
        ({}, 40001),
    ):
        response = await otp.api.post(path, body)
        assert response["apiCode"] == api_code, (body, response)
        assert response["statusCode"] in (400, 404)
    status = await lock_status(otp)
    assert (status["OTP"]["failures"], status["OTP"]["locked"]) == (5, True)
    assert await otp.services.mfa_check.totp.verify_totp(otp.pool_id, otp.user_id, otp.code())


async def test_the_lock_status_of_nobody_is_not_found(otp: OtpUser) -> None:
    body = await otp.api.get("twofold/get-mfa-lock-status", userId="nobody")
    assert (body["statusCode"], body["apiCode"]) == (404, 40401)


def _admin(otp: OtpUser):  # type: ignore[no-untyped-def]
    from twofold.services.context import Caller, Principal

    return Caller(Principal(otp.pool_id, "test-admin", frozenset()), "req-test", "127.0.0.1")
