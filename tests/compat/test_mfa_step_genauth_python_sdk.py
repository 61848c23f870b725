"""The MFA step of a sign-in, driven by the unmodified genauth AuthenticationClient over real HTTP:
sign_in_by_email_password -> apiCode 1636 + mfaToken -> set_access_token(mfaToken) -> mfa_otp_verify(code)
-> data.tokenSet (docs/wire.md#mfa-totp-verify), on both databases."""

from __future__ import annotations

import time
from typing import Any

import pyotp
import pytest
from genauth import AuthenticationClient

from tests.compat.support import LiveServer, ok_data, otp_required_user

pytestmark = pytest.mark.compat

PASSWORD = "MFA step compat password 1!"  # noqa: S105 - a test password


@pytest.fixture(scope="module")
def app(live_server: LiveServer) -> dict[str, Any]:
    created: dict[str, Any] = ok_data(live_server.call("POST", "create-application", json={"appName": "MFA step"}))
    ok_data(live_server.call("POST", "update-application-mfa-settings",
                             json={"appId": created["appId"], "enabledFactors": ["OTP"]}))
    return created


def otp_user(server: LiveServer) -> tuple[dict[str, Any], pyotp.TOTP]:
    """A user with a bound authenticator (import-otp) whose MFA status requires OTP."""
    secret = pyotp.random_base32(32)
    return otp_required_user(server, "st", PASSWORD, secret=secret), pyotp.TOTP(secret)


def sdk(server: LiveServer, app: dict[str, Any]) -> AuthenticationClient:
    return AuthenticationClient(app_id=app["appId"], app_secret=app["appSecret"], app_host=server.base_url)


def mfa_token(client: AuthenticationClient, user: dict[str, Any]) -> str:
    body = client.sign_in_by_email_password(user["email"], PASSWORD)
    assert (body["statusCode"], body["apiCode"]) == (302, 1636), body
    token: str = body["data"]["mfaToken"]
    return token


def wrong_code(totp: pyotp.TOTP) -> str:
    """A code that no step inside the verification window accepts."""
    now = time.time()
    valid = {totp.at(now + 30 * shift) for shift in (-2, -1, 0, 1, 2)}
    return next(c for c in (f"{n:06d}" for n in range(1_000_000)) if c not in valid)


def test_otp_step_finishes_the_sign_in_with_a_token_set(live_server: LiveServer, app: dict[str, Any]) -> None:
    user, totp = otp_user(live_server)
    client = sdk(live_server, app)
    token = mfa_token(client, user)
    client.set_access_token(token)

    refused = client.mfa_otp_verify(wrong_code(totp))
    assert (refused["statusCode"], refused["data"]) == (200, {"verified": False}), refused

    code = totp.now()
    done = ok_data(client.mfa_otp_verify(code))
    assert done["verified"] is True
    tokens = done["tokenSet"]
    assert set(tokens) == {"access_token", "id_token", "refresh_token", "token_type", "expire_in", "scope"}
    client.set_access_token(tokens["access_token"])
    assert ok_data(client.get_profile())["userId"] == user["userId"]
    assert client.introspect_token_offline(tokens["id_token"])["amr"] == ["pwd", "mfa", "otp"]

    # the spent mfaToken never yields tokens again, not even with a fresh code
    client.set_access_token(token)
    again = client.mfa_otp_verify(totp.now())
    assert (again["statusCode"], again["apiCode"]) == (401, 2021), again

    # the used code is refused on the next sign-in: its step is spent
    second = sdk(live_server, app)
    second.set_access_token(mfa_token(second, user))
    replay = second.mfa_otp_verify(code)
    assert (replay["statusCode"], replay["data"]) == (200, {"verified": False}), replay


def test_a_signed_in_user_verifies_their_authenticator_without_new_tokens(
    live_server: LiveServer, app: dict[str, Any]
) -> None:
    user, totp = otp_user(live_server)
    client = sdk(live_server, app)
    client.set_access_token(mfa_token(client, user))
    access = ok_data(client.mfa_otp_verify(totp.now()))["tokenSet"]["access_token"]
    client.set_access_token(access)
    answer = ok_data(client.mfa_otp_verify(wrong_code(totp)))
    assert answer == {"verified": False}


def test_a_token_that_is_neither_an_mfa_token_nor_an_access_token_is_refused(
    live_server: LiveServer, app: dict[str, Any]
) -> None:
    client = sdk(live_server, app)
    client.set_access_token("not-a-token")
    answer = client.mfa_otp_verify("123456")
    assert (answer["statusCode"], answer["apiCode"], answer["data"]) == (401, 2021, None), answer


def test_an_admin_reset_of_the_factor_ends_the_users_sign_ins(live_server: LiveServer, app: dict[str, Any]) -> None:
    user, totp = otp_user(live_server)
    client = sdk(live_server, app)
    client.set_access_token(mfa_token(client, user))
    tokens = ok_data(client.mfa_otp_verify(totp.now()))["tokenSet"]
    client.set_access_token(tokens["access_token"])
    assert ok_data(client.get_profile())["userId"] == user["userId"]

    live_server.call("POST", "twofold/reset-mfa-factor", json={"userId": user["userId"], "factor": "OTP"})
    assert client.get_profile()["statusCode"] == 401
    refreshed = client.get_new_access_token_by_refresh_token(tokens["refresh_token"])
    assert refreshed["error"] == "invalid_grant", refreshed
