"""SMS and EMAIL enrolment driven by the unmodified genauth and authing-node-sdk AuthenticationClients
over real HTTP, on both databases, against a ``twofold serve`` that delivers through a real SMTP server (aiosmtpd) and a real
SMS webhook receiver in the test process (docs/signin.md#enrolment, #enrolled-factors).

* a sign-in that must enrol SMS binds the phone with its mfaToken (send_enroll_factor_request,
  enroll_factor), and the mfaToken stays live;
* a signed-in user binds an email, lists, reads and resets it, and sees what is left to enrol;
* a wrong code changes nothing, and a second send within a minute is refused;
* authing-node-sdk sends the same DTOs (``sendEnrollFactorRequest``, ``enrollFactor``, ``getFactor``,
  ``resetFactor``) and gets the same answers.
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from genauth import AuthenticationClient

from tests.compat.conftest import DeliveringServer
from tests.compat.support import LiveServer, NodeSdk, new_person, ok_data

pytestmark = pytest.mark.compat

PASSWORD = "Enrolment codes compat password 1!"  # noqa: S105 - a test password


def app_with(server: LiveServer, factors: list[str]) -> dict[str, Any]:
    app: dict[str, Any] = ok_data(server.call("POST", "create-application", json={"appName": "Enrol codes"}))
    ok_data(server.call("POST", "update-application-mfa-settings", json={"appId": app["appId"], "enabledFactors": factors}))
    return app


def sdk(server: LiveServer, app: dict[str, Any]) -> AuthenticationClient:
    return AuthenticationClient(app_id=app["appId"], app_secret=app["appSecret"], app_host=server.base_url)


def new_user(server: LiveServer, policy: list[str]) -> dict[str, Any]:
    person = new_person("ec")
    user: dict[str, Any] = ok_data(server.call("POST", "create-user", json={
        "username": person["username"], "email": person["email"], "password": PASSWORD}))
    if policy:
        ok_data(server.call("POST", "set-mfa-status", json={"userId": user["userId"], "mfaTriggerData": {
            "mfaToken": "-", "applicationMfa": [{"mfaPolicy": f, "status": 1, "sort": i} for i, f in enumerate(policy)]}}))
    return user


def mfa_status(server: LiveServer, user: dict[str, Any]) -> dict[str, Any]:
    status: dict[str, Any] = ok_data(server.call("GET", "get-mfa-status", params={"userId": user["userId"]}))
    return status


def test_a_sign_in_that_must_enrol_sms_binds_the_phone_with_its_mfa_token(delivering_server: DeliveringServer) -> None:
    server = delivering_server.server
    app = app_with(server, ["SMS"])
    user = new_user(server, ["SMS"])  # an email, no phone: SMS must be enrolled first
    client = sdk(server, app)
    challenge = client.sign_in_by_email_password(user["email"], PASSWORD)
    assert (challenge["statusCode"], challenge["apiCode"]) == (302, 1636), challenge
    mfa_token = challenge["data"]["mfaToken"]
    client.set_access_token(mfa_token)

    started = ok_data(client.send_enroll_factor_request(
        profile={"phoneNumber": "13900139301", "phoneCountryCode": "+86"}, factor_type="SMS"))
    assert set(started) == {"enrollmentToken"}
    code = delivering_server.sms_code("+8613900139301")
    assert delivering_server.hook.delivered[-1]["json"]["purpose"] == "CHANNEL_BIND_MFA"
    wrong = next(c for c in ("000000", "111111") if c != code)
    refused = client.enroll_factor(enrollment_data={"passCode": wrong},
                                   enrollment_token=started["enrollmentToken"], factor_type="SMS")
    assert (refused["statusCode"], refused["apiCode"]) == (400, 40062), refused
    assert mfa_status(server, user)["mfaPhone"] is None

    ok_data(client.enroll_factor(enrollment_data={"passCode": code},
                                 enrollment_token=started["enrollmentToken"], factor_type="SMS"))
    status = mfa_status(server, user)
    assert (status["mfaPhone"], status["mfaPhoneCountryCode"]) == ("13900139301", "+86")
    # SMS is enrolled now: the mfaToken may enrol nothing more, but is still live to finish the
    # sign-in with a later code
    reused = client.enroll_factor(enrollment_data={"passCode": code},
                                  enrollment_token=started["enrollmentToken"], factor_type="SMS")
    assert (reused["statusCode"], reused["apiCode"]) == (401, 2021), reused
    live = httpx.get(f"{server.base_url}/api/v2/mfa/authenticator", params={"type": "totp"},
                     headers={"authorization": f"Bearer {mfa_token}"}, timeout=10).json()
    assert (live["code"], live["data"]) == (200, []), live  # a spent mfaToken would be 2021


def test_a_signed_in_user_binds_lists_reads_and_resets_an_email(delivering_server: DeliveringServer) -> None:
    server = delivering_server.server
    app = app_with(server, ["OTP", "SMS", "EMAIL"])
    user = new_user(server, [])
    client = sdk(server, app)
    tokens = ok_data(client.sign_in_by_email_password(user["email"], PASSWORD))
    client.set_access_token(tokens["access_token"])
    assert ok_data(client.list_enrolled_factors()) == []
    assert ok_data(client.list_factors_to_enroll()) == [{"factorType": f} for f in ("OTP", "SMS", "EMAIL")]

    address = f"factor-{user['userId']}@example.com"
    started = ok_data(client.send_enroll_factor_request(profile={"email": address}, factor_type="EMAIL"))
    again = client.send_enroll_factor_request(profile={"email": address}, factor_type="EMAIL")
    assert (again["statusCode"], again["apiCode"]) == (400, 2080), again  # one per minute per address
    ok_data(client.enroll_factor(enrollment_data={"passCode": delivering_server.mail_code(address)},
                                 enrollment_token=started["enrollmentToken"], factor_type="EMAIL"))
    (factor,) = ok_data(client.list_enrolled_factors())
    assert (factor["factorType"], factor["profile"]) == ("EMAIL", {"email": address})
    assert ok_data(client.get_factor(factor["factorId"])) == factor
    assert ok_data(client.list_factors_to_enroll()) == [{"factorType": "OTP"}, {"factorType": "SMS"}]

    unknown = client.get_factor("0" * 24)
    assert (unknown["statusCode"], unknown["apiCode"]) == (404, 40063), unknown
    assert client.reset_factor(factor["factorId"])["statusCode"] == 200
    assert ok_data(client.list_enrolled_factors()) == []
    assert mfa_status(server, user)["mfaEmail"] is None
    gone = client.reset_factor(factor["factorId"])
    assert (gone["statusCode"], gone["apiCode"]) == (404, 40063), gone


def test_authing_node_sdk_binds_and_resets_an_email(delivering_server: DeliveringServer, node_sdk: NodeSdk) -> None:
    server = delivering_server.server
    app = app_with(server, ["EMAIL", "OTP"])
    user = new_user(server, [])
    options = {"main": {"appId": app["appId"], "appSecret": app["appSecret"], "appHost": server.base_url}}
    address = f"node-{user['userId']}@example.com"
    signed, _, started = node_sdk.run(options, [
        {"method": "signInByEmailPassword", "args": {"email": user["email"], "password": PASSWORD}},
        {"method": "setAccessToken", "args": "{{0.data.access_token}}"},
        {"method": "sendEnrollFactorRequest", "args": {"factorType": "EMAIL", "profile": {"email": address}}},
    ], sdk_class="AuthenticationClient")
    token = ok_data(signed["result"])["access_token"]
    enrollment_token = ok_data(started["result"])["enrollmentToken"]
    code = delivering_server.mail_code(address)
    results = node_sdk.run(options, [
        {"method": "setAccessToken", "args": token},
        {"method": "enrollFactor", "args": {"factorType": "EMAIL", "enrollmentToken": enrollment_token,
                                            "enrollmentData": {"passCode": code}}},
        {"method": "listEnrolledFactors", "args": {}},
        {"method": "getFactor", "args": {"factorId": "{{2.data.0.factorId}}"}},
        {"method": "listFactorsToEnroll", "args": {}},
        {"method": "resetFactor", "args": {"factorId": "{{2.data.0.factorId}}"}},
        {"method": "listEnrolledFactors", "args": {}},
    ], sdk_class="AuthenticationClient")
    assert all(r["ok"] for r in results), results
    _, enrolled, listed, got, to_enroll, reset, after = (r["result"] for r in results)
    assert enrolled["statusCode"] == 200, enrolled
    (factor,) = ok_data(listed)
    assert (factor["factorType"], factor["profile"]) == ("EMAIL", {"email": address})
    assert ok_data(got) == factor
    assert ok_data(to_enroll) == [{"factorType": "OTP"}]
    assert reset["statusCode"] == 200 and ok_data(after) == []
