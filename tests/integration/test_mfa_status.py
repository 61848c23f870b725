"""set-mfa-status and get-mfa-status: the seed flow and every validation rule (docs/mfa-status.md)."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from tests.conftest import Api
from tests.factories import SEED_MFA_TRIGGER_DATA, user_payload
from twofold.errors import (
    ConflictingMfaSetting,
    InvalidMfaPolicy,
    InvalidParameter,
    ProfileFieldMismatch,
    UserNotFound,
    VersionConflict,
    parameter_name,
)


def trigger(**overrides: Any) -> dict[str, Any]:
    data = copy.deepcopy(SEED_MFA_TRIGGER_DATA)
    data.update(overrides)
    return data


async def make_user(api: Api, **overrides: Any) -> dict[str, Any]:
    return await api.ok("POST", "create-user", user_payload(**overrides))


async def status_of(api: Api, user_id: str) -> dict[str, Any]:
    return await api.ok("GET", "get-mfa-status", {"userId": user_id})


async def test_seed_sample_succeeds_as_written(api: Api) -> None:
    user = await make_user(api)
    body = await api.post(
        "set-mfa-status",
        {"userId": user["userId"], "userIdType": "user_id", "mfaTriggerData": SEED_MFA_TRIGGER_DATA},
    )
    assert body["statusCode"] == 200 and body["data"]["success"] is True
    assert body["message"] == "Operation successful"


async def test_get_returns_exactly_what_set_stored(api: Api) -> None:
    user = await make_user(api)
    data = trigger(
        mfaPhone="13900139000",
        mfaPhoneCountryCode="+86",
        mfaEmail="Codes@Example.com",
        applicationMfa=[
            {"mfaPolicy": "SMS", "status": 1, "sort": 2},
            {"mfaPolicy": "EMAIL", "status": 0, "sort": 1},
        ],
    )
    await api.ok("POST", "set-mfa-status", {"userId": user["userId"], "mfaTriggerData": data})
    got = await status_of(api, user["userId"])
    assert got["applicationMfa"] == data["applicationMfa"]
    assert (got["mfaPhone"], got["mfaPhoneCountryCode"], got["mfaEmail"]) == (
        "13900139000",
        "+86",
        "codes@example.com",
    )
    assert (got["totpMfaEnabled"], got["faceMfaEnabled"]) == (True, True)
    assert (got["username"], got["nickname"], got["phone"]) == (
        user["username"],
        user["nickname"],
        user["phone"],
    )
    assert got["mfaToken"] == ""  # accepted, never stored
    assert got["version"] == 1


@pytest.mark.parametrize(
    "id_type,key",
    [
        ("user_id", "userId"),
        ("username", "username"),
        ("email", "email"),
        ("phone", "phone"),
        ("external_id", "externalId"),
    ],
)
async def test_set_and_get_by_every_id_type(api: Api, id_type: str, key: str) -> None:
    user = await make_user(api)
    data = trigger(applicationMfa=[{"mfaPolicy": "OTP", "status": 1, "sort": 0}], faceMfaEnabled=False)
    await api.ok(
        "POST", "set-mfa-status", {"userId": user[key], "userIdType": id_type, "mfaTriggerData": data}
    )
    got = await api.ok("GET", "get-mfa-status", {"userId": user[key], "userIdType": id_type})
    assert got["applicationMfa"] == data["applicationMfa"] and got["totpMfaEnabled"] is True


async def test_set_by_email_is_case_insensitive(api: Api) -> None:
    user = await make_user(api)
    await api.ok(
        "POST",
        "set-mfa-status",
        {"userId": user["email"].upper(), "userIdType": "email", "mfaTriggerData": trigger()},
    )
    assert (await status_of(api, user["userId"]))["version"] == 1


async def test_set_replaces_the_whole_status(api: Api) -> None:
    user = await make_user(api)
    await api.ok(
        "POST",
        "set-mfa-status",
        {
            "userId": user["userId"],
            "mfaTriggerData": trigger(
                mfaEmail="a@example.com", applicationMfa=[{"mfaPolicy": "SMS", "status": 1, "sort": 0}]
            ),
        },
    )
    await api.ok(
        "POST",
        "set-mfa-status",
        {"userId": user["userId"], "mfaTriggerData": {"mfaToken": "t", "applicationMfa": []}},
    )
    got = await status_of(api, user["userId"])
    assert got["applicationMfa"] == [] and got["mfaEmail"] is None
    assert got["totpMfaEnabled"] is False and got["faceMfaEnabled"] is False


async def test_never_set_user_gets_default_from_pool(api: Api) -> None:
    await api.ok("POST", "update-global-mfa-settings", {"enabledFactors": ["SMS", "OTP"]})
    user = await make_user(api)
    got = await status_of(api, user["userId"])
    assert got["applicationMfa"] == [
        {"mfaPolicy": "SMS", "status": 0, "sort": 0},
        {"mfaPolicy": "OTP", "status": 0, "sort": 1},
    ]
    assert got["totpMfaEnabled"] is False and got["version"] == 0


async def test_default_totp_switch_follows_an_imported_secret(api: Api) -> None:
    user = await make_user(api, otp={"secret": "JBSWY3DPEHPK3PXPJBSWY3DP"})
    assert (await status_of(api, user["userId"]))["totpMfaEnabled"] is True


BAD_INPUTS = [
    ({"mfaToken": None}, "mfaTriggerData.mfaToken", InvalidParameter),
    ({"mfaToken": ""}, "mfaTriggerData.mfaToken", InvalidParameter),
    ({"applicationMfa": None}, "mfaTriggerData.applicationMfa", InvalidParameter),
    (
        {"applicationMfa": [{"mfaPolicy": "PUSH", "status": 1, "sort": 0}]},
        "mfaTriggerData.applicationMfa[0].mfaPolicy",
        InvalidMfaPolicy,
    ),
    (
        {"applicationMfa": [{"mfaPolicy": "OTP", "status": 2, "sort": 0}]},
        "mfaTriggerData.applicationMfa[0].status",
        InvalidParameter,
    ),
    (
        {"applicationMfa": [{"mfaPolicy": "OTP", "status": "1", "sort": 0}]},
        "mfaTriggerData.applicationMfa[0].status",
        InvalidParameter,
    ),
    (
        {"applicationMfa": [{"mfaPolicy": "OTP", "status": 1, "sort": -1}]},
        "mfaTriggerData.applicationMfa[0].sort",
        InvalidParameter,
    ),
    (
        {"applicationMfa": [{"mfaPolicy": "OTP", "status": 1, "sort": 1.5}]},
        "mfaTriggerData.applicationMfa[0].sort",
        InvalidParameter,
    ),
    (
        {"applicationMfa": [{"mfaPolicy": "OTP", "status": 1}]},
        "mfaTriggerData.applicationMfa[0].sort",
        InvalidParameter,
    ),
    (
        {
            "applicationMfa": [
                {"mfaPolicy": "SMS", "status": 1, "sort": 0},
                {"mfaPolicy": "SMS", "status": 0, "sort": 1},
            ]
        },
        "mfaTriggerData.applicationMfa[1].mfaPolicy",
        ConflictingMfaSetting,
    ),
    ({"mfaPhone": "12345"}, "mfaTriggerData.mfaPhone", InvalidParameter),
    (
        {"mfaPhone": "2015550123", "mfaPhoneCountryCode": "+999"},
        "mfaTriggerData.mfaPhoneCountryCode",
        InvalidParameter,
    ),
    ({"mfaEmail": "not-an-email"}, "mfaTriggerData.mfaEmail", InvalidParameter),
    ({"mfaEmail": "a" * 300 + "@example.com"}, "mfaTriggerData.mfaEmail", InvalidParameter),
    ({"username": "someone-else"}, "mfaTriggerData.username", ProfileFieldMismatch),
    ({"nickname": "Someone Else"}, "mfaTriggerData.nickname", ProfileFieldMismatch),
    ({"phone": "13900139999"}, "mfaTriggerData.phone", ProfileFieldMismatch),
    ({"phoneCountryCode": "+1"}, "mfaTriggerData.phoneCountryCode", ProfileFieldMismatch),
    ({"totpMfaEnabled": "yes"}, "mfaTriggerData.totpMfaEnabled", InvalidParameter),
]


@pytest.mark.parametrize("change,field,error", BAD_INPUTS, ids=[f for _, f, _ in BAD_INPUTS])
async def test_rejected_write_names_the_field_and_changes_nothing(
    api: Api, change: dict, field: str, error: type
) -> None:
    user = await make_user(api)
    await api.ok("POST", "set-mfa-status", {"userId": user["userId"], "mfaTriggerData": trigger()})
    before = await status_of(api, user["userId"])
    body = await api.post("set-mfa-status", {"userId": user["userId"], "mfaTriggerData": trigger(**change)})
    assert body["statusCode"] == 400, body
    assert body["apiCode"] == error.api_code
    assert field in body["message"], body["message"]
    assert await status_of(api, user["userId"]) == before


async def test_unknown_id_type_and_unknown_user(api: Api) -> None:
    body = await api.post(
        "set-mfa-status", {"userId": "x", "userIdType": "custom_field", "mfaTriggerData": trigger()}
    )
    assert (body["statusCode"], body["apiCode"]) == (400, InvalidParameter.api_code)
    body = await api.post("set-mfa-status", {"userId": "nobody", "mfaTriggerData": trigger()})
    assert (body["statusCode"], body["apiCode"]) == (404, UserNotFound.api_code)
    body = await api.post("set-mfa-status", {"userId": "nobody@example.com", "userIdType": "email"})
    assert body["statusCode"] == 400 and "mfaTriggerData" in body["message"]


async def test_matching_profile_echo_is_accepted(api: Api) -> None:
    user = await make_user(api)
    data = trigger(
        username=user["username"],
        nickname=user["nickname"],
        phone=user["phone"],
        phoneCountryCode=user["phoneCountryCode"],
    )
    await api.ok("POST", "set-mfa-status", {"userId": user["userId"], "mfaTriggerData": data})


async def test_optimistic_concurrency(api: Api) -> None:
    user = await make_user(api)
    first = await api.ok(
        "POST", "set-mfa-status", {"userId": user["userId"], "version": 0, "mfaTriggerData": trigger()}
    )
    assert first["version"] == 1
    stale = await api.post(
        "set-mfa-status", {"userId": user["userId"], "version": 0, "mfaTriggerData": trigger()}
    )
    assert (stale["statusCode"], stale["apiCode"]) == (409, VersionConflict.api_code)
    second = await api.ok(
        "POST",
        "set-mfa-status",
        {"userId": user["userId"], "version": 1, "mfaTriggerData": trigger(faceMfaEnabled=False)},
    )
    assert second["version"] == 2
    assert (await status_of(api, user["userId"]))["faceMfaEnabled"] is False


async def test_get_mfa_status_errors(api: Api) -> None:
    body = await api.get("get-mfa-status", userId="")
    assert (body["statusCode"], body["message"]) == (400, "Invalid parameter userId")
    body = await api.get("get-mfa-status", userId="missing")
    assert body["statusCode"] == 404


async def test_users_can_be_created_with_an_initial_mfa_status(api: Api) -> None:
    items = [
        user_payload(
            mfaTriggerData={
                "applicationMfa": [{"mfaPolicy": "SMS", "status": 1, "sort": 0}],
                "mfaEmail": "Initial@Example.com",
            }
        )
        for _ in range(3)
    ]
    created = await api.ok("POST", "create-users-batch", {"list": items})
    got = await status_of(api, created[2]["userId"])
    assert got["applicationMfa"] == [{"mfaPolicy": "SMS", "status": 1, "sort": 0}]
    assert (got["mfaEmail"], got["version"]) == ("initial@example.com", 1)


async def test_an_invalid_initial_mfa_status_creates_no_user(api: Api) -> None:
    good = user_payload()
    bad = user_payload(mfaTriggerData={"applicationMfa": [{"mfaPolicy": "PUSH", "status": 1, "sort": 0}]})
    body = await api.post("create-users-batch", {"list": [good, bad]})
    assert body["statusCode"] == 400
    assert "list[1].mfaTriggerData.applicationMfa[0].mfaPolicy" in body["message"]
    assert (await api.ok("POST", "is-user-exists", {"username": good["username"]}))["exists"] is False


async def test_a_default_status_can_be_written_back_unchanged(api: Api) -> None:
    await api.ok("POST", "update-global-mfa-settings", {"enabledFactors": ["OTP", "SMS"]})
    user = await make_user(api, otp={"secret": "JBSWY3DPEHPK3PXPJBSWY3DP"})
    default = await status_of(api, user["userId"])
    assert default["applicationMfa"][0] == {"mfaPolicy": "OTP", "status": 1, "sort": 0}
    data = {k: v for k, v in default.items() if k != "version"} | {"mfaToken": "t"}
    await api.ok("POST", "set-mfa-status", {"userId": user["userId"], "version": 0, "mfaTriggerData": data})
    again = await status_of(api, user["userId"])
    assert {k: v for k, v in again.items() if k != "version"} == {
        k: v for k, v in default.items() if k != "version"
    }


OTP_REQUIRED = [{"mfaPolicy": "OTP", "status": 1, "sort": 0}]


async def test_otp_required_and_not_enrolled_yet_is_stored_and_read_back(api: Api) -> None:
    """The commonest real state: Guard shows TOTP enrolment for it."""
    user = await make_user(api)
    app = await api.ok("POST", "create-application", {"appName": "Portal"})
    await api.ok(
        "POST", "update-application-mfa-settings", {"appId": app["appId"], "enabledFactors": ["OTP"]}
    )
    data = {"mfaToken": "t", "applicationMfa": OTP_REQUIRED, "totpMfaEnabled": False}
    await api.ok("POST", "set-mfa-status", {"userId": user["userId"], "mfaTriggerData": data})
    got = await status_of(api, user["userId"])
    assert (got["applicationMfa"], got["totpMfaEnabled"], got["faceMfaEnabled"]) == (
        OTP_REQUIRED,
        False,
        False,
    )
    seen = await api.ok("GET", "get-mfa-trigger-data", {"appId": app["appId"], "userId": user["userId"]})
    assert (seen["applicationMfa"], seen["totpMfaEnabled"]) == (OTP_REQUIRED, False)
    info = await api.ok("GET", "get-user-mfa-info", {"userId": user["userId"]})
    assert info["totpStatus"] == "disabled"


POLICY_CHOICES: list[list[dict[str, Any]]] = [[], [{"status": 1}], [{"status": 0}]]


async def test_every_combination_of_flags_and_policy_entries_is_stored_as_set(api: Api) -> None:
    user = await make_user(api)
    version = 0
    for otp in POLICY_CHOICES:
        for face in POLICY_CHOICES:
            policy = [{"mfaPolicy": "OTP", "sort": 0, **e} for e in otp] + [
                {"mfaPolicy": "FACE", "sort": 1, **e} for e in face
            ]
            for totp_flag in (True, False):
                for face_flag in (True, False):
                    data = trigger(applicationMfa=policy, totpMfaEnabled=totp_flag, faceMfaEnabled=face_flag)
                    written = await api.ok(
                        "POST",
                        "set-mfa-status",
                        {"userId": user["userId"], "version": version, "mfaTriggerData": data},
                    )
                    version = written["version"]
                    got = await status_of(api, user["userId"])
                    assert (got["applicationMfa"], got["totpMfaEnabled"], got["faceMfaEnabled"]) == (
                        policy,
                        totp_flag,
                        face_flag,
                    )
    assert version == 36


async def test_a_flag_left_out_says_whether_the_factor_is_bound(api: Api) -> None:
    bare = await make_user(api)
    bound = await make_user(api, otp={"secret": "JBSWY3DPEHPK3PXPJBSWY3DP"})
    for user, totp in ((bare, False), (bound, True)):
        data = {"mfaToken": "t", "applicationMfa": OTP_REQUIRED}
        await api.ok("POST", "set-mfa-status", {"userId": user["userId"], "mfaTriggerData": data})
        got = await status_of(api, user["userId"])
        assert (got["totpMfaEnabled"], got["faceMfaEnabled"]) == (totp, False)


MEANING_REFUSALS = [
    (
        "set-mfa-status",
        {
            "applicationMfa": [
                {"mfaPolicy": "SMS", "status": 1, "sort": 0},
                {"mfaPolicy": "SMS", "status": 0, "sort": 1},
            ]
        },
        "mfaTriggerData.applicationMfa[1].mfaPolicy",
    ),
    ("set-mfa-status", {"username": "someone-else"}, "mfaTriggerData.username"),
    ("set-mfa-status", {"phone": "13900139999"}, "mfaTriggerData.phone"),
    (
        "update-application-mfa-settings",
        {"enabledFactors": ["OTP"], "disabledFactors": ["OTP"]},
        "disabledFactors",
    ),
]


@pytest.mark.parametrize("path,change,field", MEANING_REFUSALS, ids=[f for _, _, f in MEANING_REFUSALS])
async def test_refusals_of_meaning_do_not_say_format_error(
    api: Api, path: str, change: dict, field: str
) -> None:
    user = await make_user(api)
    if path == "set-mfa-status":
        body: dict[str, Any] = {"userId": user["userId"], "mfaTriggerData": trigger(**change)}
    else:
        app = await api.ok("POST", "create-application", {"appName": "Portal"})
        body = {"appId": app["appId"], **change}
    answer = await api.raw("POST", f"/api/v3/{path}", json=body, headers={"x-authing-lang": "zh-CN"})
    assert answer["statusCode"] == 400, answer
    assert f"参数 {parameter_name(field)} " in answer["message"] and "格式错误" not in answer["message"], answer



async def test_initial_status_is_written_with_its_own_audit_event(api: Api) -> None:
    item = user_payload(
        otp={"secret": "JBSWY3DPEHPK3PXPJBSWY3DP"},
        mfaTriggerData={"applicationMfa": OTP_REQUIRED, "totpMfaEnabled": False, "faceMfaEnabled": True},
    )
    user = await api.ok("POST", "create-user", item)
    got = await status_of(api, user["userId"])
    assert (got["applicationMfa"], got["totpMfaEnabled"], got["faceMfaEnabled"]) == (
        OTP_REQUIRED,
        False,
        True,
    )
    events = await api.ok("GET", "twofold/list-audit-events", {"userId": user["userId"]})
    assert [e["action"] for e in events] == ["mfa.status.set", "user.create"]
    assert events[0]["before"] is None and events[0]["after"]["totpMfaEnabled"] is False
    assert events[0]["requestId"] == events[1]["requestId"]
    assert "mfaStatus" not in events[1]["after"]
    # the same status set again over the API: one more event, whose before is the initial status
    data = {"mfaToken": "t", "applicationMfa": OTP_REQUIRED, "totpMfaEnabled": True}
    await api.ok("POST", "set-mfa-status", {"userId": user["userId"], "version": 1, "mfaTriggerData": data})
    events = await api.ok("GET", "twofold/list-audit-events", {"userId": user["userId"]})
    assert events[0]["before"] == events[1]["after"]


async def test_an_initial_status_leaving_the_flag_out_follows_the_secret_of_the_same_item(api: Api) -> None:
    with_secret = user_payload(
        otp={"secret": "JBSWY3DPEHPK3PXPJBSWY3DP"}, mfaTriggerData={"applicationMfa": OTP_REQUIRED}
    )
    without = user_payload(mfaTriggerData={"applicationMfa": OTP_REQUIRED})
    created = await api.ok("POST", "create-users-batch", {"list": [with_secret, without]})
    flags = [(await status_of(api, u["userId"]))["totpMfaEnabled"] for u in created]
    assert flags == [True, False]
