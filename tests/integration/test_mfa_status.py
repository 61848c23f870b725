"""set-mfa-status and get-mfa-status: the seed flow and every validation rule (docs/mfa-status.md)."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from tests.conftest import Api
from tests.factories import SEED_MFA_TRIGGER_DATA, user_payload
from twofold.errors import InvalidMfaPolicy, InvalidParameter, UserNotFound, VersionConflict


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
        InvalidMfaPolicy,
    ),
    ({"mfaPhone": "12345"}, "mfaTriggerData.mfaPhone", InvalidParameter),
    (
        {"mfaPhone": "2015550123", "mfaPhoneCountryCode": "+999"},
        "mfaTriggerData.mfaPhoneCountryCode",
        InvalidParameter,
    ),
    ({"mfaEmail": "not-an-email"}, "mfaTriggerData.mfaEmail", InvalidParameter),
    ({"mfaEmail": "a" * 300 + "@example.com"}, "mfaTriggerData.mfaEmail", InvalidParameter),
    ({"username": "someone-else"}, "mfaTriggerData.username", InvalidParameter),
    (
        {"totpMfaEnabled": False, "applicationMfa": [{"mfaPolicy": "OTP", "status": 1, "sort": 0}]},
        "mfaTriggerData.totpMfaEnabled",
        InvalidParameter,
    ),
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
    items = [user_payload(mfaTriggerData={"applicationMfa": [{"mfaPolicy": "SMS", "status": 1, "sort": 0}],
                                          "mfaEmail": "Initial@Example.com"}) for _ in range(3)]
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
    assert {k: v for k, v in again.items() if k != "version"} == {k: v for k, v in default.items() if k != "version"}
