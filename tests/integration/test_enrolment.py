"""OTP enrolment in-process on both databases, with the clock injected into the services: the 60 s
enrollmentToken, a pending enrolment that leaves the active authenticator alone until confirmed, the
recovery code kept only as a digest, and the audit trail (docs/signin.md#enrolment)."""

from __future__ import annotations

import pyotp
import pytest

from tests.mfa_support import OtpUser, otp_user
from twofold.config import Settings
from twofold.errors import EnrollmentTokenInvalid, EnrolmentCodeWrong, InvalidUserToken, MfaTokenInvalid
from twofold.services.enrolment import ENROLLMENT_TTL_MS
from twofold.services.signin import RequestFacts
from twofold.services.totp_check import HASHED_RECOVERY
from twofold.storage.repositories import otp as otp_repo

FACTS = RequestFacts("req-enrol", "127.0.0.1")


@pytest.fixture
async def otp(settings: Settings) -> OtpUser:  # type: ignore[misc]
    async with otp_user(settings) as user:
        yield user


async def user_token(otp: OtpUser) -> str:
    app = await otp.api.ok("POST", "create-application", {"appName": "Enrolment"})
    view = await otp.services.users.get_user(otp.pool_id, otp.user_id, "user_id")
    tokens = await otp.services.tokens.issue(view.user, app["appId"], "openid profile", ["pwd"])
    return tokens.access_token


def code_of(secret_uri: str, otp: OtpUser, steps: int = 0) -> str:
    return pyotp.parse_uri(secret_uri).at(otp.clock() / 1000 + 30 * steps)


async def stored_recovery(otp: OtpUser) -> str | None:
    async with otp.services.db.read() as conn:
        found = await otp_repo.find(conn, otp.pool_id, otp.user_id)
    return None if found is None or found.recovery_code_ciphertext is None else found.recovery_code_ciphertext


async def test_a_pending_enrolment_leaves_the_active_authenticator_until_confirmed(
    otp: OtpUser, settings: Settings
) -> None:
    enrolment, checker = otp.services.enrolment, otp.services.mfa_check.totp
    token = await user_token(otp)
    started = await enrolment.start_otp(token, "OTP")
    new_code = code_of(started.qr_code_uri, otp)
    assert not await checker.verify_totp(otp.pool_id, otp.user_id, new_code)  # not bound yet
    assert await checker.verify_totp(otp.pool_id, otp.user_id, otp.code())  # the old one still is
    otp.clock.advance(30)

    with pytest.raises(EnrolmentCodeWrong):
        await enrolment.confirm_otp(
            token, "OTP", started.enrollment_token, otp.code(), FACTS
        )  # the old secret's
    assert await checker.verify_totp(otp.pool_id, otp.user_id, otp.code())  # the wrong code changed nothing

    await enrolment.confirm_otp(
        token, "OTP", started.enrollment_token, code_of(started.qr_code_uri, otp), FACTS
    )
    otp.clock.advance(30)
    assert not await checker.verify_totp(otp.pool_id, otp.user_id, otp.code())  # replaced
    assert not await checker.verify_totp(
        otp.pool_id, otp.user_id, code_of(started.qr_code_uri, otp, -1)
    )  # spent
    assert await checker.verify_totp(otp.pool_id, otp.user_id, code_of(started.qr_code_uri, otp))
    assert [f.factor_type for f in await otp.services.factors.list_enrolled(token)] == ["OTP"]

    # the recovery code: only a digest is stored; it works once, the imported one no longer does
    stored = await stored_recovery(otp)
    assert stored is not None and (await otp.services.keyring.decrypt(stored)).startswith(
        HASHED_RECOVERY
    )
    assert not await checker.verify_recovery_code(otp.pool_id, otp.user_id, otp.recovery_code)
    assert await checker.verify_recovery_code(otp.pool_id, otp.user_id, started.recovery_code.upper())
    assert not await checker.verify_recovery_code(otp.pool_id, otp.user_id, started.recovery_code)

    events = await otp.audit()
    enrolled = [e for e in events if e["action"] == "mfa.factor.enrolled"]
    assert enrolled == [
        {"action": "mfa.factor.enrolled", "after": {"factor": "OTP"}, "actor": f"user:{otp.user_id}"}
    ]
    assert any(e["action"] == "mfa.status.set" and e["after"]["totpMfaEnabled"] is True for e in events)
    secret = pyotp.parse_uri(started.qr_code_uri).secret
    assert all(secret not in str(e) and started.recovery_code not in str(e) for e in events)


async def test_the_enrollment_token_lives_60_seconds(otp: OtpUser) -> None:
    enrolment = otp.services.enrolment
    token = await user_token(otp)
    late = await enrolment.start_otp(token, "OTP")
    otp.clock.advance(ENROLLMENT_TTL_MS / 1000)
    with pytest.raises(EnrollmentTokenInvalid):
        await enrolment.confirm_otp(
            token, "OTP", late.enrollment_token, code_of(late.qr_code_uri, otp), FACTS
        )
    assert await otp.services.mfa_check.totp.verify_totp(otp.pool_id, otp.user_id, otp.code())  # unchanged

    in_time = await enrolment.start_otp(token, "OTP")
    otp.clock.advance(ENROLLMENT_TTL_MS / 1000 - 0.001)
    await enrolment.confirm_otp(
        token, "OTP", in_time.enrollment_token, code_of(in_time.qr_code_uri, otp), FACTS
    )


async def test_tokens_that_may_not_enrol_are_refused(otp: OtpUser) -> None:
    enrolment = otp.services.enrolment
    for bad in (None, "", "not-a-token", "Bearer x"):
        with pytest.raises(InvalidUserToken):
            await enrolment.start_otp(bad, "OTP")
    # an mfaToken of a sign-in that does not have to enrol OTP (the user has one bound) cannot replace it
    app = await otp.api.ok("POST", "create-application", {"appName": "Enrolment"})
    ticket = otp.services.mfa_tickets.mint(otp.pool_id, otp.user_id, app["appId"], "openid")
    with pytest.raises(MfaTokenInvalid):
        await enrolment.start_otp(ticket, "OTP")
    # an enrollmentToken is the user's own; an unknown one is refused
    token = await user_token(otp)
    with pytest.raises(EnrollmentTokenInvalid):
        await enrolment.confirm_otp(token, "OTP", "no-such-token", otp.code(), FACTS)
