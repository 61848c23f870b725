"""Contract tests: login history and mfaToken introspection through the unmodified SDKs over real HTTP,
on both databases (docs/signin.md#login-history, docs/signin.md#mfa-token-introspection).

* genauth ``AuthenticationClient.get_login_history`` / ``verify_mfa_token`` and
  ``ManagementClient.get_user_login_history``;
* authing-node-sdk ``AuthenticationClient.getLoginHistory`` / ``verifyMfaToken`` and
  ``ManagementClient.getUserLoginHistory``.

Both ``verify_mfa_token``/``verifyMfaToken`` ignore their argument (docs/wire.md#rule-21): what reaches
the server is the mfaToken the client was given with ``set_access_token``.
"""

from __future__ import annotations

from typing import Any

import pyotp
import pytest
from genauth import AuthenticationClient

from tests.compat.support import (
    LiveServer,
    NodeSdk,
    genauth_client,
    new_person,
    node_body,
    node_options,
    ok_data,
    otp_required_user,
)

pytestmark = pytest.mark.compat

PASSWORD = "Login history compat password 1!"  # noqa: S105 - a test password


@pytest.fixture(scope="module")
def app(live_server: LiveServer) -> dict[str, Any]:
    created: dict[str, Any] = ok_data(live_server.call("POST", "create-application", json={"appName": "History"}))
    ok_data(live_server.call("POST", "update-application-mfa-settings",
                             json={"appId": created["appId"], "enabledFactors": ["OTP"]}))
    return created


def make_user(server: LiveServer, otp: bool = False) -> tuple[dict[str, Any], pyotp.TOTP | None]:
    if not otp:
        person = new_person("lh")
        user: dict[str, Any] = ok_data(server.call("POST", "create-user", json={
            "username": person["username"], "email": person["email"], "password": PASSWORD}))
        return user, None
    secret = pyotp.random_base32(32)
    return otp_required_user(server, "lh", PASSWORD, secret=secret), pyotp.TOTP(secret)


def sdk(server: LiveServer, app: dict[str, Any]) -> AuthenticationClient:
    return AuthenticationClient(app_id=app["appId"], app_secret=app["appSecret"], app_host=server.base_url)


def test_genauth_reads_the_history_of_an_mfa_sign_in(live_server: LiveServer, app: dict[str, Any]) -> None:
    user, totp = make_user(live_server, otp=True)
    assert totp is not None
    client = sdk(live_server, app)
    assert client.sign_in_by_email_password(user["email"], "wrong")["statusCode"] == 401
    challenge = client.sign_in_by_email_password(user["email"], PASSWORD)
    assert challenge["apiCode"] == 1636, challenge
    token = challenge["data"]["mfaToken"]
    client.set_access_token(token)

    live = client.verify_mfa_token(token)
    assert set(live) == {"active", "userPoolId", "userId", "exp", "iat"}, live  # bare, no envelope
    assert (live["active"], live["userId"]) == (True, user["userId"])

    tokens = ok_data(client.mfa_otp_verify(totp.now()))["tokenSet"]
    assert client.verify_mfa_token(token) == {"active": False}  # spent

    client.set_access_token(tokens["access_token"])
    mine = ok_data(client.get_login_history())
    assert mine["totalCount"] == 3
    newest = mine["list"][0]
    assert (newest["success"], newest["factor"], newest["appId"], newest["userId"]) == (
        True, "OTP", app["appId"], user["userId"])
    assert newest["userAgent"].startswith("python-requests/") and newest["clientIp"] == "127.0.0.1"
    assert [e["outcome"] for e in mine["list"]] == ["success", "mfa_challenge", "failure"]
    assert ok_data(client.get_login_history(success=True))["totalCount"] == 1
    assert ok_data(client.get_login_history(success=False, page=2, limit=1))["list"][0]["outcome"] == "failure"

    managed = ok_data(genauth_client(live_server).get_user_login_history(user_id=user["userId"]))
    assert managed["list"] == mine["list"] and managed["totalCount"] == 3
    by_email = genauth_client(live_server).get_user_login_history(user_id=user["email"], user_id_type="email")
    assert ok_data(by_email)["totalCount"] == 3


def test_genauth_verify_mfa_token_without_any_token_is_inactive(live_server: LiveServer, app: dict[str, Any]) -> None:
    client = sdk(live_server, app)
    assert client.verify_mfa_token("ignored by the SDK") == {"active": False}


def test_node_reads_the_history_and_introspects_the_mfa_token(
    live_server: LiveServer, node_sdk: NodeSdk, app: dict[str, Any]
) -> None:
    user, totp = make_user(live_server, otp=True)
    assert totp is not None
    options = {"appId": app["appId"], "appSecret": app["appSecret"], "appHost": live_server.base_url}
    first = node_sdk.run({"main": options}, [
        {"method": "signInByEmailPassword", "args": {"email": user["email"], "password": PASSWORD}},
        {"method": "setAccessToken", "args": "{{0.data.mfaToken}}"},
        {"method": "verifyMfaToken", "args": {"token": "{{0.data.mfaToken}}"}},
    ], sdk_class="AuthenticationClient")
    challenge = node_body(first[0])
    assert challenge["apiCode"] == 1636
    assert first[2]["ok"] and first[2]["result"]["active"] is True and first[2]["result"]["userId"] == user["userId"]

    token = challenge["data"]["mfaToken"]
    second = node_sdk.run({"main": options}, [
        {"method": "setAccessToken", "args": token},
        {"method": "mfaOtpVerify", "args": {"totp": totp.now()}},
        {"method": "verifyMfaToken", "args": {"token": token}},
        {"method": "setAccessToken", "args": "{{1.data.tokenSet.access_token}}"},
        {"method": "getLoginHistory", "args": {}},
        {"method": "getLoginHistory", "args": {"success": True, "appId": app["appId"]}},
    ], sdk_class="AuthenticationClient")
    assert node_body(second[1])["data"]["verified"] is True
    assert second[2]["result"] == {"active": False}
    history = ok_data(node_body(second[4]))
    assert [(e["outcome"], e["factor"]) for e in history["list"]] == [("success", "OTP"), ("mfa_challenge", None)]
    assert history["list"][0]["userAgent"].startswith("axios/")
    assert ok_data(node_body(second[5]))["totalCount"] == 1

    [managed] = node_sdk.run({"main": node_options(live_server)}, [
        {"method": "getUserLoginHistory", "args": {"userId": user["userId"]}},
    ])
    assert ok_data(node_body(managed))["list"] == history["list"]
