"""Contract tests: MFA management (docs/wire.md#mfa-endpoints) through the unmodified ``authing-node-sdk`` 4.0.1.

Same rules as ``test_mfa_genauth_python_sdk.py`` (docs/mfa-status.md), driven through the signed Node
client: its default language is zh-CN, it throws on any non-2xx HTTP status (so every business error
must be an HTTP-200 envelope), it always sends ``userIdType`` on GETs, and it is the only SDK with
``closeGlobalMfaSettings`` (``POST disable-global-mfa-settings {disableFactors}``).  Each test runs one
Node process (``node/run_calls.cjs``); ``{{N.path}}`` in an argument refers to call N's result.
"""

from __future__ import annotations

import json
from typing import Any

import pyotp
import pytest

from tests.compat.support import (
    LONG_VALID_EMAIL,
    MFA_STATUS_BEFORE,
    MFA_STATUS_OTHER,
    REJECTED_MFA_WRITES,
    LiveServer,
    NodeSdk,
    RecordingRelay,
    create_access_key,
    mixed_case,
    new_person,
    node_body,
    node_options,
    ok_data,
    request_line,
)
from tests.factories import SEED_MFA_TRIGGER_DATA

pytestmark = pytest.mark.compat


@pytest.fixture(scope="module")
def unpermitted_key(live_server: LiveServer) -> tuple[str, str]:
    """An access key made with ``twofold keys create`` without ``--allow-otp-secret-read``."""
    return create_access_key(live_server, description="no otp secret read")


def call(method: str, args: dict[str, Any] | None = None, client: str = "main") -> dict[str, Any]:
    return {"client": client, "method": method, "args": args or {}}


def person(**extra: Any) -> dict[str, Any]:
    someone = new_person("jm")
    return {**someone, "nickname": f"nick {someone['username']}", **extra}


def profile_echo(user: dict[str, Any]) -> dict[str, Any]:
    return {k: user[k] for k in ("nickname", "username", "phone", "phoneCountryCode")}


def envelope_error(result: dict[str, Any]) -> tuple[Any, Any, Any]:
    """(statusCode, apiCode, data) of an answer the SDK returned (HTTP 200: otherwise it throws)."""
    body = node_body(result)
    return body["statusCode"], body.get("apiCode"), body["data"]


def test_seed_sample_is_sent_as_written_and_succeeds(live_server: LiveServer, node_sdk: NodeSdk) -> None:
    someone = person()
    with RecordingRelay(live_server.port) as relay:
        results = node_sdk.run({"relay": node_options(live_server, host=relay.url)}, [
            call("createUser", someone, client="relay"),
            call("setUsersMfaStatus", {"userId": "{{0.data.userId}}", "userIdType": "user_id",
                                       "mfaTriggerData": SEED_MFA_TRIGGER_DATA}, client="relay"),
            call("getUserMfaStatus", {"userId": "{{0.data.userId}}"}, client="relay"),
        ])
    user = ok_data(node_body(results[0]))
    body = node_body(results[1])
    assert body["statusCode"] == 200 and body["data"]["success"] is True, body
    assert "requestId" in body and body["message"]

    sent = relay.requests()[1]
    assert request_line(sent) == "POST /api/v3/set-mfa-status HTTP/1.1"
    assert json.loads(sent.split(b"\r\n\r\n", 1)[1]) == {
        "userId": user["userId"], "userIdType": "user_id", "mfaTriggerData": SEED_MFA_TRIGGER_DATA}

    assert ok_data(node_body(results[2])) == {
        "mfaToken": "",
        "applicationMfa": [{"mfaPolicy": "EMAIL", "status": 1, "sort": 0}],
        "totpMfaEnabled": True,
        "faceMfaEnabled": True,
        "mfaPhone": None,
        "mfaPhoneCountryCode": None,
        "mfaEmail": None,
        **profile_echo(user),
        "version": body["data"]["version"],
    }


def test_seed_flow_otp_required_not_enrolled_yet_reads_back_as_set(live_server: LiveServer,
                                                                   node_sdk: NodeSdk) -> None:
    """The commonest real state, for which GenAuth's login UI shows TOTP enrolment, then every other
    combination of the two flags with the same policy: each is stored and read back exactly as set."""
    tag = new_person()["username"]
    required = [{"mfaPolicy": "OTP", "status": 1, "sort": 0}]
    flags = [(False, False), (True, False), (False, True), (True, True)]
    calls = [
        call("createUser", person()),
        call("createApplication", {"appName": f"Seed {tag}", "appIdentifier": f"seed-{tag}"}),
        call("updateApplicationMfaSettings", {"appId": "{{1.data.appId}}", "enabledFactors": ["OTP", "FACE"]}),
    ]
    for totp, face in flags:
        calls += [
            call("setUsersMfaStatus", {"userId": "{{0.data.userId}}", "mfaTriggerData": {
                "mfaToken": "t", "applicationMfa": required, "totpMfaEnabled": totp, "faceMfaEnabled": face}}),
            call("getUserMfaStatus", {"userId": "{{0.data.userId}}"}),
            call("getMfaTriggerData", {"appId": "{{1.data.appId}}", "userId": "{{0.data.userId}}"}),
            call("getUserMfaInfo", {"userId": "{{0.data.userId}}"}),
        ]
    results = node_sdk.run({"main": node_options(live_server)}, calls)
    user = ok_data(node_body(results[0]))
    assert ok_data(node_body(results[2])) == {"enabledFactors": ["OTP", "FACE"]}
    for index, (totp, face) in enumerate(flags):
        written, got, seen, info = (ok_data(node_body(r)) for r in results[3 + 4 * index:7 + 4 * index])
        expected = {"mfaToken": "", "applicationMfa": required, "totpMfaEnabled": totp, "faceMfaEnabled": face,
                    "mfaPhone": None, "mfaPhoneCountryCode": None, "mfaEmail": None, **profile_echo(user),
                    "version": index + 1}
        assert written == {"success": True, "version": index + 1}
        assert got == seen == expected, (totp, face)
        assert (info["totpStatus"], info["faceMfaStatus"]) == ("disabled", "disabled")  # nothing is bound


def test_set_and_get_by_every_user_id_type_returns_exactly_what_was_set(live_server: LiveServer,
                                                                        node_sdk: NodeSdk) -> None:
    id_types = ["user_id", "username", "email", "phone", "external_id", "identity", "sync_relation"]
    users, refs, expected, calls = [], [], [], []
    for index, id_type in enumerate(id_types):
        tag = new_person()["username"]
        user = ok_data(live_server.call("POST", "create-user", json=person(identities=[
            {"extIdpId": f"idp{tag}", "provider": "lark", "type": "openid", "userIdInIdp": f"ou_{tag}"}])))
        ok_data(live_server.call("POST", "twofold/set-sync-relation", json={
            "userId": user["userId"], "provider": "lark", "userIdInIdp": f"ou_{tag}"}))
        write_id, read_id = {
            "user_id": (user["userId"],) * 2,
            "username": (user["username"],) * 2,
            "email": (mixed_case(user["email"]), user["email"].upper()),
            "phone": (user["phone"],) * 2,
            "external_id": (user["externalId"],) * 2,
            "identity": (f"idp{tag}:ou_{tag}",) * 2,
            "sync_relation": (f"lark:ou_{tag}",) * 2,
        }[id_type]
        policies = [{"mfaPolicy": "EMAIL", "status": 1, "sort": 9},
                    {"mfaPolicy": "FACE", "status": 1, "sort": index},
                    {"mfaPolicy": "SMS", "status": 0, "sort": 0}]
        trigger_data = {
            "mfaToken": f"token-{tag}",
            "applicationMfa": policies,
            "faceMfaEnabled": True,  # stored as set, though no face is bound
            "totpMfaEnabled": None,  # left out (null): whether a TOTP secret is bound, here no
            "mfaPhone": "2025550123",
            "mfaPhoneCountryCode": "+1",
            "mfaEmail": f"MFA.{tag}@Example.Org",
            **profile_echo(user),
        }
        users.append(user)
        refs.append(read_id)
        expected.append({
            "mfaToken": "",
            "applicationMfa": policies,
            "totpMfaEnabled": False,
            "faceMfaEnabled": True,
            "mfaPhone": "2025550123",
            "mfaPhoneCountryCode": "+1",
            "mfaEmail": f"mfa.{tag}@example.org",
            **profile_echo(user),
            "version": 1,
        })
        calls += [
            call("setUsersMfaStatus", {"userId": write_id, "userIdType": id_type, "mfaTriggerData": trigger_data}),
            call("getUserMfaStatus", {"userId": read_id, "userIdType": id_type}),
            call("getUserMfaStatus", {"userId": user["userId"]}),  # the SDK fills userIdType=user_id
        ]
    results = node_sdk.run({"main": node_options(live_server)}, calls)
    for index, id_type in enumerate(id_types):
        written, by_type, by_id = (node_body(r) for r in results[3 * index:3 * index + 3])
        assert ok_data(written) == {"success": True, "version": 1}, (id_type, written)
        assert ok_data(by_type) == expected[index], (id_type, refs[index])
        assert ok_data(by_id) == expected[index], id_type
        assert type(ok_data(by_id)["version"]) is int


def test_profile_echo_follows_the_user_record(live_server: LiveServer, node_sdk: NodeSdk) -> None:
    """nickname/username/phone are the user's: shown as they are now, checked but never written."""
    someone, new_phone = person(), new_person()["phone"]
    echo = {k: someone[k] for k in ("nickname", "username", "phone")}
    results = node_sdk.run({"main": node_options(live_server)}, [
        call("createUser", someone),
        call("setUsersMfaStatus", {"userId": "{{0.data.userId}}",
                                   "mfaTriggerData": {**MFA_STATUS_BEFORE, **echo, "phoneCountryCode": "+86"}}),
        call("updateUser", {"userId": "{{0.data.userId}}", "nickname": "renamed", "phone": new_phone}),
        call("getUserMfaStatus", {"userId": "{{0.data.userId}}"}),
        call("setUsersMfaStatus", {"userId": "{{0.data.userId}}",
                                   "mfaTriggerData": {**MFA_STATUS_BEFORE, "nickname": someone["nickname"]}}),
        call("getUserMfaStatus", {"userId": "{{0.data.userId}}"}),
    ])
    user = ok_data(node_body(results[0]))
    assert ok_data(node_body(results[1]))["success"] is True
    got = ok_data(node_body(results[3]))
    assert profile_echo(got) == profile_echo(ok_data(node_body(results[2]))) == \
        {**profile_echo(user), "nickname": "renamed", "phone": new_phone}
    assert got["version"] == 1  # a profile change is not an MFA write
    assert envelope_error(results[4]) == (400, 40031, None)
    assert node_body(results[4])["message"] == "参数 nickname 与用户资料不一致，请通过 update-user 修改"
    assert ok_data(node_body(results[5])) == got


def test_profile_phone_country_code_echo_must_match_the_user_record(live_server: LiveServer,
                                                                    node_sdk: NodeSdk) -> None:
    results = node_sdk.run({"main": node_options(live_server)}, [
        call("createUser", person()),  # phoneCountryCode +86
        call("setUsersMfaStatus", {"userId": "{{0.data.userId}}",
                                   "mfaTriggerData": {**MFA_STATUS_BEFORE, "phoneCountryCode": "+86"}}),
        call("getUserMfaStatus", {"userId": "{{0.data.userId}}"}),
        call("setUsersMfaStatus", {"userId": "{{0.data.userId}}",
                                   "mfaTriggerData": {**MFA_STATUS_OTHER, "phoneCountryCode": "+1"}}),
        call("getUserMfaStatus", {"userId": "{{0.data.userId}}"}),
    ])
    assert ok_data(node_body(results[1]))["success"] is True  # matches: accepted
    assert envelope_error(results[3]) == (400, 40031, None), node_body(results[3])
    assert node_body(results[3])["message"] == \
        "参数 phoneCountryCode 与用户资料不一致，请通过 update-user 修改"
    assert ok_data(node_body(results[4])) == ok_data(node_body(results[2]))


def test_a_long_valid_mfa_email_is_accepted(live_server: LiveServer, node_sdk: NodeSdk) -> None:
    results = node_sdk.run({"main": node_options(live_server)}, [
        call("createUser", person()),
        call("setUsersMfaStatus", {"userId": "{{0.data.userId}}",
                                   "mfaTriggerData": {**MFA_STATUS_BEFORE, "mfaEmail": LONG_VALID_EMAIL}}),
        call("getUserMfaStatus", {"userId": "{{0.data.userId}}"}),
    ])
    assert ok_data(node_body(results[1]))["success"] is True, node_body(results[1])
    assert ok_data(node_body(results[2]))["mfaEmail"] == LONG_VALID_EMAIL.lower()


def test_user_mfa_info_counts_a_factor_only_when_enrolled(live_server: LiveServer, node_sdk: NodeSdk) -> None:
    both = [{"mfaPolicy": "SMS", "status": 1, "sort": 0}, {"mfaPolicy": "EMAIL", "status": 1, "sort": 1}]
    results = node_sdk.run({"main": node_options(live_server)}, [
        call("createUser", person()),  # a phone and an email, no TOTP secret
        call("setUsersMfaStatus", {"userId": "{{0.data.userId}}", "mfaTriggerData": {
            "mfaToken": "t", "totpMfaEnabled": True, "faceMfaEnabled": True,
            "applicationMfa": [{"mfaPolicy": "SMS", "status": 1, "sort": 0},
                               {"mfaPolicy": "EMAIL", "status": 0, "sort": 1}]}}),
        call("getUserMfaInfo", {"userId": "{{0.data.userId}}"}),
        call("importOtp", {"list": [{"userId": "{{0.data.userId}}", "otp": {"secret": pyotp.random_base32()}}]}),
        call("getUserMfaInfo", {"userId": "{{0.data.username}}", "userIdType": "username"}),
        call("getUserMfaStatus", {"userId": "{{0.data.userId}}"}),
        call("createUser", {"username": new_person("jm")["username"]}),  # no phone, no email  [6]
        call("setUsersMfaStatus", {"userId": "{{6.data.userId}}",
                                   "mfaTriggerData": {"mfaToken": "t", "applicationMfa": both}}),
        call("getUserMfaInfo", {"userId": "{{6.data.userId}}"}),
        call("setUsersMfaStatus", {"userId": "{{6.data.userId}}", "mfaTriggerData": {
            "mfaToken": "t", "applicationMfa": both, "mfaPhone": "+44 7911 123456",
            "mfaEmail": "Bare@Example.com"}}),
        call("getUserMfaStatus", {"userId": "{{6.data.userId}}"}),
        call("getUserMfaInfo", {"userId": "{{6.data.userId}}"}),
    ])
    data = [node_body(r)["data"] for r in results]
    assert all(node_body(r)["statusCode"] == 200 for r in results), results
    # the flags alone enrol nothing (no secret, no face); SMS and EMAIL codes reach the user's phone and
    # email whatever the policy says (it decides what is challenged, not what is bound)
    assert data[2] == {"totpStatus": "disabled", "faceMfaStatus": "disabled",
                       "smsMfaStatus": "enabled", "emailMfaStatus": "enabled"}
    assert data[3] is None  # import-otp answers without data
    assert data[4] == {**data[2], "totpStatus": "enabled"}  # flagged, and now a secret is bound
    assert data[5]["totpMfaEnabled"] is True
    assert data[8] == {"totpStatus": "disabled", "faceMfaStatus": "disabled",
                       "smsMfaStatus": "disabled", "emailMfaStatus": "disabled"}
    assert (data[10]["mfaPhone"], data[10]["mfaPhoneCountryCode"], data[10]["mfaEmail"]) == \
        ("7911123456", "+44", "bare@example.com")
    assert data[11] == {"totpStatus": "disabled", "faceMfaStatus": "disabled",
                        "smsMfaStatus": "enabled", "emailMfaStatus": "enabled"}


def test_default_status_of_a_user_never_set(live_server: LiveServer, node_sdk: NodeSdk) -> None:
    results = node_sdk.run({"main": node_options(live_server)}, [
        call("updateGlobalMfaSettings", {"enabledFactors": ["EMAIL", "FACE"]}),
        call("createUser", person()),
        call("getUserMfaStatus", {"userId": "{{1.data.userId}}"}),
        call("getUserMfaInfo", {"userId": "{{1.data.userId}}"}),
        call("importOtp", {"list": [{"userId": "{{1.data.userId}}", "otp": {"secret": pyotp.random_base32()}}]}),
        call("getUserMfaStatus", {"userId": "{{1.data.userId}}"}),
        call("getUserMfaInfo", {"userId": "{{1.data.userId}}"}),
    ])
    assert ok_data(node_body(results[0])) == {"enabledFactors": ["EMAIL", "FACE"]}
    user = ok_data(node_body(results[1]))
    assert ok_data(node_body(results[2])) == {
        "mfaToken": "",
        "applicationMfa": [{"mfaPolicy": "EMAIL", "status": 0, "sort": 0},
                           {"mfaPolicy": "FACE", "status": 0, "sort": 1}],
        "totpMfaEnabled": False, "faceMfaEnabled": False,
        "mfaPhone": None, "mfaPhoneCountryCode": None, "mfaEmail": None,
        **profile_echo(user), "version": 0,
    }
    # nothing is challenged, but SMS and EMAIL codes could reach the user's own phone and email
    assert ok_data(node_body(results[3])) == {"totpStatus": "disabled", "faceMfaStatus": "disabled",
                                              "smsMfaStatus": "enabled", "emailMfaStatus": "enabled"}
    assert node_body(results[4])["statusCode"] == 200
    assert ok_data(node_body(results[5]))["totpMfaEnabled"] is True  # on exactly when a secret is bound
    assert ok_data(node_body(results[6]))["totpStatus"] == "enabled"


def test_default_status_with_otp_as_a_global_factor_can_be_written_back(live_server: LiveServer,
                                                                        node_sdk: NodeSdk) -> None:
    """With a bound secret the default's OTP entry is on, agreeing with totpMfaEnabled (read-modify-write)."""
    fields = ["applicationMfa", "totpMfaEnabled", "faceMfaEnabled", "mfaPhone", "mfaPhoneCountryCode",
              "mfaEmail", "nickname", "username", "phone", "phoneCountryCode"]
    results = node_sdk.run({"main": node_options(live_server)}, [
        call("updateGlobalMfaSettings", {"enabledFactors": ["OTP", "SMS"]}),
        call("createUser", person()),
        call("getUserMfaStatus", {"userId": "{{1.data.userId}}"}),
        call("importOtp", {"list": [{"userId": "{{1.data.userId}}", "otp": {"secret": pyotp.random_base32()}}]}),
        call("getUserMfaStatus", {"userId": "{{1.data.userId}}"}),
        call("getUserMfaInfo", {"userId": "{{1.data.userId}}"}),
        # read-modify-write: what was read, with a fresh mfaToken (get-mfa-status returns "")
        call("setUsersMfaStatus", {"userId": "{{1.data.userId}}", "mfaTriggerData": {
            "mfaToken": "new-token", **{name: f"{{{{4.data.{name}}}}}" for name in fields}}}),
        call("getUserMfaStatus", {"userId": "{{1.data.userId}}"}),
    ])
    unbound, read = ok_data(node_body(results[2])), ok_data(node_body(results[4]))
    assert (unbound["applicationMfa"], unbound["totpMfaEnabled"]) == \
        ([{"mfaPolicy": "OTP", "status": 0, "sort": 0}, {"mfaPolicy": "SMS", "status": 0, "sort": 1}], False)
    assert (read["applicationMfa"], read["totpMfaEnabled"], read["version"]) == \
        ([{"mfaPolicy": "OTP", "status": 1, "sort": 0}, {"mfaPolicy": "SMS", "status": 0, "sort": 1}], True, 0)
    assert ok_data(node_body(results[5]))["totpStatus"] == "enabled"
    assert ok_data(node_body(results[6])) == {"success": True, "version": 1}
    assert ok_data(node_body(results[7])) == {**read, "version": 1}


def test_global_and_application_factor_settings_shape_the_trigger_data(live_server: LiveServer,
                                                                       node_sdk: NodeSdk) -> None:
    tag = new_person()["username"]
    someone = person()
    results = node_sdk.run({"main": node_options(live_server)}, [
        call("updateGlobalMfaSettings", {"enabledFactors": ["OTP", "SMS", "EMAIL"]}),
        call("getGlobalMfaSettings"),
        call("createApplication", {"appName": f"Configured {tag}", "appIdentifier": f"cfg-{tag}"}),
        call("createApplication", {"appName": f"Inherited {tag}", "appIdentifier": f"inh-{tag}"}),
        call("getApplication", {"appId": "{{2.data.appId}}"}),
        call("listApplications", {"keywords": tag}),  # the SDK adds isIntegrateApp=false&... filters
        call("updateApplicationMfaSettings", {"appId": "{{2.data.appId}}", "enabledFactors": ["FACE"],
                                              "disabledFactors": ["SMS"]}),
        call("updateApplicationMfaSettings", {"appId": "{{2.data.appId}}", "enabledFactors": ["OTP"],
                                              "disabledFactors": ["OTP"]}),
        call("closeGlobalMfaSettings", {"disableFactors": ["EMAIL"]}),
        call("getGlobalMfaSettings"),
        call("closeGlobalMfaSettings", {"disableFactors": ["WEBAUTHN"]}),  # [10]
        call("createUser", someone),
        call("setUsersMfaStatus", {"userId": someone["phone"], "userIdType": "phone", "mfaTriggerData": {
            "mfaToken": "t", "mfaEmail": "Trigger@Example.com", "faceMfaEnabled": True,
            "applicationMfa": [{"mfaPolicy": "SMS", "status": 1, "sort": 5},
                               {"mfaPolicy": "EMAIL", "status": 1, "sort": 0},
                               {"mfaPolicy": "OTP", "status": 0, "sort": 3},
                               {"mfaPolicy": "FACE", "status": 1, "sort": 1}]}}),
        call("getMfaTriggerData", {"appId": "{{2.data.appId}}", "userId": "{{11.data.userId}}"}),
        call("getMfaTriggerData", {"appId": "{{3.data.appId}}", "userId": someone["email"].upper(),
                                   "userIdType": "email"}),
        call("getMfaTriggerData", {"appId": f"missing{tag}", "userId": "{{11.data.userId}}"}),  # [15]
        call("getGlobalMfaSettings"),
    ])
    assert ok_data(node_body(results[0])) == {"enabledFactors": ["OTP", "SMS", "EMAIL"]}
    assert ok_data(node_body(results[1])) == {"enabledFactors": ["OTP", "SMS", "EMAIL"]}
    configured, inherited = ok_data(node_body(results[2])), ok_data(node_body(results[3]))
    got = ok_data(node_body(results[4]))
    assert (got["appId"], got["appName"], got["appIdentifier"]) == \
        (configured["appId"], f"Configured {tag}", f"cfg-{tag}")
    listed = ok_data(node_body(results[5]))
    assert listed["totalCount"] == 2
    assert {a["appId"] for a in listed["list"]} == {configured["appId"], inherited["appId"]}

    # from the inherited global factors: SMS removed, FACE appended
    assert ok_data(node_body(results[6])) == {"enabledFactors": ["OTP", "EMAIL", "FACE"]}
    assert envelope_error(results[7]) == (400, 40030, None)
    assert node_body(results[7])["message"] == "参数 disabledFactors 与请求中的其他设置冲突"
    # disable-global-mfa-settings removes only the listed factors
    assert ok_data(node_body(results[8])) == {"enabledFactors": ["OTP", "SMS"]}
    assert ok_data(node_body(results[9])) == {"enabledFactors": ["OTP", "SMS"]}
    assert envelope_error(results[10]) == (400, 40003, None)
    assert "disableFactors" in node_body(results[10])["message"]
    assert ok_data(node_body(results[16])) == {"enabledFactors": ["OTP", "SMS"]}

    user = ok_data(node_body(results[11]))
    assert ok_data(node_body(results[12]))["success"] is True
    for_configured = ok_data(node_body(results[13]))  # the app offers OTP, EMAIL, FACE
    assert for_configured["applicationMfa"] == [{"mfaPolicy": "EMAIL", "status": 1, "sort": 0},
                                                {"mfaPolicy": "FACE", "status": 1, "sort": 1},
                                                {"mfaPolicy": "OTP", "status": 0, "sort": 3}]
    # the flags are the user's, as set (totpMfaEnabled left out: no secret is bound), whatever the app offers
    assert (for_configured["totpMfaEnabled"], for_configured["faceMfaEnabled"]) == (False, True)
    assert for_configured["mfaEmail"] == "trigger@example.com"
    assert profile_echo(for_configured) == profile_echo(user)
    for_inherited = ok_data(node_body(results[14]))  # never configured: the global factors now, OTP, SMS
    assert for_inherited["applicationMfa"] == [{"mfaPolicy": "OTP", "status": 0, "sort": 3},
                                               {"mfaPolicy": "SMS", "status": 1, "sort": 5}]
    assert (for_inherited["totpMfaEnabled"], for_inherited["faceMfaEnabled"]) == (False, True)
    assert envelope_error(results[15]) == (404, 40402, None)
    assert node_body(results[15])["message"] == "应用不存在"


def test_imported_otp_secret_is_read_back_only_with_the_permission(live_server: LiveServer, node_sdk: NodeSdk,
                                                                   unpermitted_key: tuple[str, str]) -> None:
    secret = pyotp.random_base32()
    key_id, key_secret = unpermitted_key
    limited = {**node_options(live_server), "accessKeyId": key_id, "accessKeySecret": key_secret}
    results = node_sdk.run({"main": node_options(live_server), "limited": limited}, [
        call("createUser", person()),
        call("importOtp", {"list": [{"userId": "{{0.data.userId}}",
                                     "otp": {"secret": secret.lower(), "recoveryCode": "rc-1234"}}]}),
        call("getOtpSecretByUser", {"userId": "{{0.data.userId}}"}),
        call("getOtpSecretByUser", {"userId": "{{0.data.email}}", "userIdType": "email"}),
        call("getOtpSecretByUser", {"userId": "{{0.data.userId}}"}, client="limited"),
        call("getOtpSecretByUser", {"userId": "{{0.data.email}}", "userIdType": "email"}, client="limited"),
        call("getUserMfaStatus", {"userId": "{{0.data.userId}}"}, client="limited"),
        call("getOtpSecretByUser", {"userId": "{{0.data.userId}}"}),
        call("createUser", person()),
        call("getOtpSecretByUser", {"userId": "{{8.data.userId}}"}),
        # all items or none: the unknown second user leaves the first one unbound  [10]
        call("importOtp", {"list": [{"userId": "{{8.data.userId}}", "otp": {"secret": pyotp.random_base32()}},
                                    {"userId": "missing{{8.data.userId}}",
                                     "otp": {"secret": pyotp.random_base32()}}]}),
        call("importOtp", {"list": [{"userId": "{{8.data.userId}}", "otp": {"secret": "AAAAAAAA"}}]}),
        call("getOtpSecretByUser", {"userId": "{{8.data.userId}}"}),
    ])
    user = ok_data(node_body(results[0]))
    assert (node_body(results[1])["statusCode"], node_body(results[1])["data"]) == (200, None)
    read = ok_data(node_body(results[2]))
    assert read == {"secret": secret}
    assert pyotp.TOTP(read["secret"]).verify(pyotp.TOTP(secret).now())
    assert ok_data(node_body(results[3])) == read
    for refused in results[4:6]:
        assert envelope_error(refused) == (403, 40300, None)
        assert node_body(refused)["message"] == "该访问密钥无权执行此操作"
    assert ok_data(node_body(results[6]))["username"] == user["username"]  # the key itself is valid
    assert ok_data(node_body(results[7])) == read
    assert envelope_error(results[9]) == (404, 40404, None)
    assert envelope_error(results[10]) == (404, 40401, None)
    assert envelope_error(results[11]) == (400, 40004, None)  # 40 bits: too short
    assert node_body(results[11])["message"] == "参数 secret 格式错误"  # GenAuth's name: the parameter's own
    assert envelope_error(results[12]) == (404, 40404, None)


def test_rejected_writes_are_envelopes_naming_the_field_and_change_nothing(live_server: LiveServer,
                                                                            node_sdk: NodeSdk) -> None:
    calls = [
        call("createUser", person()),
        call("setUsersMfaStatus", {"userId": "{{0.data.userId}}", "mfaTriggerData": MFA_STATUS_BEFORE}),
        call("getUserMfaStatus", {"userId": "{{0.data.userId}}"}),
    ]
    for case in REJECTED_MFA_WRITES:
        request: dict[str, Any] = {"userId": "{{0.data.userId}}", "mfaTriggerData": case.trigger_data()}
        if case.user_id_type:
            request["userIdType"] = case.user_id_type
        calls += [call("setUsersMfaStatus", request), call("getUserMfaStatus", {"userId": "{{0.data.userId}}"})]
    calls.append(call("setUsersMfaStatus", {"userId": "{{0.data.userId}}",
                                            "mfaTriggerData": REJECTED_MFA_WRITES[0].trigger_data()},
                      client="en"))
    calls.append(call("setUsersMfaStatus", {"userId": "missing-{{0.data.username}}", "userIdType": "username",
                                            "mfaTriggerData": MFA_STATUS_BEFORE}))
    calls.append(call("getUserMfaStatus", {"userId": "{{0.data.userId}}"}))
    results = node_sdk.run({"main": node_options(live_server),
                            "en": node_options(live_server, lang="en-US")}, calls)
    ok_data(node_body(results[1]))
    before = ok_data(node_body(results[2]))
    assert before["applicationMfa"] == MFA_STATUS_BEFORE["applicationMfa"] and before["version"] == 1
    for index, case in enumerate(REJECTED_MFA_WRITES):
        refused, after = (node_body(r) for r in results[3 + 2 * index:5 + 2 * index])
        assert (refused["statusCode"], refused.get("apiCode"), refused["data"]) == (400, case.api_code, None), \
            (case.name, refused)
        assert refused["message"] == case.zh_message, (case.name, refused)  # zh-CN by default
        assert ok_data(after) == before, case.name
    english, missing, final = (node_body(r) for r in results[-3:])
    assert english["message"].startswith(f"Invalid parameter {REJECTED_MFA_WRITES[0].field_name}"), english
    assert (missing["statusCode"], missing.get("apiCode"), missing["message"]) == (404, 40401, "用户不存在"), missing
    assert ok_data(final) == before


def test_version_is_an_integer_the_sdk_passes_through(live_server: LiveServer, node_sdk: NodeSdk) -> None:
    """The SDK cannot send ``version``; it returns the one the server reports, unchanged."""
    results = node_sdk.run({"main": node_options(live_server)}, [
        call("createUser", person()),
        call("getUserMfaStatus", {"userId": "{{0.data.userId}}"}),
        call("setUsersMfaStatus", {"userId": "{{0.data.userId}}", "mfaTriggerData": MFA_STATUS_BEFORE}),
        call("getUserMfaStatus", {"userId": "{{0.data.userId}}"}),
        call("setUsersMfaStatus", {"userId": "{{0.data.username}}", "userIdType": "username",
                                   "mfaTriggerData": SEED_MFA_TRIGGER_DATA}),
        call("setUsersMfaStatus", {"userId": "{{0.data.userId}}", "mfaTriggerData": {"applicationMfa": []}}),
        call("getUserMfaStatus", {"userId": "{{0.data.userId}}"}),
    ])
    data = [node_body(r)["data"] for r in results]
    assert node_body(results[5])["statusCode"] == 400
    versions = [data[1]["version"], data[2]["version"], data[3]["version"], data[4]["version"],
                data[6]["version"]]
    assert all(type(v) is int for v in versions), versions
    assert versions == [0, 1, 1, 2, 2]
