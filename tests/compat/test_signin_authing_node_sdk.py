"""Contract tests: sign-in through the unmodified ``authing-node-sdk`` 4.x ``AuthenticationClient``
(``node/run_calls.cjs`` with ``AuthenticationClient``), against a live ``twofold serve`` on each database.

Node is the SDK that really sends ``Authorization: Basic`` with ``client_secret_basic``
(docs/wire.md#end-user-headers), so both client authentication methods are driven here.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.compat.support import LiveServer, NodeSdk, new_person, ok_data
from tests.compat.test_signin_genauth_python_sdk import PASSWORD, cli_json, make_user

pytestmark = pytest.mark.compat

def run_auth(sdk: NodeSdk, clients: dict[str, dict[str, Any]], calls: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return sdk.run(clients, calls, sdk_class="AuthenticationClient")


def body(result: dict[str, Any]) -> dict[str, Any]:
    assert result["ok"], result.get("error")
    answer: dict[str, Any] = result["result"]
    return answer


@pytest.fixture(scope="module")
def app(live_server: LiveServer) -> dict[str, Any]:
    created: dict[str, Any] = cli_json(live_server, "apps", "create", "Node sign-in")
    cli_json(live_server, "apps", "mfa", created["appId"], "--enable", "OTP")
    return created


@pytest.mark.parametrize("method", ["client_secret_post", "client_secret_basic"])
def test_node_signs_in_and_reads_the_profile(
    live_server: LiveServer, node_sdk: NodeSdk, app: dict[str, Any], method: str
) -> None:
    user = make_user(live_server)
    options = {"appId": app["appId"], "appSecret": app["appSecret"], "appHost": live_server.base_url,
               "tokenEndPointAuthMethod": method}
    results = run_auth(node_sdk, {"main": options}, [
        {"method": "signInByEmailPassword", "args": {"email": user["email"], "password": PASSWORD}},
        {"method": "setAccessToken", "args": "{{0.data.access_token}}"},
        {"method": "getProfile", "args": {}},
    ])
    tokens = ok_data(body(results[0]))
    assert tokens["token_type"] == "Bearer" and tokens["expire_in"] > 0
    assert ok_data(body(results[2]))["userId"] == user["userId"]


def test_node_wrong_secret_is_refused_like_a_wrong_password(
    live_server: LiveServer, node_sdk: NodeSdk, app: dict[str, Any]
) -> None:
    user = make_user(live_server)
    base = {"appId": app["appId"], "appHost": live_server.base_url}
    results = run_auth(node_sdk, {
        "wrong_basic": {**base, "appSecret": "0" * 64, "tokenEndPointAuthMethod": "client_secret_basic"},
        "right": {**base, "appSecret": app["appSecret"]},
    }, [
        {"client": "wrong_basic", "method": "signInByEmailPassword", "args": {"email": user["email"], "password": PASSWORD}},
        {"client": "right", "method": "signInByEmailPassword", "args": {"email": user["email"], "password": "nope"}},
        {"client": "right", "method": "signInByEmailPassword",
         "args": {"email": new_person("nx")["email"], "password": PASSWORD}},
    ])  # fmt: skip
    answers = [body(r) for r in results]
    assert {(a["statusCode"], a["apiCode"], a["message"], a["data"]) for a in answers} == {
        (401, 40110, "Incorrect account or password", None)
    }


def test_node_sees_mfa_required(live_server: LiveServer, node_sdk: NodeSdk, app: dict[str, Any]) -> None:
    user = make_user(live_server)
    ok_data(live_server.call("POST", "set-mfa-status", json={"userId": user["userId"], "mfaTriggerData": {
        "mfaToken": "-", "applicationMfa": [{"mfaPolicy": "OTP", "status": 1, "sort": 0}]}}))
    options = {"appId": app["appId"], "appSecret": app["appSecret"], "appHost": live_server.base_url}
    [result] = run_auth(node_sdk, {"main": options}, [
        {"method": "signInByEmailPassword", "args": {"email": user["email"], "password": PASSWORD}},
    ])
    answer = body(result)
    assert (answer["statusCode"], answer["apiCode"]) == (302, 1636)
    assert answer["data"]["mfaToken"] and "access_token" not in answer["data"]
