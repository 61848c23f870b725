"""The user directory over the API (docs/wire.md#user-endpoints), on every database backend."""

from __future__ import annotations

import pytest

from tests.conftest import Api
from tests.factories import user_payload
from twofold.errors import (
    InvalidParameter,
    MalformedBody,
    MissingUserIdentifier,
    UserAlreadyExists,
    UserNotFound,
)


async def test_created_user_has_sensible_defaults(api: Api) -> None:
    user = await api.ok("POST", "create-user", user_payload())
    assert user["status"] == "Activated"
    assert user["photo"]
    assert user["loginsCount"] == 0
    assert user["gender"] == "U"
    assert len(user["userId"]) == 24
    assert "customData" not in user and "identities" not in user and "departmentIds" not in user
    assert "password" not in user and "passwordHash" not in user and "$argon2" not in str(user)


async def test_create_user_requires_a_login_identifier(api: Api) -> None:
    body = await api.post("create-user", {})
    assert body["statusCode"] == 400
    assert body["message"] == "Must contain one of the following fields: username, phone, email"
    assert body["apiCode"] == MissingUserIdentifier.api_code


@pytest.mark.parametrize(
    "id_type,key",
    [
        ("user_id", None),
        ("username", "username"),
        ("email", "email"),
        ("phone", "phone"),
        ("external_id", "externalId"),
    ],
)
async def test_user_is_found_by_every_id_type(api: Api, id_type: str, key: str | None) -> None:
    created = await api.ok("POST", "create-user", user_payload())
    value = created["userId"] if key is None else created[key]
    found = await api.ok("GET", "get-user", {"userId": value, "userIdType": id_type})
    assert found["userId"] == created["userId"]


async def test_lookup_by_identity_and_sync_relation(api: Api) -> None:
    created = await api.ok(
        "POST",
        "create-user",
        user_payload(
            identities=[
                {
                    "extIdpId": "62f20932716fbcc10d966ee5",
                    "provider": "lark",
                    "type": "openid",
                    "userIdInIdp": "ou_8bae746e",
                    "userInfoInIdp": {},
                    "originConnIds": [],
                }
            ]
        ),
    )
    found = await api.ok(
        "GET", "get-user", {"userId": "62f20932716fbcc10d966ee5:ou_8bae746e", "userIdType": "identity"}
    )
    assert found["userId"] == created["userId"]
    await api.ok(
        "POST",
        "twofold/set-sync-relation",
        {"userId": created["userId"], "provider": "lark", "userIdInIdp": "ou_sync:1"},
    )
    found = await api.ok("GET", "get-user", {"userId": "lark:ou_sync:1", "userIdType": "sync_relation"})
    assert found["userId"] == created["userId"]


async def test_email_lookup_is_case_insensitive_and_stored_lower_case(api: Api) -> None:
    await api.ok("POST", "create-user", user_payload(email="Mixed.Case@Example.COM"))
    found = await api.ok("GET", "get-user", {"userId": "MIXED.case@example.com", "userIdType": "email"})
    assert found["email"] == "mixed.case@example.com"


@pytest.mark.parametrize(
    "id_type,value,status",
    [
        ("user_id", "test", 404),
        ("email", "test#x.com", 400),
        ("phone", "1234567890#", 400),
        ("phone", "212-456-1111", 404),
        ("identity", "no-colon", 400),
        ("custom_field", "x", 400),
    ],
)
async def test_malformed_ids_get_400_and_unknown_ones_404(
    api: Api, id_type: str, value: str, status: int
) -> None:
    body = await api.get("get-user", userId=value, userIdType=id_type)
    assert body["statusCode"] == status
    expected = UserNotFound if status == 404 else InvalidParameter
    assert body["apiCode"] == expected.api_code


async def test_chinese_messages_on_request(api: Api) -> None:
    body = await api.raw(
        "GET", "/api/v3/get-user", params={"userId": "test"}, headers={"x-authing-lang": "zh-CN"}
    )
    assert body["message"] == "用户不存在"
    body = await api.raw(
        "GET", "/api/v3/get-user", params={"userId": ""}, headers={"x-genauth-lang": "zh-CN"}
    )
    assert (body["statusCode"], body["message"]) == (400, "参数 userId 格式错误")


@pytest.mark.parametrize("field", ["username", "email", "phone", "externalId"])
async def test_duplicates_get_409_and_change_nothing(api: Api, field: str) -> None:
    first = await api.ok("POST", "create-user", user_payload())
    dup = user_payload(**{field: first[field]})
    body = await api.post("create-user", dup)
    assert body["statusCode"] == 409 and body["apiCode"] == UserAlreadyExists.api_code
    assert field in body["message"]
    probe = "email" if field == "username" else "username"
    assert (await api.ok("POST", "is-user-exists", {probe: dup[probe]}))["exists"] is False


async def test_batch_create_is_all_or_nothing(api: Api) -> None:
    existing = await api.ok("POST", "create-user", user_payload())
    batch = [user_payload(), user_payload(email=existing["email"])]
    body = await api.post("create-users-batch", {"list": batch})
    assert body["statusCode"] == 409
    assert (await api.ok("POST", "is-user-exists", {"username": batch[0]["username"]}))["exists"] is False
    created = await api.ok("POST", "create-users-batch", {"list": [user_payload(), user_payload()]})
    assert len(created) == 2


async def test_batch_validation_error_names_the_row(api: Api) -> None:
    body = await api.post("create-users-batch", {"list": [user_payload(), user_payload(email="bad")]})
    assert body["statusCode"] == 400 and "list[1].email" in body["message"]


async def test_get_user_batch_accepts_every_array_form(api: Api) -> None:
    a = await api.ok("POST", "create-user", user_payload())
    b = await api.ok("POST", "create-user", user_payload())
    for query in (
        f"userIds={a['userId']}&userIds={b['userId']}",
        f"userIds[]={a['userId']}&userIds[]={b['userId']}",
        f"userIds%5B%5D={a['userId']}&userIds%5B%5D={b['userId']}",
        f"userIds={a['userId']}%2C{b['userId']}",
    ):
        body = await api.raw(
            "GET", f"/api/v3/get-user-batch?{query}&withCustomData=False&withIdentities=True"
        )
        assert body["statusCode"] == 200, query
        assert {u["userId"] for u in body["data"]} == {a["userId"], b["userId"]}
        assert all("identities" in u and "customData" not in u for u in body["data"])


async def test_get_user_batch_without_ids_is_400(api: Api) -> None:
    body = await api.get("get-user-batch")
    assert body["statusCode"] == 400 and "userIds" in body["message"]


async def test_update_user_by_email_and_uniqueness(api: Api) -> None:
    a = await api.ok("POST", "create-user", user_payload())
    b = await api.ok("POST", "create-user", user_payload())
    updated = await api.ok(
        "POST",
        "update-user",
        {
            "userId": a["email"],
            "options": {"userIdType": "email"},
            "nickname": "Renamed",
            "customData": {"team": "blue"},
        },
    )
    assert updated["nickname"] == "Renamed"
    body = await api.post("update-user", {"userId": a["userId"], "username": b["username"]})
    assert body["statusCode"] == 409
    again = await api.ok("GET", "get-user", {"userId": a["userId"], "withCustomData": "true"})
    assert again["username"] == a["username"] and again["customData"] == {"team": "blue"}


async def test_update_user_batch_and_delete(api: Api) -> None:
    a = await api.ok("POST", "create-user", user_payload())
    b = await api.ok("POST", "create-user", user_payload())
    data = await api.ok(
        "POST",
        "update-user-batch",
        {"list": [{"userId": a["userId"], "name": "A"}, {"userId": b["userId"], "name": "B"}]},
    )
    assert [u["name"] for u in data] == ["A", "B"]
    body = await api.post("delete-users-batch", {"userIds": [a["userId"], "unknown-id"]})
    assert body["statusCode"] == 404
    assert (await api.get("get-user", userId=a["userId"]))["statusCode"] == 200
    assert (
        await api.ok(
            "POST", "delete-users-batch", {"userIds": [a["username"]], "options": {"userIdType": "username"}}
        )
    )["success"]
    assert (await api.get("get-user", userId=a["userId"]))["statusCode"] == 404
    assert (await api.post("delete-users-batch", {"userIds": []}))["statusCode"] == 400


async def test_is_user_exists(api: Api) -> None:
    a = await api.ok("POST", "create-user", user_payload())
    assert (await api.ok("POST", "is-user-exists", {"email": a["email"].upper()}))["exists"] is True
    assert (await api.ok("POST", "is-user-exists", {"externalId": "nope"}))["exists"] is False
    body = await api.post("is-user-exists", {})
    assert body["statusCode"] == 400 and "username, email, phone, externalId" in body["message"]


async def test_list_users_paging_keywords_and_filters(api: Api) -> None:
    for i in range(12):
        await api.ok(
            "POST", "create-user", user_payload(nickname=f"Listed {i}", status="Suspended" if i < 3 else None)
        )
    page1 = await api.ok("POST", "list-users", {})
    assert page1["totalCount"] >= 12 and len(page1["list"]) == 10
    suspended = await api.ok(
        "POST",
        "list-users",
        {"advancedFilter": [{"field": "status", "operator": "EQUAL", "value": "Suspended"}]},
    )
    assert suspended["totalCount"] == 3
    kw = await api.ok(
        "POST",
        "list-users",
        {
            "keywords": "listed 1",
            "options": {"pagination": {"page": 1, "limit": 50}, "fuzzySearchOn": ["nickname"]},
        },
    )
    assert {u["nickname"] for u in kw["list"]} == {"Listed 1", "Listed 10", "Listed 11"}
    legacy = await api.ok("GET", "list-users", {"page": 2, "limit": 5, "status": "Activated"})
    assert legacy["totalCount"] == 9 and len(legacy["list"]) == 4
    bad = await api.post(
        "list-users", {"advancedFilter": [{"field": "password", "operator": "EQUAL", "value": 1}]}
    )
    assert bad["statusCode"] == 400 and "advancedFilter[0].field" in bad["message"]


async def test_link_and_unlink_identity(api: Api) -> None:
    a = await api.ok("POST", "create-user", user_payload())
    b = await api.ok("POST", "create-user", user_payload())
    link = {"userId": a["userId"], "extIdpId": "idp1", "userIdInIdp": "u-1"}
    assert (await api.ok("POST", "link-identity", link))["success"]
    assert (await api.ok("POST", "link-identity", link))["success"]  # idempotent
    assert (await api.post("link-identity", {**link, "userId": b["userId"]}))["statusCode"] == 409
    identities = await api.ok("GET", "get-user-identities", {"userId": a["userId"]})
    assert [(i["extIdpId"], i["userIdInIdp"], i["type"]) for i in identities] == [("idp1", "u-1", "generic")]
    found = await api.ok("GET", "get-user", {"userId": "idp1:u-1", "userIdType": "identity"})
    assert found["userId"] == a["userId"]
    assert (await api.ok("POST", "unlink-identity", {"userId": a["userId"], "extIdpId": "idp1"}))["success"]
    assert await api.ok("GET", "get-user-identities", {"userId": a["userId"]}) == []


async def test_login_history_is_an_empty_page(api: Api) -> None:
    a = await api.ok("POST", "create-user", user_payload())
    assert await api.ok("GET", "get-user-login-history", {"userId": a["userId"]}) == {
        "list": [],
        "totalCount": 0,
    }


async def test_passwords_are_hashed_with_argon2(api: Api, services) -> None:  # type: ignore[no-untyped-def]
    a = await api.ok("POST", "create-user", user_payload(password="correct horse battery"))
    async with services.db.read() as conn:
        stored = await conn.fetch_value("SELECT password_hash FROM users WHERE id = :id", {"id": a["userId"]})
    assert stored.startswith("$argon2id$") and "correct horse" not in stored


async def test_validation_errors_name_the_field(api: Api) -> None:
    body = await api.post("create-user", user_payload(gender="X"))
    assert body["statusCode"] == 400 and "gender" in body["message"]
    body = await api.raw(
        "POST", "/api/v3/create-user", content=b"{not json", headers={"content-type": "application/json"}
    )
    assert body["statusCode"] == 400 and body["apiCode"] == MalformedBody.api_code


async def test_unknown_route_is_an_envelope(api: Api) -> None:
    body = await api.raw("GET", "/api/v3/no-such-endpoint")
    assert body["statusCode"] == 404


async def test_request_id_is_echoed(api: Api) -> None:
    response = await api.client.get(
        "/api/v3/get-user",
        params={"userId": "x"},
        headers={"x-request-id": "req-123", "authorization": f"Bearer {api.token}"},
    )
    assert response.headers["x-request-id"] == "req-123"
    assert response.json()["requestId"] == "req-123"


# ------------------------------------------------------------------- GenAuth's wording and bounds
ZH = {"x-authing-lang": "zh-CN"}


async def zh_post(api: Api, path: str, payload: dict[str, object]) -> dict[str, object]:
    return await api.raw("POST", f"/api/v3/{path}", json=payload, headers=ZH)


async def zh_get(api: Api, path: str, **params: object) -> dict[str, object]:
    return await api.raw("GET", f"/api/v3/{path}", params=params, headers=ZH)


@pytest.mark.parametrize(
    "pagination,message",
    [
        ({"page": 0}, "参数 page 格式错误"),
        ({"limit": 0}, "参数 limit 格式错误"),
        ({"limit": 51}, "limit must less than 50"),
        ({"limit": 220}, "limit must less than 50"),
        ({"page": "x"}, "参数 page 格式错误"),
    ],
)
async def test_list_users_paging_errors_use_genauth_wording(
    api: Api, pagination: dict[str, object], message: str
) -> None:
    body = await zh_post(api, "list-users", {"options": {"pagination": pagination}})
    assert (body["statusCode"], body["message"]) == (400, message)


async def test_fifty_is_the_largest_page_of_every_list(api: Api) -> None:
    user = await api.ok("POST", "create-user", user_payload())
    assert len((await api.ok("POST", "list-users", {"options": {"pagination": {"limit": 50}}}))["list"]) >= 1
    for path, params in (
        ("list-users", {"limit": 51}),
        ("get-user-login-history", {"userId": user["userId"], "limit": 51}),
        ("list-applications", {"limit": 51}),
    ):
        body = await zh_get(api, path, **params)
        assert (body["statusCode"], body["message"]) == (400, "limit must less than 50"), path
    english = await api.get("list-users", limit=100)
    assert english["message"] == "limit must less than 50"


@pytest.mark.parametrize(
    "item,name",
    [
        ({"field": "status", "operator": "EQUAL", "value": "invalid"}, "status"),
        ({"field": "status", "operator": "IN", "value": ["Activated", "nope"]}, "status"),
        ({"field": "status", "operator": "CONTAINS", "value": "Act"}, "status"),
        ({"field": "gender", "operator": "EQUAL", "value": "X"}, "gender"),
        ({"field": "gender", "operator": "NOT_EQUAL", "value": 1}, "gender"),
        ({"field": "mfaEnabled", "operator": "EQUAL", "value": "yes"}, "mfaEnabled"),
        ({"field": "loginsCount", "operator": "CONTAINS", "value": "1"}, "loginsCount"),
        ({"field": "loginsCount", "operator": "GREATER", "value": 1e300}, "loginsCount"),
    ],
)
async def test_enum_and_typed_filters_refuse_values_outside_their_type(
    api: Api, item: dict[str, object], name: str
) -> None:
    await api.ok("POST", "create-user", user_payload())
    body = await zh_post(api, "list-users", {"advancedFilter": [item]})
    assert (body["statusCode"], body["message"]) == (400, f"参数 {name} 格式错误"), body


async def test_gender_and_status_filters_match(api: Api) -> None:
    woman = await api.ok("POST", "create-user", user_payload(gender="F", status="Suspended"))
    unknown = await api.ok("POST", "create-user", user_payload())  # no gender: U

    async def ids(*filters: dict[str, object]) -> set[str]:
        page = await api.ok("POST", "list-users", {"advancedFilter": list(filters),
                                                     "options": {"pagination": {"limit": 50}}})
        return {u["userId"] for u in page["list"]}

    females = await ids({"field": "gender", "operator": "EQUAL", "value": "F"})
    assert woman["userId"] in females and unknown["userId"] not in females
    assert unknown["userId"] in await ids({"field": "gender", "operator": "IN", "value": ["U", "M"]})
    suspended = await ids({"field": "status", "operator": "EQUAL", "value": "Suspended"})
    assert suspended == {woman["userId"]}


async def test_country_code_without_phone_is_refused_and_changes_nothing(api: Api) -> None:
    payload = user_payload(phone=None, phoneCountryCode="+86")
    body = await zh_post(api, "create-user", payload)
    assert (body["statusCode"], body["message"]) == (400, "phone cannot be empty")
    assert (await api.ok("POST", "is-user-exists", {"username": payload["username"]}))["exists"] is False

    no_phone = await api.ok("POST", "create-user", user_payload(phone=None))
    body = await zh_post(api, "update-user", {"userId": no_phone["userId"], "phoneCountryCode": "+1"})
    assert (body["statusCode"], body["message"]) == (400, "phone cannot be empty")
    again = await api.ok("GET", "get-user", {"userId": no_phone["userId"]})
    assert (again["phone"], again["phoneCountryCode"]) == (None, None)


async def test_invalid_email_and_gender_name_the_parameter(api: Api) -> None:
    body = await zh_post(api, "create-user", {"email": "test1@qqq"})
    assert (body["statusCode"], body["message"]) == (400, "参数 email 格式错误")
    user = await api.ok("POST", "create-user", user_payload())
    body = await zh_post(api, "update-user", {"userId": user["userId"], "gender": ""})
    assert (body["statusCode"], body["message"]) == (400, "参数 gender 格式错误")
    nested = await api.post("list-users", {"options": {"pagination": {"page": 0}}})
    assert nested["message"].startswith("Invalid parameter options.pagination.page"), nested


UNTRACKED = ("lastLogin", "lastIp", "userSourceId", "lastLoginApp", "mainDepartmentId", "lastMfaTime",
             "passwordSecurityLevel", "postIdList", "tenantId")
DOCUMENTED = (
    "userId", "createdAt", "updatedAt", "status", "workStatus", "externalId", "email", "phone",
    "phoneCountryCode", "username", "name", "nickname", "photo", "loginsCount", "lastLogin", "lastIp",
    "gender", "emailVerified", "phoneVerified", "passwordLastSetAt", "birthdate", "country", "province",
    "city", "address", "streetAddress", "postalCode", "company", "browser", "device", "givenName",
    "familyName", "middleName", "profile", "preferredUsername", "website", "zoneinfo", "locale", "formatted",
    "region", "userSourceType", "userSourceId", "lastLoginApp", "mainDepartmentId", "lastMfaTime",
    "passwordSecurityLevel", "resetPasswordOnNextLogin", "registerSource", "identityNumber", "metadataSource",
    "postIdList", "statusChangedAt", "tenantId", "signedUp",
)


async def test_user_dto_has_every_documented_member(api: Api) -> None:
    created = await api.ok("POST", "create-user", user_payload())
    for found in (created, await api.ok("GET", "get-user", {"userId": created["userId"]})):
        missing = [k for k in DOCUMENTED if k not in found]
        assert not missing, missing
        assert all(found[k] is None for k in UNTRACKED)
        assert found["city"] is None and found["birthdate"] is None
    asked = await api.ok("GET", "get-user", {"userId": created["userId"], "withCustomData": "true",
                                             "withDepartmentIds": "true", "withIdentities": "true"})
    assert (asked["customData"], asked["departmentIds"], asked["identities"]) == ({}, [], [])
    page = await api.ok("POST", "list-users", {"options": {"withCustomData": True, "withDepartmentIds": True,
                                                           "withIdentities": True}})
    assert all(u["customData"] == {} or u["customData"] for u in page["list"])
    assert all(isinstance(u["departmentIds"], list) and isinstance(u["identities"], list) for u in page["list"])


@pytest.mark.parametrize(
    "extra,name",
    [
        ({"metadataSource": {"a": float("nan")}}, "metadataSource"),
        ({"customData": {"a": [1, float("inf")]}}, "customData"),
        ({"identities": [{"extIdpId": "x", "provider": "lark", "userIdInIdp": "u",
                          "userInfoInIdp": {"a": float("-inf")}}]}, "userInfoInIdp"),
    ],
)
async def test_json_documents_refuse_nan_and_infinity(api: Api, extra: dict[str, object], name: str) -> None:
    """Python's JSON parser lets NaN in; stored, it would make the user unreadable."""
    import json

    payload = user_payload(**extra)
    body = await api.raw("POST", "/api/v3/create-user", content=json.dumps(payload),
                         headers={**ZH, "content-type": "application/json"})
    assert (body["statusCode"], body["message"]) == (400, f"参数 {name} 格式错误")
    assert (await api.ok("POST", "is-user-exists", {"username": payload["username"]}))["exists"] is False


async def test_profile_attributes_can_be_searched_and_filtered(api: Api) -> None:
    tag = user_payload()["username"]
    acme = await api.ok("POST", "create-user", user_payload(company=f"ACME {tag} Ltd", city="Hangzhou"))
    other = await api.ok("POST", "create-user", user_payload(company=f"Initech {tag}"))

    async def ids(body: dict[str, object]) -> list[str]:
        return [u["userId"] for u in (await api.ok("POST", "list-users", body))["list"]]

    assert await ids({"keywords": f"acme {tag}", "options": {"fuzzySearchOn": ["company", "givenName"]}}) == \
        [acme["userId"]]
    assert await ids({"keywords": tag, "options": {"fuzzySearchOn": ["company"],
                                                   "sort": [{"field": "createdAt", "order": "asc"}]}}) == \
        [acme["userId"], other["userId"]]
    hangzhou = await ids({"advancedFilter": [{"field": "city", "operator": "EQUAL", "value": "Hangzhou"},
                                             {"field": "company", "operator": "CONTAINS", "value": tag}]})
    assert hangzhou == [acme["userId"]]
    no_city = await ids({"advancedFilter": [{"field": "city", "operator": "IS_NULL"},
                                            {"field": "company", "operator": "CONTAINS", "value": tag}]})
    assert no_city == [other["userId"]]
    body = await zh_post(api, "list-users", {"keywords": "x", "options": {"fuzzySearchOn": ["gender"]}})
    assert (body["statusCode"], body["message"]) == (400, "参数 fuzzySearchOn 格式错误")
