"""OTP enrolment driven by the unmodified genauth AuthenticationClient over real HTTP, on both databases:
a sign-in that must enrol OTP (apiCode 1636) enrols with its mfaToken (send_enroll_factor_request,
enroll_factor), then finishes with the same mfaToken and a later code (docs/signin.md#enrolment)."""

from __future__ import annotations

import base64
import time
from typing import Any

import pyotp
import pytest
from genauth import AuthenticationClient

from tests.compat.support import LiveServer, new_person, ok_data

pytestmark = pytest.mark.compat

PASSWORD = "Enrolment compat password 1!"  # noqa: S105 - a test password
POOL_NAME = "default"  # the pool the live server makes on first start
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def app(live_server: LiveServer) -> dict[str, Any]:
    created: dict[str, Any] = ok_data(live_server.call("POST", "create-application", json={"appName": "Enrol"}))
    ok_data(live_server.call("POST", "update-application-mfa-settings",
                             json={"appId": created["appId"], "enabledFactors": ["OTP"]}))
    return created


def unenrolled_user(server: LiveServer) -> dict[str, Any]:
    """OTP required, totpMfaEnabled false, no secret: the sign-in must enrol OTP first."""
    person = new_person("en")
    user: dict[str, Any] = ok_data(server.call("POST", "create-user", json={
        "username": person["username"], "email": person["email"], "password": PASSWORD}))
    ok_data(server.call("POST", "set-mfa-status", json={"userId": user["userId"], "mfaTriggerData": {
        "mfaToken": "-", "applicationMfa": [{"mfaPolicy": "OTP", "status": 1, "sort": 0}], "totpMfaEnabled": False}}))
    return user


def sdk(server: LiveServer, app: dict[str, Any]) -> AuthenticationClient:
    return AuthenticationClient(app_id=app["appId"], app_secret=app["appSecret"], app_host=server.base_url)


def mfa_token(client: AuthenticationClient, user: dict[str, Any]) -> str:
    body = client.sign_in_by_email_password(user["email"], PASSWORD)
    assert (body["statusCode"], body["apiCode"]) == (302, 1636), body
    token: str = body["data"]["mfaToken"]
    return token


def mfa_status(server: LiveServer, user: dict[str, Any]) -> dict[str, Any]:
    status: dict[str, Any] = ok_data(server.call("GET", "get-mfa-status", params={"userId": user["userId"]}))
    return status


def test_a_sign_in_enrols_otp_with_its_mfa_token_then_finishes(live_server: LiveServer, app: dict[str, Any]) -> None:
    user = unenrolled_user(live_server)
    client = sdk(live_server, app)
    token = mfa_token(client, user)
    client.set_access_token(token)

    started = ok_data(client.send_enroll_factor_request(profile={}, factor_type="OTP"))
    otp_data = started["otpData"]
    assert set(otp_data) == {"qrCodeUri", "qrCodeDataUrl", "recoveryCode"}
    uri = otp_data["qrCodeUri"]
    totp = pyotp.parse_uri(uri)
    assert isinstance(totp, pyotp.TOTP)
    assert totp.issuer == POOL_NAME  # the pool's name
    assert uri.startswith(f"otpauth://totp/{POOL_NAME}:")
    assert uri.endswith(f"&issuer={POOL_NAME}")
    assert totp.name == user["email"] and user["email"].replace("@", "%40") in uri
    assert len(base64.b32decode(totp.secret)) * 8 >= 160
    assert "&period=30&digits=6&algorithm=SHA1&" in uri and totp.interval == 30 and totp.digits == 6
    prefix = "data:image/png;base64,"
    assert otp_data["qrCodeDataUrl"].startswith(prefix)
    assert base64.b64decode(otp_data["qrCodeDataUrl"][len(prefix):]).startswith(PNG_SIGNATURE)
    assert otp_data["recoveryCode"]
    assert mfa_status(live_server, user)["totpMfaEnabled"] is False  # nothing bound yet

    now = time.time()
    enrolment_code = totp.at(now)
    done = client.enroll_factor(enrollment_data={"passCode": enrolment_code},
                                enrollment_token=started["enrollmentToken"], factor_type="OTP")
    assert done["statusCode"] == 200, done
    assert mfa_status(live_server, user)["totpMfaEnabled"] is True

    # the enrolment code is spent; the same (unspent) mfaToken finishes with a later step's code
    refused = client.mfa_otp_verify(enrolment_code)
    assert (refused["statusCode"], refused["data"]) == (200, {"verified": False}), refused
    finished = ok_data(client.mfa_otp_verify(totp.at(now + 30)))
    assert finished["verified"] is True
    access = finished["tokenSet"]["access_token"]

    client.set_access_token(access)
    factors = ok_data(client.list_enrolled_factors())
    assert [(f["factorType"], f["profile"]) for f in factors] == [("OTP", {})]
    assert factors[0]["factorId"]

    # the user's own access token enrols too (a new authenticator, once confirmed)
    renewed = ok_data(client.send_enroll_factor_request(profile={}, factor_type="OTP"))
    assert renewed["otpData"]["qrCodeUri"] != uri
    later = pyotp.parse_uri(renewed["otpData"]["qrCodeUri"])
    ok_data(client.enroll_factor(enrollment_data={"passCode": later.now()},
                                 enrollment_token=renewed["enrollmentToken"], factor_type="OTP"))

    # the enrollmentToken was used once
    again = client.enroll_factor(enrollment_data={"passCode": totp.at(now + 30)},
                                 enrollment_token=started["enrollmentToken"], factor_type="OTP")
    assert (again["statusCode"], again["apiCode"]) == (400, 40061), again


def test_a_wrong_enrolment_code_changes_nothing(live_server: LiveServer, app: dict[str, Any]) -> None:
    user = unenrolled_user(live_server)
    client = sdk(live_server, app)
    client.set_access_token(mfa_token(client, user))
    started = ok_data(client.send_enroll_factor_request(profile={}, factor_type="OTP"))
    totp = pyotp.parse_uri(started["otpData"]["qrCodeUri"])
    now = time.time()
    valid = {totp.at(now + 30 * shift) for shift in (-2, -1, 0, 1, 2)}
    wrong = next(c for c in (f"{n:06d}" for n in range(1_000_000)) if c not in valid)
    refused = client.enroll_factor(enrollment_data={"passCode": wrong},
                                   enrollment_token=started["enrollmentToken"], factor_type="OTP")
    assert (refused["statusCode"], refused["apiCode"]) == (400, 40062), refused
    assert mfa_status(live_server, user)["totpMfaEnabled"] is False
    info = ok_data(live_server.call("GET", "get-user-mfa-info", params={"userId": user["userId"]}))
    assert info["totpStatus"] == "disabled"
    # the same enrollmentToken still works with the right code
    ok_data(client.enroll_factor(enrollment_data={"passCode": totp.now()},
                                 enrollment_token=started["enrollmentToken"], factor_type="OTP"))


def test_a_token_that_is_neither_is_refused_and_face_is_not_served(
    live_server: LiveServer, app: dict[str, Any]
) -> None:
    client = sdk(live_server, app)
    client.set_access_token("not-a-token")
    answer = client.send_enroll_factor_request(profile={}, factor_type="OTP")
    assert (answer["statusCode"], answer["apiCode"], answer["data"]) == (401, 40111, None), answer
    answer = client.list_enrolled_factors()
    assert (answer["statusCode"], answer["apiCode"]) == (401, 40111), answer

    user = unenrolled_user(live_server)
    client.set_access_token(mfa_token(client, user))
    answer = client.send_enroll_factor_request(profile={}, factor_type="FACE")
    assert (answer["statusCode"], answer["apiCode"]) == (400, 40060), answer
    # this sign-in challenges only OTP: its mfaToken cannot bind an email
    answer = client.send_enroll_factor_request(profile={"email": user["email"]}, factor_type="EMAIL")
    assert (answer["statusCode"], answer["apiCode"]) == (401, 2021), answer
