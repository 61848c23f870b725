"""Sending codes over the wire and using them: ``send-sms`` / ``send-email`` / the v2 sends with their
target rules, ``connection: PASSCODE`` sign-in, and the v2 SMS/email MFA step with its lockout,
in-process on both databases (docs/delivery.md#who-may-send-to-whom, docs/signin.md#passcode-sign-in).

Codes are read from the dev outbox (the default transport, a real component: encrypted in the
database); the contract tests over real SMTP and a real webhook are in
tests/compat/test_codes_genauth_python_sdk.py and tests/compat/test_codes_authing_js_sdk.py.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx
import jwt
import pytest

from tests.conftest import Api
from tests.delivery_peers import code_in
from tests.factories import user_payload
from twofold.api.app import create_app
from twofold.config import Settings
from twofold.services.container import Services, bootstrap, build_services

PASSWORD = "correct horse battery staple"  # noqa: S105 - a test password
MAX_FAILURES = 3
ACCOUNT_FAILURES = 4


@dataclass
class Env:
    services: Services
    http: httpx.AsyncClient
    api: Api
    app: dict[str, Any]

    async def call(self, path: str, body: dict[str, Any], token: str | None = None, **headers: str) -> dict[str, Any]:
        sent = {"x-genauth-app-id": self.app["appId"], **headers}
        if token is not None:
            sent["authorization"] = token
        response = await self.http.post(path, json=body, headers=sent)
        assert response.status_code == 200, response.text
        result: dict[str, Any] = response.json()
        return result

    async def codes_to(self, to: str) -> list[str]:
        """The codes the outbox holds for ``to``, newest first."""
        return [code_in(m.text) for m in await self.services.outbox.list_messages(self.app["userPoolId"]) if m.to == to]

    async def latest_code(self, to: str) -> str:
        codes = await self.codes_to(to)
        assert codes, f"no code was sent to {to}"
        return codes[0]

    async def sign_in(self, payload: dict[str, Any], connection: str = "PASSWORD") -> dict[str, Any]:
        member = "passwordPayload" if connection == "PASSWORD" else "passCodePayload"
        body = {"connection": connection, member: payload, "client_id": self.app["appId"],
                "client_secret": self.app["appSecret"]}
        return await self.call("/api/v3/signin", body)

    async def mfa_token(self, user: dict[str, Any]) -> str:
        body = await self.sign_in({"email": user["email"], "password": PASSWORD})
        assert body["apiCode"] == 1636, body
        token: str = body["data"]["mfaToken"]
        return token

    async def require(self, user: dict[str, Any], *factors: str, **targets: str) -> None:
        policies = [{"mfaPolicy": f, "status": 1, "sort": i} for i, f in enumerate(factors)]
        await self.api.ok("POST", "set-mfa-status", {"userId": user["userId"], "mfaTriggerData": {
            "mfaToken": "-", "applicationMfa": policies, **targets}})


@pytest.fixture
async def env(settings: Settings) -> AsyncIterator[Env]:
    overrides = {"mfa_max_failures": MAX_FAILURES, "signin_max_failures_per_account": ACCOUNT_FAILURES}
    built = await build_services(settings.model_copy(update=overrides))
    await bootstrap(built, settings)
    transport = httpx.ASGITransport(app=create_app(settings, built))
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://twofold.test") as http:
            api = await Api(http).login()
            app = await api.ok("POST", "create-application", {"appName": "Codes"})
            await api.ok("POST", "update-application-mfa-settings",
                         {"appId": app["appId"], "enabledFactors": ["OTP", "SMS", "EMAIL"]})
            yield Env(built, http, api, app)
    finally:
        await built.close()


async def new_user(env: Env, **extra: Any) -> dict[str, Any]:
    user: dict[str, Any] = await env.api.ok("POST", "create-user", user_payload(password=PASSWORD, **extra))
    return user


def e164(user: dict[str, Any]) -> str:
    return f"+86{user['phone']}"


async def audit_actions(env: Env) -> list[dict[str, Any]]:
    events: list[dict[str, Any]] = await env.api.ok("GET", "twofold/list-audit-events", {"limit": 500})
    return events


# ------------------------------------------------------------------------------- CHANNEL_LOGIN
async def test_an_email_login_code_signs_in_once(env: Env) -> None:
    user = await new_user(env)
    sent = await env.call("/api/v3/send-email", {"email": user["email"].upper(), "channel": "CHANNEL_LOGIN"})
    assert sent["statusCode"] == 200, sent
    code = await env.latest_code(user["email"])
    done = await env.sign_in({"email": user["email"], "passCode": code}, "PASSCODE")
    assert done["statusCode"] == 200 and done["data"]["access_token"], done
    profile = await env.http.get("/api/v3/get-profile", headers={"authorization": done["data"]["access_token"]})
    assert profile.json()["data"]["userId"] == user["userId"]
    again = await env.sign_in({"email": user["email"], "passCode": code}, "PASSCODE")
    assert (again["statusCode"], again["apiCode"]) == (401, 40110), again


async def test_a_phone_login_code_signs_in_and_the_mfa_policy_still_applies(env: Env) -> None:
    user = await new_user(env)
    await env.require(user, "EMAIL")
    sent = await env.call("/api/v3/send-sms", {"phoneNumber": user["phone"], "phoneCountryCode": "+86",
                                              "channel": "CHANNEL_LOGIN"})
    assert sent["statusCode"] == 200, sent
    code = await env.latest_code(e164(user))
    done = await env.sign_in({"phone": user["phone"], "phoneCountryCode": None, "passCode": code}, "PASSCODE")
    assert (done["statusCode"], done["apiCode"]) == (302, 1636), done
    token = done["data"]["mfaToken"]
    assert token and "access_token" not in done["data"]
    await env.call("/api/v3/send-email", {"email": user["email"], "channel": "CHANNEL_VERIFY_MFA"}, token)
    finished = await env.call("/api/v2/applications/mfa/email/verify",
                              {"email": user["email"], "code": await env.latest_code(user["email"])}, token)
    assert finished["code"] == 200, finished
    id_token = finished["data"]["tokenSet"]["id_token"]
    assert jwt.decode(id_token, options={"verify_signature": False})["amr"] == ["otp", "mfa", "email"]
    success = next(e for e in await audit_actions(env) if e["action"] == "signin.success")
    assert success["after"]["connection"] == "PASSCODE" and success["after"]["factor"] == "EMAIL"


async def test_login_refusals_look_alike(env: Env) -> None:
    user = await new_user(env)
    await env.call("/api/v3/send-email", {"email": user["email"], "channel": "CHANNEL_LOGIN"})
    code = await env.latest_code(user["email"])
    wrong = f"{(int(code) + 1) % 1_000_000:06d}"
    nobody = await env.sign_in({"email": "nobody-at-all@example.com", "passCode": code}, "PASSCODE")
    wrong_code = await env.sign_in({"email": user["email"], "passCode": wrong}, "PASSCODE")
    bad_secret = await env.call("/api/v3/signin", {"connection": "PASSCODE", "client_id": env.app["appId"],
                                                   "client_secret": "not-the-secret",
                                                   "passCodePayload": {"email": user["email"], "passCode": code}})
    bodies = [nobody, wrong_code, bad_secret]
    assert all((b["statusCode"], b["apiCode"], b["message"]) == (401, 40110, nobody["message"]) for b in bodies), bodies
    # the right code was checked (and spent) with the wrong secret: it no longer signs in
    late = await env.sign_in({"email": user["email"], "passCode": code}, "PASSCODE")
    assert late["apiCode"] == 40110, late
    failures = [e for e in await audit_actions(env) if e["action"] == "signin.failure"]
    assert failures and all(e["after"]["connection"] == "PASSCODE" for e in failures[:3]), failures


@pytest.mark.usefixtures("counters")
async def test_passcode_failures_are_throttled_per_account_like_passwords(env: Env) -> None:
    user = await new_user(env)
    await env.call("/api/v3/send-email", {"email": user["email"], "channel": "CHANNEL_LOGIN"})
    code = await env.latest_code(user["email"])
    wrong = f"{(int(code) + 1) % 1_000_000:06d}"
    for _ in range(ACCOUNT_FAILURES):
        assert (await env.sign_in({"email": user["email"], "passCode": wrong}, "PASSCODE"))["apiCode"] == 40110
    throttled = await env.sign_in({"email": user["email"], "passCode": code}, "PASSCODE")
    assert (throttled["statusCode"], throttled["apiCode"]) == (429, 42901), throttled  # even the right code
    password = await env.sign_in({"email": user["email"], "password": PASSWORD})
    assert password["apiCode"] == 42901, password  # the same account counter


async def test_a_code_of_another_channel_does_not_sign_in(env: Env) -> None:
    user = await new_user(env)
    await env.require(user, "EMAIL")
    token = await env.mfa_token(user)
    assert (await env.call("/api/v3/send-email", {"email": user["email"], "channel": "CHANNEL_VERIFY_MFA"},
                           token))["statusCode"] == 200
    code = await env.latest_code(user["email"])
    refused = await env.sign_in({"email": user["email"], "passCode": code}, "PASSCODE")
    assert refused["apiCode"] == 40110, refused


async def test_a_login_code_for_an_unknown_address_answers_the_same_and_sends_nothing(env: Env) -> None:
    user = await new_user(env)
    known = await env.call("/api/v3/send-email", {"email": user["email"], "channel": "CHANNEL_LOGIN"})
    unknown = await env.call("/api/v3/send-email", {"email": "ghost@example.com", "channel": "CHANNEL_LOGIN"})
    drop = {"requestId"}
    assert {k: v for k, v in known.items() if k not in drop} == {k: v for k, v in unknown.items() if k not in drop}
    assert await env.codes_to("ghost@example.com") == []
    # the interval applies to both alike
    known_again = await env.call("/api/v3/send-email", {"email": user["email"], "channel": "CHANNEL_LOGIN"})
    unknown_again = await env.call("/api/v3/send-email", {"email": "ghost@example.com", "channel": "CHANNEL_LOGIN"})
    assert known_again["apiCode"] == unknown_again["apiCode"] == 2080, (known_again, unknown_again)
    events = await audit_actions(env)
    suppressed = [e for e in events if e["action"] == "passcode.send.suppressed"]
    assert suppressed and suppressed[0]["after"]["reason"] == "no such account", suppressed
    assert not any(str(c) in str(events) for c in await env.codes_to(user["email"]))  # never the code


@pytest.mark.usefixtures("counters")
async def test_a_second_sms_within_the_interval_is_refused_with_422(env: Env) -> None:
    user = await new_user(env)
    body = {"phoneNumber": user["phone"], "channel": "CHANNEL_LOGIN"}
    assert (await env.call("/api/v3/send-sms", body))["statusCode"] == 200
    second = await env.call("/api/v3/send-sms", body)
    assert (second["statusCode"], second["apiCode"]) == (422, 42201), second
    assert len(await env.codes_to(e164(user))) == 1


async def test_login_sends_need_a_known_application_and_a_served_channel(env: Env) -> None:
    user = await new_user(env)
    no_app = await env.http.post("/api/v3/send-email", json={"email": user["email"], "channel": "CHANNEL_LOGIN"})
    assert no_app.json()["apiCode"] == 40001, no_app.json()
    unknown_app = await env.call("/api/v3/send-email", {"email": user["email"], "channel": "CHANNEL_LOGIN"},
                                 **{"x-genauth-app-id": "no-such-app"})
    assert unknown_app["apiCode"] == 40402, unknown_app
    register = await env.call("/api/v3/send-email", {"email": user["email"], "channel": "CHANNEL_REGISTER"})
    assert (register["statusCode"], register["apiCode"]) == (400, 40041), register
    bad_phone = await env.call("/api/v3/send-sms", {"phoneNumber": "12", "channel": "CHANNEL_LOGIN"})
    assert bad_phone["apiCode"] == 40001, bad_phone
    assert await env.codes_to(user["email"]) == []


# --------------------------------------------------------------------------------- MFA channels
async def test_mfa_channels_send_only_to_the_callers_own_addresses(env: Env) -> None:
    user = await new_user(env)
    other = await new_user(env)
    await env.require(user, "SMS", "EMAIL", mfaEmail="second@example.com")
    token = await env.mfa_token(user)
    none = await env.call("/api/v3/send-email", {"email": user["email"], "channel": "CHANNEL_VERIFY_MFA"})
    assert (none["statusCode"], none["apiCode"]) == (401, 2021), none
    someone_elses = await env.call("/api/v3/send-sms", {"phoneNumber": other["phone"], "channel": "CHANNEL_VERIFY_MFA"},
                                   token)
    nobodys = await env.call("/api/v3/send-sms", {"phoneNumber": "13900139999", "channel": "CHANNEL_VERIFY_MFA"},
                             f"Bearer {token}")
    for refused in (someone_elses, nobodys):
        assert (refused["statusCode"], refused["apiCode"]) == (403, 40310), refused
    assert someone_elses["message"] == nobodys["message"]
    assert await env.codes_to(e164(other)) == [] and await env.codes_to("+8613900139999") == []
    for target in ("second@example.com", user["email"]):  # mfaEmail, and the user's own email
        ok = await env.call("/api/v3/send-email", {"email": target, "channel": "CHANNEL_BIND_MFA"}, token)
        assert ok["statusCode"] == 200, ok
    assert len(await env.codes_to("second@example.com")) == 1
    refused_events = [e for e in await audit_actions(env) if e["action"] == "passcode.send.refused"]
    assert len(refused_events) == 2


async def test_a_user_access_token_may_send_to_its_own_phone(env: Env) -> None:
    user = await new_user(env)
    other = await new_user(env)
    signed_in = await env.sign_in({"email": user["email"], "password": PASSWORD})
    access = signed_in["data"]["access_token"]
    own = await env.call("/api/v3/send-sms", {"phoneNumber": user["phone"], "channel": "CHANNEL_UNBIND_MFA"}, access)
    assert own["statusCode"] == 200, own
    assert len(await env.codes_to(e164(user))) == 1
    theirs = await env.call("/api/v3/send-sms", {"phoneNumber": other["phone"], "channel": "CHANNEL_BIND_MFA"}, access)
    assert theirs["apiCode"] == 40310, theirs
    mfa_email = f"mfa-{user['userId']}@example.com"
    await env.require(user, "EMAIL", mfaEmail=mfa_email)  # the access token stays valid
    for channel, email in (("CHANNEL_BIND_MFA", user["email"]), ("CHANNEL_VERIFY_MFA", mfa_email)):
        mail = await env.call("/api/v3/send-email", {"email": email, "channel": channel}, f"Bearer {access}")
        assert mail["statusCode"] == 200, mail
        assert len(await env.codes_to(email)) == 1


# ------------------------------------------------------------------------- the v2 MFA step
async def test_the_v2_email_step_with_a_guard_send(env: Env) -> None:
    user = await new_user(env)
    await env.require(user, "EMAIL")
    token = await env.mfa_token(user)
    sent = await env.call("/api/v2/email/send", {"email": user["email"], "scene": "MFA_VERIFY_CODE"}, token)
    assert (sent["code"], sent["statusCode"]) == (200, 200), sent
    code = await env.latest_code(user["email"])
    other = await env.call("/api/v2/applications/mfa/email/verify", {"email": "else@example.com", "code": code},
                           f"Bearer {token}")
    assert (other["code"], other["apiCode"]) == (2001, 2001), other
    done = await env.call("/api/v2/applications/mfa/email/verify", {"email": user["email"], "code": code},
                          f"Bearer {token}")
    assert (done["code"], done["statusCode"], done["apiCode"]) == (200, 302, 1600), done
    assert done["data"]["user"]["userId"] == user["userId"] and done["data"]["token"]
    spent = await env.call("/api/v2/applications/mfa/email/verify", {"email": user["email"], "code": code}, token)
    assert spent["code"] == 2021, spent
    reused = await env.call("/api/v2/applications/mfa/email/verify", {"email": user["email"], "code": code},
                            await env.mfa_token(user))
    assert reused["code"] == 2001, reused  # single use
    successes = [e for e in await audit_actions(env) if e["action"] == "signin.success"]
    assert successes[0]["after"]["factor"] == "EMAIL"


async def test_the_v2_sms_step_goes_to_the_bound_mfa_phone(env: Env) -> None:
    user = await new_user(env)
    await env.require(user, "SMS", mfaPhone="13700137001", mfaPhoneCountryCode="+86")
    token = await env.mfa_token(user)
    sent = await env.call("/api/v3/send-sms", {"phoneNumber": "13700137001", "channel": "CHANNEL_VERIFY_MFA"}, token)
    assert sent["statusCode"] == 200, sent
    code = await env.latest_code("+8613700137001")
    own_phone = await env.call("/api/v2/applications/mfa/sms/verify", {"phone": user["phone"], "code": code}, token)
    assert own_phone["code"] == 2001, own_phone  # not the bound phone: the mfaPhone is
    done = await env.call("/api/v2/applications/mfa/sms/verify",
                          {"phone": "13700137001", "phoneCountryCode": "+86", "code": code}, token)
    assert (done["code"], done["apiCode"]) == (200, 1600), done


async def test_a_factor_the_sign_in_does_not_challenge_does_not_finish_it(env: Env) -> None:
    user = await new_user(env)
    await env.require(user, "OTP")
    token = await env.mfa_token(user)
    assert (await env.call("/api/v3/send-email", {"email": user["email"], "channel": "CHANNEL_VERIFY_MFA"},
                           token))["statusCode"] == 200
    code = await env.latest_code(user["email"])
    refused = await env.call("/api/v2/applications/mfa/email/verify", {"email": user["email"], "code": code}, token)
    assert refused["code"] == 2001, refused
    bad = await env.call("/api/v2/applications/mfa/email/verify", {"email": user["email"], "code": code}, "garbage")
    assert bad["code"] == 2021, bad


async def test_sms_failures_lock_the_factor_until_an_admin_unlocks_it(env: Env) -> None:
    user = await new_user(env)
    await env.require(user, "SMS")
    token = await env.mfa_token(user)
    await env.call("/api/v3/send-sms", {"phoneNumber": user["phone"], "channel": "CHANNEL_VERIFY_MFA"}, token)
    code = await env.latest_code(e164(user))
    wrong = f"{(int(code) + 1) % 1_000_000:06d}"
    for _ in range(MAX_FAILURES):
        failed = await env.call("/api/v2/applications/mfa/sms/verify", {"phone": user["phone"], "code": wrong}, token)
        assert failed["code"] == 2001, failed
    locked = await env.call("/api/v2/applications/mfa/sms/verify", {"phone": user["phone"], "code": code}, token)
    assert locked == {**locked, "code": 2001, "apiCode": 2001}  # the right code, refused: locked looks wrong
    status = await env.api.ok("GET", "twofold/get-mfa-lock-status", {"userId": user["userId"]})
    sms = next(f for f in status["factors"] if f["factor"] == "SMS")
    assert sms["failures"] == MAX_FAILURES and sms["locked"], status
    otp = next(f for f in status["factors"] if f["factor"] == "OTP")
    assert otp["failures"] == 0  # counted per factor
    await env.api.ok("POST", "twofold/unlock-mfa", {"userId": user["userId"], "factor": "SMS"})
    done = await env.call("/api/v2/applications/mfa/sms/verify", {"phone": user["phone"], "code": code}, token)
    assert (done["code"], done["apiCode"]) == (200, 1600), done  # the locked attempt did not use the code
    actions = [e["action"] for e in await audit_actions(env)]
    assert "mfa.factor.lockout" in actions and "mfa.factor.verified" in actions


async def test_one_email_code_submitted_at_once_by_several_sign_ins_finishes_exactly_one(env: Env) -> None:
    user = await new_user(env)
    await env.require(user, "EMAIL")
    tokens = [await env.mfa_token(user) for _ in range(5)]  # 5: the attempts one code has
    await env.call("/api/v3/send-email", {"email": user["email"], "channel": "CHANNEL_VERIFY_MFA"}, tokens[0])
    code = await env.latest_code(user["email"])
    answers = await asyncio.gather(*(
        env.call("/api/v2/applications/mfa/email/verify", {"email": user["email"], "code": code}, token)
        for token in tokens
    ))
    assert sorted(a["code"] for a in answers) == [200, 2001, 2001, 2001, 2001], answers
