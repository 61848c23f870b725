"""set-mfa-status when nothing is read first (``mfa_writes.DirectWrite``, docs/mfa-status.md#concurrency):
the same answers, stored state and audit trail as the path that reads the user first.

A request takes the direct write when it sends no ``version``, no profile field to check, and
``totpMfaEnabled``, and names the user by a unique key (user id, username, e-mail, external id)."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from tests.conftest import Api
from tests.factories import SEED_MFA_TRIGGER_DATA, user_payload
from twofold.errors import InvalidParameter, ProfileFieldMismatch, UserNotFound

KEYS = [("user_id", "userId"), ("username", "username"), ("email", "email"), ("external_id", "externalId")]


def trigger(**overrides: Any) -> dict[str, Any]:
    data = copy.deepcopy(SEED_MFA_TRIGGER_DATA)
    data.update(overrides)
    return data


async def trail(api: Api, user_id: str) -> list[dict[str, Any]]:
    events = await api.ok(
        "GET", "twofold/list-audit-events", {"userId": user_id, "action": "mfa.status.set", "limit": 50}
    )
    return sorted(events, key=lambda e: e["id"])


@pytest.mark.parametrize("id_type,key", KEYS, ids=[k for k, _ in KEYS])
async def test_each_write_records_the_state_it_replaced(api: Api, id_type: str, key: str) -> None:
    user = await api.ok("POST", "create-user", user_payload())
    first = trigger(applicationMfa=[{"mfaPolicy": "OTP", "status": 1, "sort": 0}], mfaEmail="a@example.com")
    second = trigger(applicationMfa=[{"mfaPolicy": "EMAIL", "status": 0, "sort": 3}], totpMfaEnabled=False)
    versions = []
    for data in (first, second):
        body = await api.ok(
            "POST", "set-mfa-status", {"userId": user[key], "userIdType": id_type, "mfaTriggerData": data}
        )
        versions.append(body["version"])
    assert versions == [1, 2]
    stored = await api.ok("GET", "get-mfa-status", {"userId": user["userId"]})
    assert stored["applicationMfa"] == second["applicationMfa"] and stored["totpMfaEnabled"] is False
    assert stored["version"] == 2
    events = await trail(api, user["userId"])
    assert [e["userId"] for e in events] == [user["userId"]] * 2
    assert events[0]["before"] is None
    assert events[1]["before"] == events[0]["after"]
    assert events[0]["after"]["mfaEmail"] == "a@example.com"
    assert events[1]["after"]["applicationMfa"] == second["applicationMfa"]
    assert "mfaToken" not in events[1]["after"]


@pytest.mark.parametrize("id_type,user_id", [("user_id", "nobody"), ("email", "nobody@example.com")])
@pytest.mark.parametrize(
    "change",
    [
        {"mfaToken": " "},
        {"mfaEmail": "not-an-email"},
        {"applicationMfa": [{"mfaPolicy": "X", "status": 1, "sort": 0}]},
    ],
)
async def test_an_unknown_user_is_reported_before_bad_trigger_data(
    api: Api, id_type: str, user_id: str, change: dict[str, Any]
) -> None:
    body = await api.post(
        "set-mfa-status", {"userId": user_id, "userIdType": id_type, "mfaTriggerData": trigger(**change)}
    )
    assert (body["statusCode"], body["apiCode"]) == (404, UserNotFound.api_code), body


async def test_bad_trigger_data_for_a_known_user_changes_nothing(api: Api) -> None:
    user = await api.ok("POST", "create-user", user_payload())
    await api.ok("POST", "set-mfa-status", {"userId": user["userId"], "mfaTriggerData": trigger()})
    body = await api.post(
        "set-mfa-status", {"userId": user["userId"], "mfaTriggerData": trigger(mfaEmail="not-an-email")}
    )
    assert (body["statusCode"], body["apiCode"]) == (400, InvalidParameter.api_code)
    assert len(await trail(api, user["userId"])) == 1
    assert (await api.ok("GET", "get-mfa-status", {"userId": user["userId"]}))["version"] == 1


async def test_a_profile_field_is_still_checked_against_the_user(api: Api) -> None:
    user = await api.ok("POST", "create-user", user_payload())
    body = await api.post(
        "set-mfa-status", {"userId": user["userId"], "mfaTriggerData": trigger(username="someone-else")}
    )
    assert (body["statusCode"], body["apiCode"]) == (400, ProfileFieldMismatch.api_code)
    assert await trail(api, user["userId"]) == []
