"""The v2 SMS and email MFA steps driven by the unmodified ``authing-js-sdk`` (Node) over real HTTP, with
the code read from a real SMTP server or a real webhook receiver, on both databases
(docs/wire.md#v2-mfa, docs/delivery.md#who-may-send-to-whom).

The mfaToken comes from a genauth sign-in (apiCode 1636).  Email codes are sent as Guard sends them
(``POST /api/v2/email/send {email, scene: "MFA_VERIFY_CODE"}``, the mfaToken in ``authorization``: the
js SDK's own ``sendEmail`` is a GraphQL call); SMS codes with the js SDK's ``setToken(mfaToken)`` then
``sendSmsCode(phone, "+86", "mfa-verify")`` (``POST /api/v2/sms/send``).  The step is the SDK's
``mfa.verifyAppEmailMfa`` / ``mfa.verifyAppSmsMfa``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import jwt
import pytest
from genauth import AuthenticationClient

from tests.compat.conftest import DeliveringServer
from tests.compat.support import new_person, ok_data
from tests.compat.test_mfa_v2_authing_js_sdk import js_sdk, run

pytestmark = pytest.mark.compat

__all__ = ["js_sdk"]  # the session fixture that installs the SDK

PASSWORD = "Codes js compat password 1!"  # noqa: S105 - a test password


@pytest.fixture(scope="module")
def app(delivering_server: DeliveringServer) -> dict[str, Any]:
    server = delivering_server.server
    created: dict[str, Any] = ok_data(server.call("POST", "create-application", json={"appName": "Codes js"}))
    ok_data(server.call("POST", "update-application-mfa-settings",
                        json={"appId": created["appId"], "enabledFactors": ["SMS", "EMAIL"]}))
    return created


def user_requiring(delivering: DeliveringServer, factor: str) -> dict[str, Any]:
    person = new_person("js")
    user: dict[str, Any] = ok_data(delivering.server.call("POST", "create-user", json={
        "username": person["username"], "email": person["email"], "phone": person["phone"], "password": PASSWORD}))
    ok_data(delivering.server.call("POST", "set-mfa-status", json={"userId": user["userId"], "mfaTriggerData": {
        "mfaToken": "-", "applicationMfa": [{"mfaPolicy": factor, "status": 1, "sort": 0}]}}))
    return user


def mfa_token(delivering: DeliveringServer, app: dict[str, Any], user: dict[str, Any]) -> str:
    client = AuthenticationClient(app_id=app["appId"], app_secret=app["appSecret"],
                                  app_host=delivering.server.base_url)
    body = client.sign_in_by_email_password(user["email"], PASSWORD)
    assert body["apiCode"] == 1636, body
    token: str = body["data"]["mfaToken"]
    return token


def guard_email_send(delivering: DeliveringServer, app: dict[str, Any], email: str, token: str) -> Any:
    response = httpx.post(f"{delivering.server.base_url}/api/v2/email/send",
                          json={"email": email, "scene": "MFA_VERIFY_CODE"},
                          headers={"x-authing-app-id": app["appId"], "authorization": token}, timeout=10)
    assert response.status_code == 200, response.text
    return response.json()


def assert_signed_in(delivering: DeliveringServer, app: dict[str, Any], result: Any, user: dict[str, Any]) -> None:
    assert result["ok"], result
    signed_in = result["result"]
    assert signed_in["userId"] == user["userId"] and signed_in["user"]["token"] == signed_in["token"]
    keys = jwt.PyJWKClient(f"{delivering.server.base_url}/oidc/.well-known/jwks.json")
    claims = jwt.decode(signed_in["token"], keys.get_signing_key_from_jwt(signed_in["token"]),
                        algorithms=["RS256"], audience=app["appId"])
    assert claims["sub"] == user["userId"]


def test_verify_app_email_mfa_with_the_code_from_smtp(
    js_sdk: Path, delivering_server: DeliveringServer, app: dict[str, Any]
) -> None:
    user = user_requiring(delivering_server, "EMAIL")
    token = mfa_token(delivering_server, app, user)
    sent = guard_email_send(delivering_server, app, user["email"], token)
    assert (sent["code"], sent["statusCode"]) == (200, 200), sent
    again = guard_email_send(delivering_server, app, user["email"], token)
    assert again["code"] == 2080, again  # a second send within a minute
    code = delivering_server.mail_code(user["email"])
    wrong = f"{(int(code) + 1) % 1_000_000:06d}"
    refused, done, spent = run(js_sdk, delivering_server.server, app, [
        {"method": "verifyAppEmailMfa", "args": {"email": user["email"], "code": wrong, "mfaToken": token}},
        {"method": "verifyAppEmailMfa", "args": {"email": user["email"], "code": code, "mfaToken": token}},
        {"method": "verifyAppEmailMfa", "args": {"email": user["email"], "code": code, "mfaToken": token}},
    ])
    assert not refused["ok"] and refused["error"]["code"] == 2001, refused
    assert_signed_in(delivering_server, app, done, user)
    assert not spent["ok"] and spent["error"]["code"] == 2021, spent


def test_verify_app_sms_mfa_with_the_code_from_the_webhook(
    js_sdk: Path, delivering_server: DeliveringServer, app: dict[str, Any]
) -> None:
    user = user_requiring(delivering_server, "SMS")
    other = new_person("js")["phone"]
    token = mfa_token(delivering_server, app, user)
    _, not_theirs, sent, again = run(js_sdk, delivering_server.server, app, [
        {"on": "client", "method": "setToken", "args": [token]},
        {"on": "client", "method": "sendSmsCode", "args": [other, "+86", "mfa-verify"]},
        {"on": "client", "method": "sendSmsCode", "args": [user["phone"], "+86", "mfa-verify"]},
        {"on": "client", "method": "sendSmsCode", "args": [user["phone"], "+86", "mfa-verify"]},
    ])
    assert not not_theirs["ok"] and not_theirs["error"]["code"] == 40310, not_theirs
    assert delivering_server.texts_to(f"+86{other}") == []
    assert sent["ok"], sent
    assert not again["ok"] and again["error"]["code"] == 42201, again  # statusCode 422: within a minute
    code = delivering_server.sms_code(f"+86{user['phone']}")
    assert len(delivering_server.texts_to(f"+86{user['phone']}")) == 1
    assert delivering_server.hook.delivered[-1]["json"]["purpose"] == "CHANNEL_VERIFY_MFA"
    (done,) = run(js_sdk, delivering_server.server, app, [
        {"method": "verifyAppSmsMfa",
         "args": {"phone": user["phone"], "phoneCountryCode": "+86", "code": code, "mfaToken": token}},
    ])
    assert_signed_in(delivering_server, app, done, user)
