"""The code calls of ``AuthenticationClient`` and its async twin against ``twofold serve`` over real
sockets, on both databases, with the codes read where a person reads them: from a real SMTP server
(aiosmtpd) and a real SMS webhook receiver, both in the test process (``delivering_server``)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from tests.compat.conftest import DeliveringServer, delivering_server  # noqa: F401 - the fixture
from tests.sdk.conftest import person
from twofold_client import (
    ApplicationMfa,
    AsyncAuthenticationClient,
    AsyncManagementClient,
    AuthenticationClient,
    Channel,
    Factor,
    ManagementClient,
    MfaTriggerData,
    NotFoundError,
    PermissionDeniedError,
    WrongCodeError,
)

PASSWORD = "live codes password 5"  # noqa: S105 - a test password


def policy(*factors: Factor) -> MfaTriggerData:
    return MfaTriggerData(
        mfa_token="-", application_mfa=[ApplicationMfa(mfa_policy=f, status=1, sort=i) for i, f in enumerate(factors)]
    )


def test_sync_passcode_sign_in_and_the_email_and_sms_mfa_steps(delivering_server: DeliveringServer) -> None:  # noqa: F811
    live = delivering_server.server
    with ManagementClient(live.access_key_id, live.access_key_secret, live.base_url) as admin:
        app = admin.create_application("Live codes", app_identifier=f"live-codes-{person()['username']}")
        admin.update_application_mfa_settings(app.app_id, enabled_factors=[Factor.SMS, Factor.EMAIL])
        plain, by_email, by_sms = (person(password=PASSWORD) for _ in range(3))
        for fields in (plain, by_email, by_sms):
            fields["user_id"] = admin.create_user(**fields).user_id
        admin.set_users_mfa_status(policy(Factor.EMAIL), by_email["user_id"])
        admin.set_users_mfa_status(policy(Factor.SMS), by_sms["user_id"])
    assert app.app_secret

    with AuthenticationClient(app.app_id, app.app_secret, live.base_url) as auth:
        auth.send_email(plain["email"], Channel.CHANNEL_LOGIN)
        signed_in = auth.sign_in_by_passcode(delivering_server.mail_code(plain["email"]), email=plain["email"])
        assert signed_in.tokens is not None
        [entry] = auth.get_login_history(signed_in.tokens.access_token).list
        assert (entry.login_method, entry.outcome, entry.app_id) == ("PASSCODE", "success", app.app_id)

        challenge = auth.sign_in_by_password(PASSWORD, email=by_email["email"]).mfa
        assert challenge is not None and not challenge.must_enroll(Factor.EMAIL)
        assert auth.verify_mfa_token(challenge.mfa_token).user_id == by_email["user_id"]
        auth.send_email(by_email["email"], Channel.CHANNEL_VERIFY_MFA, token=challenge.mfa_token)
        code = delivering_server.mail_code(by_email["email"])
        with pytest.raises(WrongCodeError) as wrong:
            auth.verify_email_code(challenge.mfa_token, by_email["email"], "000000" if code != "000000" else "111111")
        assert wrong.value.api_code == 2001
        done = auth.verify_email_code(challenge.mfa_token, by_email["email"], code)
        assert done.user.user_id == by_email["user_id"]
        assert auth.get_profile(done.tokens.access_token).email == by_email["email"]
        assert auth.verify_mfa_token(challenge.mfa_token).active is False

        sms_challenge = auth.sign_in_by_password(PASSWORD, username=by_sms["username"]).mfa
        assert sms_challenge is not None and sms_challenge.factors == [Factor.SMS]
        with pytest.raises(PermissionDeniedError) as not_own:
            auth.send_sms("13900000001", Channel.CHANNEL_VERIFY_MFA, token=sms_challenge.mfa_token)
        assert not_own.value.api_code == 40310 and delivering_server.texts_to("+8613900000001") == []
        auth.send_sms(by_sms["phone"], Channel.CHANNEL_VERIFY_MFA, token=sms_challenge.mfa_token)
        sms_code = delivering_server.sms_code(f"+86{by_sms['phone']}")
        assert auth.verify_sms_code(sms_challenge.mfa_token, by_sms["phone"], sms_code).user.user_id == by_sms["user_id"]


async def test_async_email_enrolment_and_the_factors(delivering_server: DeliveringServer) -> None:  # noqa: F811
    live = delivering_server.server
    async with AsyncManagementClient(live.access_key_id, live.access_key_secret, live.base_url) as admin:
        app = await admin.create_application("Live factors", app_identifier=f"live-factors-{person()['username']}")
        await admin.update_application_mfa_settings(app.app_id, enabled_factors=[Factor.OTP, Factor.EMAIL])
        fields = person(password=PASSWORD)
        await admin.create_user(**fields)
    assert app.app_secret

    async with AsyncAuthenticationClient(app.app_id, app.app_secret, live.base_url) as auth:
        tokens = (await auth.sign_in_by_password(PASSWORD, email=fields["email"])).tokens
        assert tokens is not None
        assert await auth.list_factors_to_enroll(tokens.access_token) == [Factor.OTP, Factor.EMAIL]
        address = f"bound-{fields['email']}"
        pending = await auth.send_enroll_factor_request(tokens.access_token, Factor.EMAIL, {"email": address})
        await auth.enroll_factor(
            tokens.access_token, pending.enrollment_token, delivering_server.mail_code(address), factor_type=Factor.EMAIL
        )
        [factor] = await auth.list_enrolled_factors(tokens.access_token)
        assert (factor.factor_type, factor.email) == (Factor.EMAIL, address)
        assert (await auth.get_factor(tokens.access_token, factor.factor_id)).email == address
        assert await auth.list_factors_to_enroll(tokens.access_token) == [Factor.OTP]
        await auth.reset_factor(tokens.access_token, factor.factor_id)
        assert await auth.list_enrolled_factors(tokens.access_token) == []
        with pytest.raises(NotFoundError):
            await auth.get_factor(tokens.access_token, factor.factor_id)


README = Path(__file__).resolve().parents[2] / "clients" / "python" / "README.md"


def test_the_readme_codes_example_runs(delivering_server: DeliveringServer) -> None:  # noqa: F811
    """The README's ``Codes`` example as written, with ``input()`` answered from the SMS webhook and
    the SMTP server, for the user it names."""
    [block] = [b for b in re.findall(r"```python\n(.*?)```", README.read_text(), re.S) if "sign_in_by_passcode" in b]
    live = delivering_server.server
    with ManagementClient(live.access_key_id, live.access_key_secret, live.base_url) as admin:
        app = admin.create_application("README codes", app_identifier=f"readme-codes-{person()['username']}")
        admin.update_application_mfa_settings(app.app_id, enabled_factors=[Factor.EMAIL])
        user = admin.create_user(email="dana@example.com", phone="13800000000", password="correct horse battery staple")
        admin.set_users_mfa_status(policy(Factor.EMAIL), user.user_id)
    assert app.app_secret
    answers = iter([lambda: delivering_server.sms_code("+8613800000000"), lambda: delivering_server.mail_code("dana@example.com")])
    printed: list[tuple[Any, ...]] = []
    with AuthenticationClient(app.app_id, app.app_secret, live.base_url) as auth:
        scope: dict[str, Any] = {"auth": auth, "input": lambda prompt: next(answers)(), "print": lambda *a: printed.append(a)}
        exec(compile(block, str(README), "exec"), scope)  # noqa: S102 - the README's own code
        assert scope["result"].mfa is not None  # the passcode sign-in met the EMAIL policy
    [(email, access_token)] = printed
    assert email == "dana@example.com" and access_token
