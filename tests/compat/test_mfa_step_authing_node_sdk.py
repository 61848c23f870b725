"""The MFA step of a sign-in through the unmodified ``authing-node-sdk`` 4.x ``AuthenticationClient``
(``node/run_calls.cjs``), over real HTTP, on both databases (docs/signin.md#mfa-required):

signInByEmailPassword -> apiCode 1636 + mfaToken -> setAccessToken(mfaToken) -> (sendEnrollFactorRequest
-> enrollFactor) -> mfaOtpVerify({totp}) -> data.tokenSet -> getProfile with the access token; the tokens
verify offline against /oidc/.well-known/jwks.json; the used code is refused on the next sign-in;
lockout and unlock.  The expired mfaToken is in test_mfa_clock_authing_node_sdk.py (a server whose clock the
test moves).

Each run of the runner is a fresh Node client, so every run that needs a token sets it first.
"""

from __future__ import annotations

import time
from typing import Any
from urllib.parse import parse_qs, urlparse

import jwt
import pyotp
import pytest

from tests.compat.support import LiveServer, NodeSdk, node_body, ok_data, otp_required_user
from twofold_client import ManagementClient

pytestmark = pytest.mark.compat

PASSWORD = "Node MFA step password 1!"  # noqa: S105 - a test password
LOCKOUT_LIMIT = 5  # TWOFOLD_MFA_MAX_FAILURES' default


def make_app(server: LiveServer) -> dict[str, Any]:
    created: dict[str, Any] = ok_data(server.call("POST", "create-application", json={"appName": "Node MFA"}))
    ok_data(server.call("POST", "update-application-mfa-settings",
                        json={"appId": created["appId"], "enabledFactors": ["OTP"]}))
    return created


@pytest.fixture(scope="module")
def app(live_server: LiveServer) -> dict[str, Any]:
    return make_app(live_server)


def make_user(server: LiveServer, secret: str | None) -> dict[str, Any]:
    """OTP required; with ``secret`` the authenticator is bound (import-otp), else it must be enrolled."""
    return otp_required_user(server, "nm", PASSWORD, secret=secret)


def options(server: LiveServer, app: dict[str, Any]) -> dict[str, Any]:
    return {"appId": app["appId"], "appSecret": app["appSecret"], "appHost": server.base_url}


def run(sdk: NodeSdk, server: LiveServer, app: dict[str, Any], calls: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return sdk.run({"main": options(server, app)}, calls, sdk_class="AuthenticationClient")


def challenge(sdk: NodeSdk, server: LiveServer, app: dict[str, Any], user: dict[str, Any]) -> str:
    [result] = run(sdk, server, app, [
        {"method": "signInByEmailPassword", "args": {"email": user["email"], "password": PASSWORD}}])
    body = node_body(result)
    assert (body["statusCode"], body["apiCode"]) == (302, 1636), body
    assert "access_token" not in body["data"]
    token: str = body["data"]["mfaToken"]
    return token


def verify(sdk: NodeSdk, server: LiveServer, app: dict[str, Any], token: str, code: str) -> dict[str, Any]:
    _, result = run(sdk, server, app, [
        {"method": "setAccessToken", "args": token}, {"method": "mfaOtpVerify", "args": {"totp": code}}])
    return node_body(result)


def test_node_enrols_then_finishes_the_sign_in_and_the_tokens_verify_offline(
    live_server: LiveServer, node_sdk: NodeSdk, app: dict[str, Any]
) -> None:
    user = make_user(live_server, None)
    token = challenge(node_sdk, live_server, app, user)
    _, requested = run(node_sdk, live_server, app, [
        {"method": "setAccessToken", "args": token},
        {"method": "sendEnrollFactorRequest", "args": {"factorType": "OTP", "profile": {}}},
    ])
    enrolment = ok_data(node_body(requested))
    uri = enrolment["otpData"]["qrCodeUri"]
    assert uri.startswith("otpauth://totp/")
    totp = pyotp.TOTP(parse_qs(urlparse(uri).query)["secret"][0])
    now = time.time()
    code, later = totp.at(now), totp.at(now + 30)
    _, enrolled, replayed = run(node_sdk, live_server, app, [
        {"method": "setAccessToken", "args": token},
        {"method": "enrollFactor", "args": {"factorType": "OTP", "enrollmentToken": enrolment["enrollmentToken"],
                                            "enrollmentData": {"passCode": code}}},
        {"method": "mfaOtpVerify", "args": {"totp": code}},
    ])
    assert node_body(enrolled)["statusCode"] == 200, enrolled
    assert node_body(replayed)["data"] == {"verified": False}  # the enrolment code is spent

    done = ok_data(verify(node_sdk, live_server, app, token, later))
    assert done["verified"] is True
    tokens = done["tokenSet"]
    _, profile = run(node_sdk, live_server, app, [
        {"method": "setAccessToken", "args": tokens["access_token"]}, {"method": "getProfile", "args": {}}])
    assert ok_data(node_body(profile))["userId"] == user["userId"]

    keys = jwt.PyJWKClient(f"{live_server.base_url}/oidc/.well-known/jwks.json")
    issuer = f"{live_server.base_url}/oidc"
    for name in ("access_token", "id_token"):
        signed = tokens[name]
        claims = jwt.decode(signed, keys.get_signing_key_from_jwt(signed), algorithms=["RS256"],
                            audience=app["appId"], issuer=issuer)
        assert claims["sub"] == user["userId"]
    assert jwt.decode(tokens["id_token"], options={"verify_signature": False})["amr"] == ["pwd", "mfa", "otp"]
    with pytest.raises(jwt.InvalidSignatureError):  # a tampered token fails the same offline check
        head, body, signature = tokens["access_token"].split(".")
        forged = f"{head}.{body}.{signature[:-4]}AAAA"
        jwt.decode(forged, keys.get_signing_key_from_jwt(forged), algorithms=["RS256"], audience=app["appId"])

    # the spent mfaToken never yields tokens again, and the used code is refused on the next sign-in
    again = verify(node_sdk, live_server, app, token, totp.now())
    assert (again["statusCode"], again["apiCode"]) == (401, 2021), again
    next_token = challenge(node_sdk, live_server, app, user)
    assert verify(node_sdk, live_server, app, next_token, later)["data"] == {"verified": False}


def test_node_lockout_looks_like_a_wrong_code_until_an_admin_unlocks(
    live_server: LiveServer, node_sdk: NodeSdk, app: dict[str, Any]
) -> None:
    secret = pyotp.random_base32(32)
    user = make_user(live_server, secret)
    totp = pyotp.TOTP(secret)
    token = challenge(node_sdk, live_server, app, user)
    now = time.time()
    valid = {totp.at(now + 30 * shift) for shift in (-2, -1, 0, 1, 2)}
    wrong = next(c for c in (f"{n:06d}" for n in range(1_000_000)) if c not in valid)
    results = run(node_sdk, live_server, app, [
        {"method": "setAccessToken", "args": token},
        *[{"method": "mfaOtpVerify", "args": {"totp": wrong}} for _ in range(LOCKOUT_LIMIT)],
        {"method": "mfaOtpVerify", "args": {"totp": totp.now()}},
    ])
    answers = [node_body(r) for r in results[1:]]
    assert all((a["statusCode"], a["data"]) == (200, {"verified": False}) for a in answers), answers
    # the lock shows only to the admin: Twofold's own SDK (GenAuth's have no unlock call)
    with ManagementClient(live_server.access_key_id, live_server.access_key_secret, live_server.base_url) as admin:
        [otp] = [f for f in admin.get_mfa_lock_status(user["userId"]).factors if f.factor == "OTP"]
        assert otp.locked is True and otp.failures == LOCKOUT_LIMIT, otp
        assert admin.unlock_mfa(user["userId"]) == ["OTP"]
    done = ok_data(verify(node_sdk, live_server, app, token, totp.now()))
    assert done["verified"] is True and done["tokenSet"]["access_token"]
