"""Codes through the unmodified ``authing-node-sdk`` 4.x ``AuthenticationClient`` (``node/run_calls.cjs``)
over real HTTP, the code read from a real SMTP server or webhook receiver, on both databases
(docs/wire.md#send-codes): ``sendEmail`` / ``sendSms`` on ``CHANNEL_LOGIN`` then
``signInByEmailPassCode`` / ``signInByPhonePassCode``; with the mfaToken as its access token,
``sendSms`` on ``CHANNEL_VERIFY_MFA`` to a number that is not the user's is refused.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.compat.conftest import DeliveringServer
from tests.compat.support import NodeSdk, new_person, ok_data

pytestmark = pytest.mark.compat

PASSWORD = "Codes node compat password 1!"  # noqa: S105 - a test password


@pytest.fixture(scope="module")
def app(delivering_server: DeliveringServer) -> dict[str, Any]:
    server = delivering_server.server
    created: dict[str, Any] = ok_data(server.call("POST", "create-application", json={"appName": "Codes node"}))
    ok_data(server.call("POST", "update-application-mfa-settings",
                        json={"appId": created["appId"], "enabledFactors": ["SMS"]}))
    return created


def new_user(delivering: DeliveringServer) -> dict[str, Any]:
    person = new_person("nd")
    user: dict[str, Any] = ok_data(delivering.server.call("POST", "create-user", json={
        "username": person["username"], "email": person["email"], "phone": person["phone"], "password": PASSWORD}))
    return user


def run(sdk: NodeSdk, delivering: DeliveringServer, app: dict[str, Any], calls: list[dict[str, Any]]) -> list[Any]:
    options = {"appId": app["appId"], "appSecret": app["appSecret"], "appHost": delivering.server.base_url}
    results = sdk.run({"main": options}, calls, sdk_class="AuthenticationClient")
    assert all(r["ok"] for r in results), results
    return [r["result"] for r in results]


def test_node_email_and_phone_codes_sign_in(
    node_sdk: NodeSdk, delivering_server: DeliveringServer, app: dict[str, Any]
) -> None:
    user = new_user(delivering_server)
    sent_email, sent_sms = run(node_sdk, delivering_server, app, [
        {"method": "sendEmail", "args": {"channel": "CHANNEL_LOGIN", "email": user["email"]}},
        {"method": "sendSms", "args": {"channel": "CHANNEL_LOGIN", "phoneNumber": user["phone"],
                                       "phoneCountryCode": "+86"}},
    ])
    assert sent_email["statusCode"] == sent_sms["statusCode"] == 200, (sent_email, sent_sms)
    mail_code = delivering_server.mail_code(user["email"])
    sms_code = delivering_server.sms_code(f"+86{user['phone']}")
    by_email, by_phone, reused = run(node_sdk, delivering_server, app, [
        {"method": "signInByEmailPassCode", "args": {"email": user["email"], "passCode": mail_code}},
        {"method": "signInByPhonePassCode", "args": {"phone": user["phone"], "phoneCountryCode": "+86",
                                                     "passCode": sms_code}},
        {"method": "signInByEmailPassCode", "args": {"email": user["email"], "passCode": mail_code}},
    ])
    assert ok_data(by_email)["access_token"] and ok_data(by_phone)["access_token"]
    assert (reused["statusCode"], reused["apiCode"]) == (401, 40110), reused


def test_node_mfa_send_to_a_number_that_is_not_the_users_is_refused(
    node_sdk: NodeSdk, delivering_server: DeliveringServer, app: dict[str, Any]
) -> None:
    user = new_user(delivering_server)
    ok_data(delivering_server.server.call("POST", "set-mfa-status", json={"userId": user["userId"], "mfaTriggerData": {
        "mfaToken": "-", "applicationMfa": [{"mfaPolicy": "SMS", "status": 1, "sort": 0}]}}))
    stranger = new_person("nd")["phone"]
    challenge, _, refused, sent = run(node_sdk, delivering_server, app, [
        {"method": "signInByEmailPassword", "args": {"email": user["email"], "password": PASSWORD}},
        {"method": "setAccessToken", "args": "{{0.data.mfaToken}}"},
        {"method": "sendSms", "args": {"channel": "CHANNEL_VERIFY_MFA", "phoneNumber": stranger}},
        {"method": "sendSms", "args": {"channel": "CHANNEL_VERIFY_MFA", "phoneNumber": user["phone"]}},
    ])
    assert challenge["apiCode"] == 1636, challenge
    assert (refused["statusCode"], refused["apiCode"]) == (403, 40310), refused
    assert delivering_server.texts_to(f"+86{stranger}") == []
    assert sent["statusCode"] == 200, sent
    assert delivering_server.hook.delivered[-1]["json"]["to"] == f"+86{user['phone']}"
