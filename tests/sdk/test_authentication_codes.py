"""The SDK's code calls against the real app in-process, on every database backend: ``send_email`` /
``send_sms``, ``sign_in_by_passcode``, the SMS/email MFA step, SMS/EMAIL enrolment, the user's
factors, the login history and ``verify_mfa_token``, with their typed errors.

Codes are read from the dev outbox (the transport when none is configured: a real component, the
message encrypted in the database), as a person reads the email or SMS; the same calls over a real
SMTP server are in ``test_authentication_codes_live.py``. The services run on a clock the test moves
past the one-code-a-minute interval per target instead of waiting.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx
import jwt
import pytest
from fastapi import FastAPI

from tests.delivery_peers import ManualClock, code_in
from tests.sdk.conftest import IN_PROCESS_HOST, in_process_client, person
from twofold.config import Settings
from twofold.services.container import Services, bootstrap, build_services
from twofold_client import (
    ApplicationMfa,
    AsyncAuthenticationClient,
    AsyncManagementClient,
    AuthenticationError,
    BadRequestError,
    Channel,
    Factor,
    MfaChallenge,
    MfaSignIn,
    MfaTriggerData,
    NotFoundError,
    PermissionDeniedError,
    WrongCodeError,
)

PASSWORD = "codes sdk password 9"  # noqa: S105 - a test password


@pytest.fixture
def clock() -> ManualClock:
    """Two minutes behind: JWTs issued on this clock are checked (``iat``) against the real time, so
    the clock must not run ahead of it; a test moves it by a minute at most."""
    return ManualClock(int(time.time() * 1000) - 120_000)


@pytest.fixture
async def services(settings: Settings, clock: ManualClock) -> AsyncIterator[Services]:
    """The root ``services`` on ``clock`` (the ``app`` fixture builds on it)."""
    built = await build_services(settings, clock)
    await bootstrap(built, settings)
    try:
        yield built
    finally:
        await built.close()


@dataclass
class Scene:
    services: Services
    admin: AsyncManagementClient
    auth: AsyncAuthenticationClient
    pool_id: str
    clock: ManualClock

    def a_minute_later(self) -> None:
        """Past the send interval, so the same target may get another code."""
        self.clock.advance(61)

    async def code_to(self, to: str) -> str:
        """The code of the newest message to ``to`` (an address, or an E.164 number)."""
        messages = [m for m in await self.services.outbox.list_messages(self.pool_id) if m.to == to]
        assert messages, f"no code was sent to {to}"
        return code_in(messages[0].text)

    async def user(self, *factors: Factor, **fields: Any) -> dict[str, Any]:
        """A user (``person()`` fields, ``None`` values left out) whose policy challenges ``factors``."""
        values = {k: v for k, v in person(password=PASSWORD, **fields).items() if v is not None}
        user = await self.admin.create_user(**values)
        if factors:
            policy = [ApplicationMfa(mfa_policy=f, status=1, sort=i) for i, f in enumerate(factors)]
            await self.admin.set_users_mfa_status(
                MfaTriggerData(mfa_token="-", application_mfa=policy), user.user_id
            )
        return {**values, "user_id": user.user_id}

    async def challenge(self, user: dict[str, Any]) -> MfaChallenge:
        result = await self.auth.sign_in_by_password(PASSWORD, email=user["email"])
        assert result.mfa is not None
        return result.mfa


@pytest.fixture
async def scene(app: FastAPI, services: Services, clock: ManualClock) -> AsyncIterator[Scene]:
    async with in_process_client(app) as admin:
        application = await admin.create_application("SDK codes", app_identifier=f"codes-{person()['username']}")
        await admin.update_application_mfa_settings(
            application.app_id, enabled_factors=[Factor.OTP, Factor.SMS, Factor.EMAIL]
        )
        assert application.app_secret and application.user_pool_id
        async with AsyncAuthenticationClient(
            application.app_id,
            application.app_secret,
            IN_PROCESS_HOST,
            transport=httpx.ASGITransport(app=app),
            backoff_factor=0,
        ) as auth:
            yield Scene(services, admin, auth, application.user_pool_id, clock)


def amr(result: MfaSignIn) -> list[str]:
    claims = jwt.decode(result.tokens.id_token or "", options={"verify_signature": False})
    return list(claims["amr"])


async def test_passcode_sign_in_by_email_and_by_phone(scene: Scene) -> None:
    user = await scene.user()
    assert await scene.auth.send_email(user["email"].upper(), Channel.CHANNEL_LOGIN) is None
    code = await scene.code_to(user["email"])
    tokens = (await scene.auth.sign_in_by_passcode(code, email=user["email"])).tokens
    assert tokens is not None and tokens.refresh_token
    assert (await scene.auth.get_profile(tokens.access_token)).user_id == user["user_id"]
    with pytest.raises(AuthenticationError) as spent:  # a code signs in once
        await scene.auth.sign_in_by_passcode(code, email=user["email"])
    assert (spent.value.status_code, spent.value.api_code) == (401, 40110)

    await scene.auth.send_sms(user["phone"], "CHANNEL_LOGIN", phone_country_code="+86")
    by_phone = await scene.auth.sign_in_by_passcode(
        await scene.code_to(f"+86{user['phone']}"), phone=user["phone"], phone_country_code="+86"
    )
    assert by_phone.tokens is not None and by_phone.mfa is None
    claims = jwt.decode(by_phone.tokens.id_token or "", options={"verify_signature": False})
    assert claims["amr"] == ["otp"]

    # an address nobody has gets the same answer and no message
    assert await scene.auth.send_email("nobody-codes@example.com", Channel.CHANNEL_LOGIN) is None
    assert [m for m in await scene.services.outbox.list_messages(scene.pool_id) if "nobody" in m.to] == []


async def test_passcode_sign_in_meets_the_mfa_policy(scene: Scene) -> None:
    user = await scene.user(Factor.EMAIL)
    await scene.auth.send_email(user["email"], Channel.CHANNEL_LOGIN)
    result = await scene.auth.sign_in_by_passcode(await scene.code_to(user["email"]), email=user["email"])
    assert result.mfa is not None and result.mfa.factors == [Factor.EMAIL]
    scene.a_minute_later()
    await scene.auth.send_email(user["email"], Channel.CHANNEL_VERIFY_MFA, token=result.mfa.mfa_token)
    done = await scene.auth.verify_email_code(result.mfa.mfa_token, user["email"], await scene.code_to(user["email"]))
    assert amr(done) == ["otp", "mfa", "email"]


async def test_the_email_mfa_step_after_a_password_sign_in(scene: Scene) -> None:
    user = await scene.user(Factor.EMAIL)
    challenge = await scene.challenge(user)
    assert challenge.factors == [Factor.EMAIL] and challenge.email == user["email"]
    assert challenge.is_enrolled(Factor.EMAIL) and not challenge.must_enroll(Factor.EMAIL)

    live = await scene.auth.verify_mfa_token(challenge.mfa_token)
    assert (live.active, live.user_id, live.user_pool_id) == (True, user["user_id"], scene.pool_id)
    assert live.exp is not None and live.iat is not None and live.exp > live.iat
    assert (await scene.auth.verify_mfa_token(challenge.mfa_token)).active  # introspection spends nothing

    await scene.auth.send_email(user["email"], Channel.CHANNEL_VERIFY_MFA, token=challenge.mfa_token)
    code = await scene.code_to(user["email"])
    with pytest.raises(WrongCodeError) as wrong:
        await scene.auth.verify_email_code(challenge.mfa_token, user["email"], "000000" if code != "000000" else "111111")
    assert (wrong.value.status_code, wrong.value.api_code) == (400, 2001) and wrong.value.request_id
    assert isinstance(wrong.value, BadRequestError)
    done = await scene.auth.verify_email_code(challenge.mfa_token, user["email"], code)  # the mfaToken lived on
    assert isinstance(done, MfaSignIn) and done.user.user_id == user["user_id"] and done.user.email == user["email"]
    assert done.tokens.refresh_token and amr(done) == ["pwd", "mfa", "email"]
    assert (await scene.auth.get_profile(done.tokens.access_token)).user_id == user["user_id"]

    assert (await scene.auth.verify_mfa_token(challenge.mfa_token)).active is False  # spent now
    assert (await scene.auth.verify_mfa_token("not-an-mfa-token")).model_dump(exclude_none=True) == {"active": False}
    with pytest.raises(AuthenticationError) as spent:
        await scene.auth.verify_email_code(challenge.mfa_token, user["email"], code)
    assert spent.value.api_code == 2021


async def test_the_sms_mfa_step_and_a_wrong_phone(scene: Scene) -> None:
    user = await scene.user(Factor.SMS)
    challenge = await scene.challenge(user)
    assert challenge.is_enrolled(Factor.SMS) and not challenge.must_enroll(Factor.SMS)
    await scene.auth.send_sms(user["phone"], Channel.CHANNEL_VERIFY_MFA, token=challenge.mfa_token)
    code = await scene.code_to(f"+86{user['phone']}")
    with pytest.raises(WrongCodeError) as other_phone:  # the right code, not the bound phone
        await scene.auth.verify_sms_code(challenge.mfa_token, "13999999999", code)
    assert other_phone.value.api_code == 2001
    done = await scene.auth.verify_sms_code(challenge.mfa_token, user["phone"], code, "+86")
    assert amr(done) == ["pwd", "mfa", "sms"]


async def test_refused_targets_and_channels_raise_the_mapped_errors(scene: Scene) -> None:
    user = await scene.user(Factor.EMAIL)
    challenge = await scene.challenge(user)
    with pytest.raises(PermissionDeniedError) as not_own:
        await scene.auth.send_sms("13900000000", Channel.CHANNEL_VERIFY_MFA, token=challenge.mfa_token)
    assert (not_own.value.status_code, not_own.value.api_code) == (403, 40310)
    with pytest.raises(PermissionDeniedError):
        await scene.auth.send_email("someone-else@example.com", Channel.CHANNEL_VERIFY_MFA, token=challenge.mfa_token)
    with pytest.raises(BadRequestError) as channel:
        await scene.auth.send_email(user["email"], "CHANNEL_RESET_PASSWORD")
    assert (channel.value.status_code, channel.value.api_code) == (400, 40041)
    with pytest.raises(AuthenticationError) as no_token:
        await scene.auth.send_email(user["email"], Channel.CHANNEL_VERIFY_MFA)
    assert no_token.value.api_code == 2021
    assert [m.to for m in await scene.services.outbox.list_messages(scene.pool_id)] == []  # nothing went out


async def test_sms_enrolment_with_the_mfa_token_then_the_factors(scene: Scene) -> None:
    user = await scene.user(Factor.SMS, phone=None)  # no phone: SMS must be enrolled first
    challenge = await scene.challenge(user)
    assert challenge.must_enroll(Factor.SMS) and not challenge.is_enrolled(Factor.SMS)
    assert not challenge.must_enroll(Factor.EMAIL)  # not challenged

    pending = await scene.auth.send_enroll_factor_request(
        challenge.mfa_token, Factor.SMS, {"phoneNumber": "13712345678", "phoneCountryCode": "+86"}
    )
    assert pending.enrollment_token and pending.otp_data is None
    code = await scene.code_to("+8613712345678")
    with pytest.raises(WrongCodeError) as wrong:
        await scene.auth.enroll_factor(
            challenge.mfa_token, pending.enrollment_token, "000000" if code != "000000" else "111111",
            factor_type=Factor.SMS,
        )
    assert wrong.value.api_code == 40062
    await scene.auth.enroll_factor(challenge.mfa_token, pending.enrollment_token, code, factor_type="SMS")

    # the binding code is spent: a fresh CHANNEL_VERIFY_MFA code finishes the sign-in
    scene.a_minute_later()
    await scene.auth.send_sms("13712345678", Channel.CHANNEL_VERIFY_MFA, phone_country_code="+86",
                              token=challenge.mfa_token)  # fmt: skip
    done = await scene.auth.verify_sms_code(challenge.mfa_token, "13712345678", await scene.code_to("+8613712345678"))
    access = done.tokens.access_token

    [factor] = await scene.auth.list_enrolled_factors(access)
    assert (factor.factor_type, factor.phone_number, factor.phone_country_code, factor.email) == (
        Factor.SMS, "13712345678", "+86", None,
    )  # fmt: skip
    assert await scene.auth.get_factor(access, factor.factor_id) == factor
    assert await scene.auth.list_factors_to_enroll(access) == [Factor.OTP, Factor.EMAIL]

    await scene.auth.reset_factor(access, factor.factor_id)
    assert await scene.auth.list_enrolled_factors(access) == []
    assert await scene.auth.list_factors_to_enroll(access) == [Factor.OTP, Factor.SMS, Factor.EMAIL]
    with pytest.raises(NotFoundError) as gone:
        await scene.auth.get_factor(access, factor.factor_id)
    assert (gone.value.status_code, gone.value.api_code) == (404, 40063)
    with pytest.raises(NotFoundError):
        await scene.auth.reset_factor(access, factor.factor_id)
    with pytest.raises(AuthenticationError) as mfa_token:  # the factors need an access token
        await scene.auth.list_factors_to_enroll(challenge.mfa_token)
    assert mfa_token.value.api_code == 40111


async def test_email_enrolment_with_an_access_token(scene: Scene) -> None:
    user = await scene.user()
    tokens = (await scene.auth.sign_in_by_password(PASSWORD, email=user["email"])).tokens
    assert tokens is not None
    new_address = f"new-{user['email']}"
    pending = await scene.auth.send_enroll_factor_request(tokens.access_token, Factor.EMAIL, {"email": new_address.upper()})
    await scene.auth.enroll_factor(
        tokens.access_token, pending.enrollment_token, await scene.code_to(new_address), factor_type=Factor.EMAIL
    )
    [factor] = await scene.auth.list_enrolled_factors(tokens.access_token)
    assert (factor.factor_type, factor.email, factor.profile) == (Factor.EMAIL, new_address, {"email": new_address})
    with pytest.raises(BadRequestError) as bad_profile:
        await scene.auth.send_enroll_factor_request(tokens.access_token, Factor.EMAIL, {"email": "not an address"})
    assert bad_profile.value.api_code == 40001


async def test_must_enroll_follows_the_servers_enrolment_rule(scene: Scene) -> None:
    """OTP and SMS challenged, a phone bound, no authenticator: SMS passes the sign-in, so OTP need not
    (and with the mfaToken may not) be enrolled."""
    user = await scene.user(Factor.OTP, Factor.SMS)
    challenge = await scene.challenge(user)
    assert challenge.factors == [Factor.OTP, Factor.SMS]
    assert not challenge.is_enrolled(Factor.OTP) and challenge.is_enrolled(Factor.SMS)
    assert not challenge.must_enroll(Factor.OTP) and not challenge.must_enroll(Factor.SMS)
    with pytest.raises(AuthenticationError) as refused:
        await scene.auth.send_enroll_factor_request(challenge.mfa_token, Factor.OTP)
    assert refused.value.api_code == 2021

    nothing_bound = await scene.challenge(await scene.user(Factor.OTP, Factor.SMS, phone=None))
    assert nothing_bound.must_enroll(Factor.OTP) and nothing_bound.must_enroll(Factor.SMS)
    pending = await scene.auth.send_enroll_factor_request(nothing_bound.mfa_token, Factor.OTP)
    assert pending.otp_data is not None


async def test_the_users_own_login_history(scene: Scene) -> None:
    user = await scene.user()
    with pytest.raises(AuthenticationError):
        await scene.auth.sign_in_by_password("wrong password", email=user["email"])
    tokens = (await scene.auth.sign_in_by_password(PASSWORD, email=user["email"])).tokens
    assert tokens is not None
    history = await scene.auth.get_login_history(tokens.access_token)
    assert history.total_count == 2
    newest, oldest = history.list
    assert (newest.outcome, newest.success, newest.login_method, newest.user_id) == (
        "success", True, "PASSWORD", user["user_id"],
    )  # fmt: skip
    assert (oldest.outcome, oldest.success) == ("failure", False)
    failures = await scene.auth.get_login_history(tokens.access_token, success=False)
    assert [e.outcome for e in failures.list] == ["failure"] and failures.total_count == 1
    first_page = await scene.auth.get_login_history(tokens.access_token, page=2, limit=1)
    assert (first_page.total_count, [e.outcome for e in first_page.list]) == (2, ["failure"])
    other_app = await scene.auth.get_login_history(tokens.access_token, app_id="no-such-app")
    assert (other_app.total_count, other_app.list) == (0, [])
    with pytest.raises(AuthenticationError) as bad:
        await scene.auth.get_login_history("not-a-token")
    assert bad.value.api_code == 40111
