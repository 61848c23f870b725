"""Codes sent by email and SMS, driven by the unmodified genauth AuthenticationClient over real HTTP,
with the code read from a real SMTP server (aiosmtpd) or a real webhook receiver, on both databases
(docs/delivery.md#who-may-send-to-whom, docs/signin.md#passcode-sign-in):

* ``send_email(CHANNEL_LOGIN)`` -> ``sign_in_by_email_passcode`` -> the token set; the code works once;
* ``send_sms(CHANNEL_LOGIN)`` -> ``sign_in_by_phone_passcode``;
* a second send within a minute is refused (apiCode 2080 for email, statusCode 422 for SMS);
* with the mfaToken set as the access token, ``send_email(CHANNEL_VERIFY_MFA)`` to an address that is
  not the user's is refused (40310) and to the user's own is sent.
"""

from __future__ import annotations

from typing import Any

import pytest
from genauth import AuthenticationClient

from tests.compat.conftest import DeliveringServer
from tests.compat.support import new_person, ok_data

pytestmark = pytest.mark.compat

PASSWORD = "Codes compat password 1!"  # noqa: S105 - a test password


@pytest.fixture(scope="module")
def app(delivering_server: DeliveringServer) -> dict[str, Any]:
    server = delivering_server.server
    created: dict[str, Any] = ok_data(server.call("POST", "create-application", json={"appName": "Codes"}))
    ok_data(server.call("POST", "update-application-mfa-settings",
                        json={"appId": created["appId"], "enabledFactors": ["OTP", "SMS", "EMAIL"]}))
    return created


def new_user(delivering: DeliveringServer) -> dict[str, Any]:
    person = new_person("cd")
    user: dict[str, Any] = ok_data(delivering.server.call("POST", "create-user", json={
        "username": person["username"], "email": person["email"], "phone": person["phone"], "password": PASSWORD}))
    return user


def sdk(delivering: DeliveringServer, app: dict[str, Any]) -> AuthenticationClient:
    return AuthenticationClient(app_id=app["appId"], app_secret=app["appSecret"], app_host=delivering.server.base_url)


def test_email_code_signs_in_once(delivering_server: DeliveringServer, app: dict[str, Any]) -> None:
    user = new_user(delivering_server)
    client = sdk(delivering_server, app)
    assert client.send_email("CHANNEL_LOGIN", user["email"])["statusCode"] == 200
    code = delivering_server.mail_code(user["email"])
    tokens = ok_data(client.sign_in_by_email_passcode(user["email"], code))
    assert set(tokens) == {"access_token", "id_token", "refresh_token", "token_type", "expire_in", "scope"}
    client.set_access_token(tokens["access_token"])
    assert ok_data(client.get_profile())["userId"] == user["userId"]
    assert client.introspect_token_offline(tokens["id_token"])["sub"] == user["userId"]
    again = client.sign_in_by_email_passcode(user["email"], code)
    assert (again["statusCode"], again["apiCode"]) == (401, 40110), again


def test_phone_code_through_the_webhook_signs_in(delivering_server: DeliveringServer, app: dict[str, Any]) -> None:
    user = new_user(delivering_server)
    client = sdk(delivering_server, app)
    assert client.send_sms("CHANNEL_LOGIN", user["phone"], "+86")["statusCode"] == 200
    code = delivering_server.sms_code(f"+86{user['phone']}")
    assert delivering_server.hook.delivered[-1]["json"]["purpose"] == "CHANNEL_LOGIN"
    tokens = ok_data(client.sign_in_by_phone_passcode(user["phone"], code))  # the SDK sends a null country code
    assert tokens["access_token"]


def test_a_second_send_within_a_minute_is_refused(delivering_server: DeliveringServer, app: dict[str, Any]) -> None:
    user = new_user(delivering_server)
    client = sdk(delivering_server, app)
    assert client.send_email("CHANNEL_LOGIN", user["email"])["statusCode"] == 200
    second = client.send_email("CHANNEL_LOGIN", user["email"])
    assert second["apiCode"] == 2080, second
    assert len(delivering_server.mails_to(user["email"])) == 1
    assert client.send_sms("CHANNEL_LOGIN", user["phone"])["statusCode"] == 200
    sms_again = client.send_sms("CHANNEL_LOGIN", user["phone"])
    assert sms_again["statusCode"] == 422, sms_again
    assert len(delivering_server.texts_to(f"+86{user['phone']}")) == 1


def test_an_unknown_address_gets_the_same_answer_and_no_mail(
    delivering_server: DeliveringServer, app: dict[str, Any]
) -> None:
    client = sdk(delivering_server, app)
    ghost = new_person("gh")["email"]
    answer = client.send_email("CHANNEL_LOGIN", ghost)
    assert (answer["statusCode"], answer.get("apiCode")) == (200, None), answer
    assert delivering_server.mails_to(ghost) == []


def test_mfa_codes_go_only_to_the_users_own_address(delivering_server: DeliveringServer, app: dict[str, Any]) -> None:
    user, other = new_user(delivering_server), new_user(delivering_server)
    ok_data(delivering_server.server.call("POST", "set-mfa-status", json={"userId": user["userId"], "mfaTriggerData": {
        "mfaToken": "-", "applicationMfa": [{"mfaPolicy": "EMAIL", "status": 1, "sort": 0}]}}))
    client = sdk(delivering_server, app)
    challenge = client.sign_in_by_email_password(user["email"], PASSWORD)
    assert (challenge["statusCode"], challenge["apiCode"]) == (302, 1636), challenge
    client.set_access_token(challenge["data"]["mfaToken"])
    refused = client.send_email("CHANNEL_VERIFY_MFA", other["email"])
    assert (refused["statusCode"], refused["apiCode"]) == (403, 40310), refused
    assert delivering_server.mails_to(other["email"]) == []
    assert client.send_email("CHANNEL_VERIFY_MFA", user["email"])["statusCode"] == 200
    assert delivering_server.mail_code(user["email"])
    assert delivering_server.mail.received[-1].message["Subject"] == "Your verification code"
