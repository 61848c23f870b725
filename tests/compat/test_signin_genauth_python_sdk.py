"""Contract tests: sign-in and tokens (docs/signin.md, docs/wire.md#signin) through the unmodified
``genauth`` 5.1.0 ``AuthenticationClient``, against a live ``twofold serve`` on each database.

The application and its secret come from ``twofold apps create --json`` (the CLI through the typed SDK);
users and MFA policies are set up over the management API; everything a relying party does goes through
the genauth client or, for offline verification, PyJWT's ``PyJWKClient`` against the published JWKS.
"""

from __future__ import annotations

import json
import subprocess
from typing import Any

import jwt
import pytest
from genauth import AuthenticationClient

from tests.compat.support import TWOFOLD_BIN, LiveServer, new_person, ok_data

pytestmark = pytest.mark.compat

PASSWORD = "Sign-in compat password 1!"  # noqa: S105 - a test password


def cli_json(server: LiveServer, *args: str) -> Any:
    env = {**server.env, "TWOFOLD_HOST": server.base_url, "TWOFOLD_ACCESS_KEY_ID": server.access_key_id,
           "TWOFOLD_ACCESS_KEY_SECRET": server.access_key_secret, "TWOFOLD_PROFILE_FILE": "/nonexistent/p.toml"}
    done = subprocess.run([str(TWOFOLD_BIN), *args, "--json"], env=env, capture_output=True, timeout=60, check=False)
    assert done.returncode == 0, done.stdout.decode(errors="replace") + done.stderr.decode(errors="replace")
    return json.loads(done.stdout)


@pytest.fixture(scope="module")
def app(live_server: LiveServer) -> dict[str, Any]:
    created: dict[str, Any] = cli_json(live_server, "apps", "create", "Compat sign-in")
    assert len(created["appSecret"]) == 64
    cli_json(live_server, "apps", "mfa", created["appId"], "--enable", "OTP", "--enable", "SMS")
    return created


def make_user(server: LiveServer) -> dict[str, Any]:
    person = new_person("si")
    body = server.call("POST", "create-user", json={"username": person["username"], "email": person["email"],
                                                    "phone": person["phone"], "password": PASSWORD})
    user: dict[str, Any] = ok_data(body)
    return user


def client(server: LiveServer, app: dict[str, Any], secret: str | None = None, **kw: Any) -> AuthenticationClient:
    return AuthenticationClient(app_id=app["appId"], app_secret=secret or app["appSecret"], app_host=server.base_url, **kw)


def test_email_password_sign_in_gives_tokens_that_verify_offline(live_server: LiveServer, app: dict[str, Any]) -> None:
    user = make_user(live_server)
    sdk = client(live_server, app)
    body = sdk.sign_in_by_email_password(user["email"], PASSWORD)
    tokens = ok_data(body)
    assert set(tokens) == {"access_token", "id_token", "refresh_token", "token_type", "expire_in", "scope"}
    sdk.set_access_token(tokens["access_token"])
    profile = ok_data(sdk.get_profile())
    assert (profile["userId"], profile["email"]) == (user["userId"], user["email"])

    config = httpx_json(f"{live_server.base_url}/oidc/.well-known/openid-configuration")
    assert config["issuer"] == f"{live_server.base_url}/oidc"
    keys = jwt.PyJWKClient(config["jwks_uri"])
    for token in (tokens["access_token"], tokens["id_token"]):
        key = keys.get_signing_key_from_jwt(token)
        claims = jwt.decode(token, key, algorithms=["RS256"], audience=app["appId"], issuer=config["issuer"])
        assert claims["sub"] == user["userId"]
    # the SDK's own offline check (RSAAlgorithm.from_jwk, RS256, audience = app id)
    assert sdk.introspect_token_offline(tokens["access_token"])["sub"] == user["userId"]


def httpx_json(url: str) -> dict[str, Any]:
    import httpx

    response = httpx.get(url, timeout=10)
    assert response.status_code == 200, response.text
    data: dict[str, Any] = response.json()
    return data


def test_wrong_secret_wrong_password_and_unknown_user_look_identical(
    live_server: LiveServer, app: dict[str, Any]
) -> None:
    user = make_user(live_server)
    answers = [
        client(live_server, app, secret="f" * 64).sign_in_by_email_password(user["email"], PASSWORD),
        client(live_server, app).sign_in_by_email_password(user["email"], PASSWORD + "x"),
        client(live_server, app).sign_in_by_email_password(f"nobody-{user['email']}", PASSWORD),
        client(live_server, app).sign_in_by_username_password(user["username"] + "-nobody", PASSWORD),
    ]
    assert {(a["statusCode"], a["apiCode"], a["message"], a["data"]) for a in answers} == {
        (401, 40110, "Incorrect account or password", None)
    }


def test_otp_required_answers_1636_with_an_mfa_token(live_server: LiveServer, app: dict[str, Any]) -> None:
    user = make_user(live_server)
    ok_data(live_server.call("POST", "set-mfa-status", json={"userId": user["userId"], "mfaTriggerData": {
        "mfaToken": "-", "applicationMfa": [{"mfaPolicy": "OTP", "status": 1, "sort": 0},
                                            {"mfaPolicy": "SMS", "status": 0, "sort": 1}]}}))
    body = client(live_server, app).sign_in_by_email_password(user["email"], PASSWORD)
    assert (body["statusCode"], body["apiCode"], body["code"]) == (302, 1636, 1636), body
    data = body["data"]
    assert "access_token" not in data
    assert data["applicationMfa"] == [{"mfaPolicy": "OTP", "status": 1, "sort": 0}]
    assert (data["email"], data["username"], data["totpMfaEnabled"]) == (user["email"], user["username"], False)
    claims = jwt.decode(data["mfaToken"], options={"verify_signature": False})
    assert (claims["sub"], claims["app_id"]) == (user["userId"], app["appId"])
    assert claims["exp"] - claims["iat"] <= 300
    # the mfaToken opens nothing a user token opens
    sdk = client(live_server, app)
    sdk.set_access_token(data["mfaToken"])
    assert sdk.get_profile()["statusCode"] == 401


def test_refresh_rotates_and_a_reused_refresh_token_is_refused(live_server: LiveServer, app: dict[str, Any]) -> None:
    user = make_user(live_server)
    sdk = client(live_server, app)
    first = ok_data(sdk.sign_in_by_email_password(user["email"], PASSWORD))
    second = sdk.get_new_access_token_by_refresh_token(first["refresh_token"])
    assert second["refresh_token"] != first["refresh_token"] and second["access_token"]
    reused = sdk.get_new_access_token_by_refresh_token(first["refresh_token"])
    assert reused["error"] == "invalid_grant"
    # reuse revoked the whole sign-in
    assert sdk.get_new_access_token_by_refresh_token(second["refresh_token"])["error"] == "invalid_grant"
    assert sdk.introspect_token(second["access_token"]) == {"active": False}


def test_introspection_and_revocation_through_the_sdk(live_server: LiveServer, app: dict[str, Any]) -> None:
    user = make_user(live_server)
    sdk = client(live_server, app)
    tokens = ok_data(sdk.sign_in_by_email_password(user["email"], PASSWORD))
    active = sdk.introspect_token(tokens["access_token"])
    assert active["active"] is True and active["sub"] == user["userId"]
    assert sdk.revoke_token(tokens["refresh_token"]) is True
    assert sdk.introspect_token(tokens["access_token"]) == {"active": False}
    sdk.set_access_token(tokens["access_token"])
    assert sdk.get_profile()["statusCode"] == 401


def test_a_public_app_signs_in_without_a_secret(live_server: LiveServer) -> None:
    public: dict[str, Any] = cli_json(live_server, "apps", "create", "Compat public app")
    ok_data(live_server.call("POST", "twofold/set-application-auth-method",
                             json={"appId": public["appId"], "tokenEndpointAuthMethod": "none"}))
    user = make_user(live_server)
    # Python with client_secret_basic sends no credentials at all (docs/wire.md#rule-22): a public app
    sdk = AuthenticationClient(app_id=public["appId"], app_host=live_server.base_url,
                               token_endpoint_auth_method="client_secret_basic")
    assert ok_data(sdk.sign_in_by_email_password(user["email"], PASSWORD))["access_token"]


def test_a_rotated_secret_replaces_the_old_one(live_server: LiveServer) -> None:
    fresh: dict[str, Any] = cli_json(live_server, "apps", "create", "Compat rotation")
    rotated = cli_json(live_server, "apps", "rotate-secret", fresh["appId"])
    user = make_user(live_server)
    assert client(live_server, fresh).sign_in_by_email_password(user["email"], PASSWORD)["statusCode"] == 401
    answer = client(live_server, fresh, secret=rotated["appSecret"]).sign_in_by_email_password(user["email"], PASSWORD)
    assert answer["statusCode"] == 200
