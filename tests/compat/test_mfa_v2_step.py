"""The v2 MFA step as GenAuth's login UI (Guard) and ``authing-js-sdk`` call it, over real HTTP, on both
databases (docs/wire.md#v2-mfa, docs/signin.md#v2-mfa-step).

The mfaToken comes from the unmodified genauth AuthenticationClient (``sign_in_by_email_password`` ->
apiCode 1636).  The v2 requests are the ones ``authing-js-sdk`` 4.23 ``MfaAuthenticationClient``
sends (``verifyTotpMfa``: ``POST /api/v2/mfa/totp/verify {totp}``; ``verifyTotpRecoveryCode``: ``POST
/api/v2/mfa/totp/recovery {recoveryCode}``; ``authorization: Bearer <mfaToken>`` and its
``x-authing-*`` headers), and Guard's alias path with the token bare.  The js SDK itself drives the
same calls in ``test_mfa_v2_authing_js_sdk.py``.
"""

from __future__ import annotations

import re
from typing import Any

import httpx
import jwt
import pyotp
import pytest
from genauth import AuthenticationClient

from tests.compat.support import LiveServer, ok_data, otp_required_user
from tests.compat.test_mfa_step_genauth_python_sdk import PASSWORD, mfa_token, sdk, wrong_code

pytestmark = pytest.mark.compat

RECOVERY_CODE = re.compile(r"[0-9a-f]{4}(-[0-9a-f]{4}){5}")


@pytest.fixture(scope="module")
def app(live_server: LiveServer) -> dict[str, Any]:
    created: dict[str, Any] = ok_data(live_server.call("POST", "create-application", json={"appName": "MFA v2"}))
    ok_data(live_server.call("POST", "update-application-mfa-settings",
                             json={"appId": created["appId"], "enabledFactors": ["OTP"]}))
    return created


def otp_user(server: LiveServer, recovery_code: str | None = None) -> tuple[dict[str, Any], pyotp.TOTP]:
    """A user with a bound authenticator (and recovery code) whose MFA status requires OTP."""
    secret = pyotp.random_base32(32)
    return otp_required_user(server, "v2", PASSWORD, secret=secret, recovery_code=recovery_code), pyotp.TOTP(secret)


def v2_call(server: LiveServer, app: dict[str, Any], path: str, body: dict[str, Any], authorization: str) -> Any:
    """The request as authing-js-sdk's HttpClient sends it (its default x-authing-* headers)."""
    headers = {
        "x-authing-app-id": app["appId"],
        "x-authing-request-from": "sdk",
        "x-authing-sdk-version": "js:4.23.55",
        "authorization": authorization,
    }
    response = httpx.post(f"{server.base_url}{path}", json=body, headers=headers, timeout=10)
    assert response.status_code == 200, response.text
    return response.json()


def assert_signed_in(server: LiveServer, app: dict[str, Any], body: Any, user: dict[str, Any]) -> dict[str, Any]:
    """The v2 success both clients understand, with a token a relying party verifies offline."""
    assert (body["code"], body["statusCode"], body["apiCode"]) == (200, 302, 1600), body
    data: dict[str, Any] = body["data"]
    assert data["userId"] == user["userId"] and data["email"] == user["email"]
    assert data["user"]["userId"] == user["userId"]
    assert data["user"]["token"] == data["token"] and data["tokenSet"]["access_token"] == data["token"]
    jwks = jwt.PyJWKClient(f"{server.base_url}/oidc/.well-known/jwks.json")
    claims = jwt.decode(data["token"], jwks.get_signing_key_from_jwt(data["token"]), algorithms=["RS256"],
                        audience=app["appId"])
    assert claims["sub"] == user["userId"]
    assert data["tokenExpiredAt"].endswith("Z") and data["tokenExpiredAt"] == data["user"]["tokenExpiredAt"]
    id_claims = jwt.decode(data["tokenSet"]["id_token"], jwks.get_signing_key_from_jwt(data["tokenSet"]["id_token"]),
                           algorithms=["RS256"], audience=app["appId"])
    assert id_claims["amr"] == ["pwd", "mfa", "otp"]
    return data


@pytest.mark.parametrize(("path", "scheme"), [("/api/v2/mfa/totp/verify", "Bearer "),
                                              ("/api/v2/applications/mfa/totp/verify", "")])
def test_totp_finishes_the_sign_in(live_server: LiveServer, app: dict[str, Any], path: str, scheme: str) -> None:
    user, totp = otp_user(live_server)
    client = sdk(live_server, app)
    token = mfa_token(client, user)

    wrong = v2_call(live_server, app, path, {"totp": wrong_code(totp)}, scheme + token)
    assert (wrong["code"], wrong["apiCode"], wrong["data"]) == (6001, 6001, None), wrong

    done = v2_call(live_server, app, path, {"totp": totp.now()}, scheme + token)  # the token survived
    data = assert_signed_in(live_server, app, done, user)
    client.set_access_token(data["token"])
    assert ok_data(client.get_profile())["userId"] == user["userId"]

    spent = v2_call(live_server, app, path, {"totp": totp.now()}, scheme + token)
    assert (spent["code"], spent["apiCode"]) == (2021, 2021), spent


def test_an_invalid_mfa_token_and_a_missing_code(live_server: LiveServer, app: dict[str, Any]) -> None:
    bogus = v2_call(live_server, app, "/api/v2/mfa/totp/verify", {"totp": "123456"}, "Bearer not-a-token")
    assert (bogus["code"], bogus["apiCode"]) == (2021, 2021), bogus
    user, totp = otp_user(live_server)
    client = sdk(live_server, app)
    client.set_access_token(mfa_token(client, user))
    access = ok_data(client.mfa_otp_verify(totp.now()))["tokenSet"]["access_token"]
    refused = v2_call(live_server, app, "/api/v2/mfa/totp/verify", {"totp": "123456"}, f"Bearer {access}")
    assert refused["code"] == 2021, refused  # a user access token is not an mfaToken
    empty = v2_call(live_server, app, "/api/v2/mfa/totp/recovery", {}, "Bearer not-a-token")
    assert empty["code"] == empty["apiCode"] and empty["statusCode"] == 400, empty


def test_a_recovery_code_works_once_and_is_replaced(live_server: LiveServer, app: dict[str, Any]) -> None:
    first = "8477-a1a6-662c-a750-bbb4-72a9"
    user, totp = otp_user(live_server, first)
    client = sdk(live_server, app)
    recovery = "/api/v2/mfa/totp/recovery"

    token = mfa_token(client, user)
    wrong = v2_call(live_server, app, recovery, {"recoveryCode": "0000-0000-0000-0000-0000-0000"}, f"Bearer {token}")
    assert (wrong["code"], wrong["apiCode"]) == (6002, 6002), wrong
    done = v2_call(live_server, app, recovery, {"recoveryCode": first}, f"Bearer {token}")
    assert_signed_in(live_server, app, done, user)
    fresh = done["recoveryCode"]
    assert RECOVERY_CODE.fullmatch(fresh) and fresh != first, done
    assert done["data"]["recoveryCode"] == fresh

    again = v2_call(live_server, app, recovery, {"recoveryCode": first}, f"Bearer {mfa_token(client, user)}")
    assert (again["code"], again["apiCode"]) == (6002, 6002), again

    later = v2_call(live_server, app, recovery, {"recoveryCode": fresh}, f"Bearer {mfa_token(client, user)}")
    assert_signed_in(live_server, app, later, user)
    assert later["recoveryCode"] not in (first, fresh)


def test_the_recovery_code_counts_as_the_otp_factor(live_server: LiveServer, app: dict[str, Any]) -> None:
    """Wrong recovery codes lock the OTP factor like wrong TOTP codes; locked looks like wrong."""
    good = "1111-2222-3333-4444-5555-6666"
    user, totp = otp_user(live_server, good)
    client: AuthenticationClient = sdk(live_server, app)
    token = mfa_token(client, user)
    limit = 5  # TWOFOLD_MFA_LOCKOUT_THRESHOLD's default
    for _ in range(limit):
        wrong = v2_call(live_server, app, "/api/v2/mfa/totp/recovery",
                        {"recoveryCode": "0000-0000-0000-0000-0000-0000"}, f"Bearer {token}")
        assert wrong["code"] == 6002, wrong
    locked = v2_call(live_server, app, "/api/v2/mfa/totp/recovery", {"recoveryCode": good}, f"Bearer {token}")
    assert (locked["code"], locked["message"]) == (6002, wrong["message"]), locked
    locked_totp = v2_call(live_server, app, "/api/v2/mfa/totp/verify", {"totp": totp.now()}, f"Bearer {token}")
    assert locked_totp["code"] == 6001, locked_totp


def test_concurrent_uses_of_one_recovery_code_give_one_sign_in(live_server: LiveServer, app: dict[str, Any]) -> None:
    """Two sign-ins race with the same recovery code: exactly one wins, and its new code is the one stored."""
    from concurrent.futures import ThreadPoolExecutor

    first = "abcd-0123-4567-89ab-cdef-0123"
    user, _ = otp_user(live_server, first)
    client = sdk(live_server, app)
    # fewer racers than the lockout limit (5): a loser that reads after the winner sees a wrong code,
    # which counts, and the factor must stay unlocked for the last call
    tokens = [mfa_token(client, user) for _ in range(4)]
    with ThreadPoolExecutor(len(tokens)) as pool:
        answers = list(pool.map(lambda t: v2_call(live_server, app, "/api/v2/mfa/totp/recovery",
                                                  {"recoveryCode": first}, f"Bearer {t}"), tokens))
    winners = [a for a in answers if a["code"] == 200]
    assert len(winners) == 1 and all(a["code"] == 6002 for a in answers if a["code"] != 200), answers
    later = v2_call(live_server, app, "/api/v2/mfa/totp/recovery", {"recoveryCode": winners[0]["recoveryCode"]},
                    f"Bearer {mfa_token(client, user)}")
    assert later["code"] == 200, later
