"""SMS and EMAIL enrolment in-process on both databases, the codes read from a real aiosmtpd server and
a real webhook receiver, with the clock injected: a wrong code changes nothing, the enrollmentToken
lives 60 s, the send limits hold, an mfaToken enrols only what its sign-in must enrol, and the user's
own factors can be listed, read and reset (docs/signin.md#enrolment, #enrolled-factors)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from tests.delivery_peers import Factory, ManualClock
from tests.enrolment_support import Peers, running_peers
from twofold.config import Settings
from twofold.errors import (
    EmailSendTooFrequent,
    EnrollmentTokenInvalid,
    EnrolmentCodeWrong,
    FactorNotFound,
    InvalidParameter,
    InvalidUserToken,
    MfaTokenInvalid,
    SmsSendTooFrequent,
)
from twofold.services.enrolment import ENROLLMENT_TTL_MS
from twofold.services.signin import RequestFacts

FACTS = RequestFacts("req-enrol-codes", "198.51.100.7")


@pytest.fixture
async def peers(make: Factory, settings: Settings, clock: ManualClock) -> AsyncIterator[Peers]:
    async with running_peers(make, settings, clock) as running:
        yield running


async def test_sms_enrolment_binds_the_phone_only_with_its_code(peers: Peers) -> None:
    enrolment = peers.services.enrolment
    app_id = await peers.app(["OTP", "SMS", "EMAIL"])
    user_id = await peers.user(phone="13800138101")
    token = await peers.access_token(user_id, app_id)
    started = await enrolment.start(token, "SMS", {"phoneNumber": "13900139101", "phoneCountryCode": "+86"}, "ip")
    assert started.otp is None
    code = peers.last_sms_code("+8613900139101")
    assert peers.hook.delivered[-1]["json"]["purpose"] == "CHANNEL_BIND_MFA"
    assert (await peers.status(user_id))["mfaPhone"] is None  # nothing bound yet

    wrong = next(c for c in ("000000", "111111") if c != code)
    with pytest.raises(EnrolmentCodeWrong):
        await enrolment.confirm(token, "SMS", started.enrollment_token, wrong, FACTS)
    with pytest.raises(EnrollmentTokenInvalid):  # the token is for SMS
        await enrolment.confirm(token, "EMAIL", started.enrollment_token, code, FACTS)
    assert (await peers.status(user_id))["mfaPhone"] is None  # a wrong code changed nothing

    await enrolment.confirm(token, "SMS", started.enrollment_token, code, FACTS)
    status = await peers.status(user_id)
    assert (status["mfaPhone"], status["mfaPhoneCountryCode"]) == ("13900139101", "+86")
    with pytest.raises(EnrollmentTokenInvalid):  # used once
        await enrolment.confirm(token, "SMS", started.enrollment_token, code, FACTS)
    factors = await peers.services.factors.list_enrolled(token)
    assert [(f.factor_type, f.profile) for f in factors] == [
        ("SMS", {"phoneNumber": "13900139101", "phoneCountryCode": "+86"})
    ]
    actions = await peers.actions(user_id)
    assert ("mfa.factor.enrolled", {"factor": "SMS"}) in actions
    assert all(code not in str(after) for _, after in actions)  # never the code


async def test_email_enrolment_keeps_the_old_address_until_confirmed_and_the_token_lives_60_s(
    peers: Peers,
) -> None:
    enrolment = peers.services.enrolment
    app_id = await peers.app(["EMAIL"])
    user_id = await peers.user()
    await peers.api.ok("POST", "set-mfa-status", {"userId": user_id, "mfaTriggerData": {
        "mfaToken": "-", "applicationMfa": [{"mfaPolicy": "EMAIL", "status": 1, "sort": 0}],
        "mfaEmail": "old-factor@example.com"}})
    token = await peers.access_token(user_id, app_id)

    late = await enrolment.start(token, "EMAIL", {"email": "New-Factor@Example.com"}, "ip")
    late_code = peers.last_email_code("new-factor@example.com")
    peers.clock.advance(ENROLLMENT_TTL_MS / 1000)
    with pytest.raises(EnrollmentTokenInvalid):
        await enrolment.confirm(token, "EMAIL", late.enrollment_token, late_code, FACTS)
    assert (await peers.status(user_id))["mfaEmail"] == "old-factor@example.com"  # unchanged

    # one code per minute per address: the interval has passed with the clock
    in_time = await enrolment.start(token, "EMAIL", {"email": "new-factor@example.com"}, "ip")
    with pytest.raises(EmailSendTooFrequent):
        await enrolment.start(token, "EMAIL", {"email": "new-factor@example.com"}, "ip")
    code = peers.last_email_code("new-factor@example.com")
    assert len(peers.mail.received) == 2  # the refused send sent nothing
    peers.clock.advance(ENROLLMENT_TTL_MS / 1000 - 0.001)
    await enrolment.confirm(token, "EMAIL", in_time.enrollment_token, code, FACTS)
    assert (await peers.status(user_id))["mfaEmail"] == "new-factor@example.com"


async def test_bad_profiles_are_refused_before_anything_is_sent(peers: Peers) -> None:
    enrolment = peers.services.enrolment
    app_id = await peers.app(["SMS", "EMAIL"])
    token = await peers.access_token(await peers.user(), app_id)
    for factor, profile in (("SMS", {}), ("SMS", {"phoneNumber": "12"}), ("EMAIL", {"email": "no-at"}),
                            ("EMAIL", {"email": 7}), ("SMS", {"phoneNumber": "13800138000", "phoneCountryCode": 86})):
        with pytest.raises(InvalidParameter):
            await enrolment.start(token, factor, profile, "ip")
    with pytest.raises(InvalidUserToken):
        await enrolment.start("not-a-token", "SMS", {"phoneNumber": "13900139109"}, "ip")
    assert peers.hook.requests == [] and peers.mail.received == []
    await enrolment.start(token, "SMS", {"phoneNumber": "13900139109"}, "ip")  # +86 by default
    with pytest.raises(SmsSendTooFrequent):
        await enrolment.start(token, "SMS", {"phoneNumber": "+8613900139109"}, "ip")
    assert [r["json"]["to"] for r in peers.hook.delivered] == ["+8613900139109"]


async def test_an_mfa_token_enrols_only_what_its_sign_in_must_enrol_and_stays_unspent(peers: Peers) -> None:
    enrolment, tickets = peers.services.enrolment, peers.services.mfa_tickets
    app_id = await peers.app(["EMAIL", "SMS"])
    user_id = await peers.user(email=None, phone=None, username="no-contact-user")
    await peers.api.ok("POST", "set-mfa-status", {"userId": user_id, "mfaTriggerData": {
        "mfaToken": "-", "applicationMfa": [{"mfaPolicy": "EMAIL", "status": 1, "sort": 0}]}})
    mfa_token = tickets.mint(peers.pool_id, user_id, app_id, "openid")
    with pytest.raises(MfaTokenInvalid):  # SMS is not challenged
        await enrolment.start(mfa_token, "SMS", {"phoneNumber": "13900139102"}, "ip")
    started = await enrolment.start(mfa_token, "EMAIL", {"email": "bind-me@example.com"}, "ip")
    await enrolment.confirm(mfa_token, "EMAIL", started.enrollment_token,
                            peers.last_email_code("bind-me@example.com"), FACTS)
    assert (await peers.status(user_id))["mfaEmail"] == "bind-me@example.com"
    assert (await tickets.verify_mfa_token(mfa_token)).user_id == user_id  # unspent: it can still finish

    # now EMAIL is enrolled: the same kind of mfaToken may not bind another address next to it
    again = tickets.mint(peers.pool_id, user_id, app_id, "openid")
    with pytest.raises(MfaTokenInvalid):
        await enrolment.start(again, "EMAIL", {"email": "attacker@example.com"}, "ip")
    assert [m.recipients for m in peers.mail.received] == [["bind-me@example.com"]]


async def test_the_user_lists_reads_and_resets_their_own_factors(peers: Peers) -> None:
    enrolment, factors = peers.services.enrolment, peers.services.factors
    app_id = await peers.app(["OTP", "SMS", "EMAIL", "FACE"])
    user_id, other_id = await peers.user(), await peers.user()
    token, other = await peers.access_token(user_id, app_id), await peers.access_token(other_id, app_id)
    assert await factors.list_enrolled(token) == []
    assert await factors.to_enroll(token) == ["OTP", "SMS", "EMAIL"]  # FACE cannot be enrolled here

    for who, address in ((token, "mine@example.com"), (other, "theirs@example.com")):
        started = await enrolment.start(who, "EMAIL", {"email": address}, "ip")
        await enrolment.confirm(who, "EMAIL", started.enrollment_token, peers.last_email_code(address), FACTS)
    assert await factors.to_enroll(token) == ["OTP", "SMS"]
    (mine,) = await factors.list_enrolled(token)
    (theirs,) = await factors.list_enrolled(other)
    assert mine.factor_id != theirs.factor_id and len(mine.factor_id) == 24
    assert (await factors.list_enrolled(token))[0].factor_id == mine.factor_id  # stable
    assert (await factors.get(token, mine.factor_id)).profile == {"email": "mine@example.com"}
    for foreign in (theirs.factor_id, "", None, "0" * 24):
        with pytest.raises(FactorNotFound):
            await factors.get(token, foreign)
        with pytest.raises(FactorNotFound):
            await factors.reset(token, foreign, FACTS)
    assert (await peers.status(other_id))["mfaEmail"] == "theirs@example.com"  # not reset by another user

    assert await factors.reset(token, mine.factor_id, FACTS) == "EMAIL"
    assert (await peers.status(user_id))["mfaEmail"] is None
    assert await factors.list_enrolled(token) == []
    with pytest.raises(FactorNotFound):
        await factors.reset(token, mine.factor_id, FACTS)
    assert ("mfa.factor.reset", {"factor": "EMAIL"}) in await peers.actions(user_id)
    # the user stays signed in: a user-side reset revokes nothing
    assert (await peers.services.tokens.verify_access_token(token)).user_id == user_id
    mfa_token = peers.services.mfa_tickets.mint(peers.pool_id, user_id, app_id, "openid")
    with pytest.raises(InvalidUserToken):  # reading and resetting need the user's access token
        await factors.list_enrolled(mfa_token)


async def test_concurrent_confirmations_bind_once_and_a_token_is_its_users_own(peers: Peers) -> None:
    enrolment = peers.services.enrolment
    app_id = await peers.app(["SMS"])
    user_id, other_id = await peers.user(), await peers.user()
    token, other = await peers.access_token(user_id, app_id), await peers.access_token(other_id, app_id)
    started = await enrolment.start(token, "SMS", {"phoneNumber": "13900139110"}, "ip")
    code = peers.last_sms_code("+8613900139110")
    with pytest.raises(EnrollmentTokenInvalid):  # another user's enrollmentToken, even with its code
        await enrolment.confirm(other, "SMS", started.enrollment_token, code, FACTS)

    async def confirm() -> str:
        try:
            await enrolment.confirm(token, "SMS", started.enrollment_token, code, FACTS)
        except (EnrolmentCodeWrong, EnrollmentTokenInvalid) as refused:
            return type(refused).__name__
        return "bound"

    results = await asyncio.gather(*(confirm() for _ in range(10)))
    assert results.count("bound") == 1, results
    assert (await peers.status(user_id))["mfaPhone"] == "13900139110"
    assert (await peers.status(other_id))["mfaPhone"] is None
    enrolled = [a for a in await peers.actions(user_id) if a[0] == "mfa.factor.enrolled"]
    assert enrolled == [("mfa.factor.enrolled", {"factor": "SMS"})]
