"""Custom fields of users: definitions, typed values bounded like GenAuth's, on every backend."""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import Api
from tests.factories import user_payload
from twofold.errors import CustomDataTooLong, InvalidParameter

ZH = {"x-authing-lang": "zh-CN"}
FIELDS: list[dict[str, Any]] = [
    {"targetType": "USER", "dataType": "STRING", "key": "intro", "label": "自我介绍"},
    {"targetType": "USER", "dataType": "SELECT", "key": "school", "label": "学校",
     "options": [{"label": "北京大学", "value": "pku"}, {"label": "清华大学", "value": "tsinghua"}]},
    {"targetType": "USER", "dataType": "NUMBER", "key": "age", "label": "年龄"},
    {"targetType": "USER", "dataType": "BOOLEAN", "key": "graduted", "label": "是否已经毕业"},
    {"targetType": "USER", "dataType": "DATETIME", "key": "graduted_at", "label": "毕业时间"},
]
GOOD = {"intro": "自我介绍", "school": "pku", "age": 30, "graduted": True,
        "graduted_at": "2024-06-30T08:00:00.000Z"}


async def define(api: Api) -> list[dict[str, Any]]:
    saved: list[dict[str, Any]] = await api.ok("POST", "set-custom-fields", {"list": FIELDS})
    return saved


async def test_definitions_round_trip(api: Api) -> None:
    saved = await define(api)
    assert [(f["key"], f["dataType"], f["label"]) for f in saved] == \
        [(f["key"], f["dataType"], f["label"]) for f in FIELDS]
    listed = await api.ok("GET", "get-custom-fields", {"targetType": "USER"})
    assert {f["key"]: f for f in listed}["school"]["options"] == FIELDS[1]["options"]
    # setting again updates the label, keeps the key and the type
    await api.ok("POST", "set-custom-fields", {"list": [{"targetType": "USER", "key": "age", "label": "Age"}]})
    listed = await api.ok("GET", "get-custom-fields", {"targetType": "USER"})
    assert [(f["key"], f["label"], f["dataType"]) for f in listed if f["key"] == "age"] == [("age", "Age", "NUMBER")]


@pytest.mark.parametrize(
    "item,name",
    [
        ({"targetType": "DEPARTMENT", "dataType": "STRING", "key": "x"}, "targetType"),
        ({"targetType": "USER", "dataType": "STRING", "key": "email"}, "key"),
        ({"targetType": "USER", "dataType": "STRING", "key": "has space"}, "key"),
        ({"targetType": "USER", "dataType": "COLOUR", "key": "c"}, "dataType"),
        ({"targetType": "USER", "dataType": "ENUM", "key": "e"}, "options"),
        ({"targetType": "USER", "key": "brand_new"}, "dataType"),
        ({"targetType": "USER", "dataType": "STRING", "key": "age"}, "dataType"),  # a type never changes
        # refused rather than accepted and not honoured
        ({"targetType": "USER", "dataType": "STRING", "key": "id_card", "encrypted": True}, "encrypted"),
        ({"targetType": "USER", "dataType": "STRING", "key": "badge", "isUnique": True}, "isUnique"),
    ],
)
async def test_bad_definitions_are_refused_and_change_nothing(api: Api, item: dict[str, Any], name: str) -> None:
    await define(api)
    before = await api.ok("GET", "get-custom-fields", {"targetType": "USER"})
    body = await api.raw("POST", "/api/v3/set-custom-fields", json={"list": [FIELDS[0], item]}, headers=ZH)
    assert (body["statusCode"], body["message"]) == (400, f"参数 {name} 格式错误"), body
    assert await api.ok("GET", "get-custom-fields", {"targetType": "USER"}) == before


async def test_custom_data_round_trips_on_create_update_get_and_set_custom_data(api: Api) -> None:
    await define(api)
    created = await api.ok("POST", "create-user", user_payload(customData=GOOD))
    assert created["customData"] == GOOD
    await api.ok("POST", "update-user", {"userId": created["userId"], "customData": {"age": 31, "free": [1]}})
    found = await api.ok("GET", "get-user", {"userId": created["userId"], "withCustomData": "true"})
    assert found["customData"] == {**GOOD, "age": 31, "free": [1]}
    await api.ok("POST", "set-custom-data", {"targetType": "USER", "targetIdentifier": created["userId"],
                                             "list": [{"key": "school", "value": "tsinghua"}]})
    data = await api.ok("GET", "get-custom-data", {"targetType": "USER", "targetIdentifier": created["userId"]})
    assert data == {**GOOD, "age": 31, "free": [1], "school": "tsinghua"}


@pytest.mark.parametrize(
    "data,name",
    [
        ({"age": "thirty"}, "age"),
        ({"age": True}, "age"),
        ({"graduted": "yes"}, "graduted"),
        ({"school": "mit"}, "school"),
        ({"graduted_at": "last june"}, "graduted_at"),
        ({"intro": 5}, "intro"),
    ],
)
async def test_values_must_fit_the_field_type(api: Api, data: dict[str, Any], name: str) -> None:
    await define(api)
    payload = user_payload(customData=data)
    body = await api.raw("POST", "/api/v3/create-user", json=payload, headers=ZH)
    assert (body["statusCode"], body["message"], body["apiCode"]) == \
        (400, f"参数 {name} 格式错误", InvalidParameter.api_code)
    assert (await api.ok("POST", "is-user-exists", {"username": payload["username"]}))["exists"] is False

    user = await api.ok("POST", "create-user", user_payload(customData={"intro": "before"}))
    body = await api.raw("POST", "/api/v3/update-user", json={"userId": user["userId"], "customData": data},
                         headers=ZH)
    assert body["statusCode"] == 400
    found = await api.ok("GET", "get-user", {"userId": user["userId"], "withCustomData": "true"})
    assert found["customData"] == {"intro": "before"}


@pytest.mark.parametrize("value", ["hello" * 205, {"nested": "x" * 1100}, ["y" * 600, "z" * 600]])
async def test_values_over_1024_characters_are_refused(api: Api, value: Any) -> None:
    await define(api)
    body = await api.raw("POST", "/api/v3/create-user", json=user_payload(customData={"intro2": value}),
                         headers=ZH)
    assert (body["statusCode"], body["message"], body["apiCode"]) == \
        (400, "customData must be less than 1024 characters", CustomDataTooLong.api_code)
    user = await api.ok("POST", "create-user", user_payload())
    body = await api.post("set-custom-data", {"targetType": "USER", "targetIdentifier": user["userId"],
                                              "list": [{"key": "intro", "value": value}]})
    assert body["statusCode"] == 400 and body["apiCode"] == CustomDataTooLong.api_code
    exactly = "x" * 1022  # 1024 characters as JSON text
    done = await api.ok("POST", "create-user", user_payload(customData={"intro": exactly}))
    assert done["customData"] == {"intro": exactly}


async def test_custom_data_of_an_unknown_user_or_target_type(api: Api) -> None:
    body = await api.get("get-custom-data", targetType="USER", targetIdentifier="nobody")
    assert body["statusCode"] == 404
    body = await api.raw("GET", "/api/v3/get-custom-data", params={"targetType": "ROLE", "targetIdentifier": "a"},
                         headers=ZH)
    assert (body["statusCode"], body["message"]) == (400, "参数 targetType 格式错误")
    body = await api.raw("GET", "/api/v3/get-custom-fields", params={}, headers=ZH)
    assert (body["statusCode"], body["message"]) == (400, "参数 targetType 格式错误")
