"""Contract tests: the unmodified ``authing-node-sdk`` 4.0.1 against a live ``twofold serve``.

Every call is signed per request (HMAC-SHA1, date and nonce headers; docs/wire.md#signatures); the SDK's
default language is zh-CN and it throws on any non-2xx HTTP status, so business errors must come
back as HTTP 200 envelopes.  Each test runs one Node process with a scenario of calls
(``node/run_calls.cjs``); ``{{N.path}}`` in an argument refers to call N's result.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.compat.support import (
    LiveServer,
    NodeSdk,
    RecordingRelay,
    new_person,
    node_body,
    node_options,
    ok_data,
    request_line,
    send_raw,
)

pytestmark = pytest.mark.compat


def create_call(person: dict[str, Any], client: str = "main", **extra: Any) -> dict[str, Any]:
    return {"client": client, "method": "createUser", "args": {**person, **extra}}


def call(method: str, args: dict[str, Any] | None = None, client: str = "main") -> dict[str, Any]:
    return {"client": client, "method": method, "args": args or {}}


def test_created_user_is_found_by_every_user_id_type(live_server: LiveServer, node_sdk: NodeSdk) -> None:
    person = new_person("js")
    results = node_sdk.run({"main": node_options(live_server)}, [
        create_call(person),
        call("getUser", {"userId": "{{0.data.userId}}"}),  # the SDK fills userIdType=user_id
        call("getUser", {"userId": person["username"], "userIdType": "username"}),
        call("getUser", {"userId": person["email"].upper(), "userIdType": "email"}),
        call("getUser", {"userId": person["phone"], "userIdType": "phone"}),
        call("getUser", {"userId": person["externalId"], "userIdType": "external_id"}),
    ])
    created = ok_data(node_body(results[0]))
    assert created["status"] == "Activated" and created["photo"]
    assert (created["username"], created["phone"], created["phoneCountryCode"]) == \
        (person["username"], person["phone"], "+86")
    for result in results[1:]:
        found = ok_data(node_body(result))
        assert found["userId"] == created["userId"]
        assert found["email"] == person["email"]
        # the SDK sends withCustomData/withIdentities/withDepartmentIds=false: those members stay absent
        assert not found.get("customData") and not found.get("identities") and not found.get("departmentIds")


def test_identities_create_link_lookup_and_unlink(live_server: LiveServer, node_sdk: NodeSdk) -> None:
    tag = new_person()["username"]
    idp_a, idp_b = f"idpa{tag}", f"idpb{tag}"
    results = node_sdk.run({"main": node_options(live_server)}, [
        create_call(new_person("js"), identities=[
            {"extIdpId": idp_a, "provider": "lark", "type": "openid", "userIdInIdp": "ou_8bae746e"}]),
        call("getUser", {"userId": f"{idp_a}:ou_8bae746e", "userIdType": "identity", "withIdentities": True}),
        create_call(new_person("js")),
        call("linkIdentity", {"userIdInIdp": "ext:42", "userId": "{{2.data.userId}}", "extIdpId": idp_b}),
        call("getUserIdentities", {"userId": "{{2.data.userId}}"}),
        call("getUser", {"userId": f"{idp_b}:ext:42", "userIdType": "identity"}),
        call("unlinkIdentity", {"userId": "{{2.data.userId}}", "extIdpId": idp_b}),
        call("getUserIdentities", {"userId": "{{2.data.userId}}"}),
        call("getUser", {"userId": f"{idp_b}:ext:42", "userIdType": "identity"}),
    ])
    first, second = (ok_data(node_body(results[i])) for i in (0, 2))
    found = ok_data(node_body(results[1]))
    assert found["userId"] == first["userId"]
    assert [(i["extIdpId"], i["provider"], i["userIdInIdp"]) for i in found["identities"]] == \
        [(idp_a, "lark", "ou_8bae746e")]

    assert ok_data(node_body(results[3])) == {"success": True}
    identities = ok_data(node_body(results[4]))
    assert [(i["extIdpId"], i["userIdInIdp"], i["type"]) for i in identities] == \
        [(idp_b, "ext:42", "generic")]
    assert ok_data(node_body(results[5]))["userId"] == second["userId"]
    assert ok_data(node_body(results[6])) == {"success": True}
    assert ok_data(node_body(results[7])) == []
    assert node_body(results[8])["statusCode"] == 404


def test_user_is_found_by_sync_relation(live_server: LiveServer, node_sdk: NodeSdk) -> None:
    user = ok_data(live_server.call("POST", "create-user", json=new_person("js")))
    in_idp = f"ou_{user['username']}"
    relation = {"userId": user["userId"], "provider": "wechatwork", "userIdInIdp": in_idp}
    ok_data(live_server.call("POST", "twofold/set-sync-relation", json=relation))
    results = node_sdk.run({"main": node_options(live_server)}, [
        call("getUser", {"userId": f"wechatwork:{in_idp}", "userIdType": "sync_relation"}),
        call("getUser", {"userId": f"lark:{in_idp}", "userIdType": "sync_relation"}),
    ])
    assert ok_data(node_body(results[0]))["userId"] == user["userId"]
    assert node_body(results[1])["statusCode"] == 404


def test_list_users_by_keywords_and_legacy_pages(live_server: LiveServer, node_sdk: NodeSdk) -> None:
    stem = new_person("kw")["username"]
    people = [{**new_person("js"), "username": f"{stem}x{i}"} for i in range(3)]
    page = {"keywords": stem, "options": {"pagination": {"page": 1, "limit": 2}}}
    results = node_sdk.run({"main": node_options(live_server)}, [
        *(create_call(p) for p in people),
        call("listUsers", page),
        call("listUsers", {**page, "options": {"pagination": {"page": 2, "limit": 2}}}),
        call("listUsers", {}),
        call("listUsersLegacy", {"page": 1, "limit": 2}),
        call("listUsersLegacy", {"page": 2, "limit": 2}),
        call("listUsersLegacy", {}),  # the SDK sends page=1&limit=10 and with*=false
    ])
    ids = {ok_data(node_body(r))["userId"] for r in results[:3]}
    first, second, everything, legacy1, legacy2, legacy_default = (ok_data(node_body(r)) for r in results[3:])
    assert first["totalCount"] == second["totalCount"] == 3
    assert (len(first["list"]), len(second["list"])) == (2, 1)
    assert {u["userId"] for u in first["list"] + second["list"]} == ids
    assert everything["totalCount"] >= 3

    assert legacy1["totalCount"] == legacy2["totalCount"] == legacy_default["totalCount"] >= 3
    assert len(legacy1["list"]) == 2 and len(legacy_default["list"]) == min(10, legacy1["totalCount"])
    newest_three = {u["userId"] for u in legacy1["list"]} | {legacy2["list"][0]["userId"]}
    assert newest_three == ids


def test_get_user_batch_accepts_the_bracketed_array_query(live_server: LiveServer, node_sdk: NodeSdk) -> None:
    people = [new_person("js") for _ in range(2)]
    created = [ok_data(live_server.call("POST", "create-user", json=p)) for p in people]
    with RecordingRelay(live_server.port) as relay:
        results = node_sdk.run({"relay": node_options(live_server, host=relay.url)}, [
            call("getUserBatch", {"userIds": [u["userId"] for u in created]}, client="relay"),
            call("getUserBatch", {"userIds": [people[0]["email"].upper(), people[1]["email"]],
                                  "userIdType": "email", "withIdentities": True}, client="relay"),
        ])
    sent = [request_line(raw) for raw in relay.requests()]
    assert len(sent) == 2 and all(line.startswith("GET /api/v3/get-user-batch?") for line in sent), sent
    # axios >= 1.21 writes userIds%5B%5D=..., axios 1.7.x userIds[]=...: either way an array form
    assert all("userIds%5B%5D=" in line or "userIds[]=" in line for line in sent), sent

    expected = sorted(u["userId"] for u in created)
    by_id, by_email = (ok_data(node_body(r)) for r in results)
    assert sorted(u["userId"] for u in by_id) == expected
    assert sorted(u["userId"] for u in by_email) == expected
    assert all(u["identities"] == [] for u in by_email)


def test_is_user_exists_and_delete_users_batch(live_server: LiveServer, node_sdk: NodeSdk) -> None:
    person = new_person("js")
    results = node_sdk.run({"main": node_options(live_server)}, [
        create_call(person),
        call("isUserExists", {"username": person["username"]}),
        call("isUserExists", {"email": person["email"].upper()}),
        call("isUserExists", {"externalId": f"missing-{person['externalId']}"}),
        call("deleteUsersBatch", {"userIds": [person["email"]], "options": {"userIdType": "email"}}),
        call("isUserExists", {"username": person["username"]}),
        call("getUser", {"userId": "{{0.data.userId}}"}),
    ])
    ok_data(node_body(results[0]))
    exists = [ok_data(node_body(r))["exists"] for r in results[1:4]]
    assert exists == [True, True, False]
    assert ok_data(node_body(results[4])) == {"success": True}
    assert ok_data(node_body(results[5])) == {"exists": False}
    assert node_body(results[6])["statusCode"] == 404


def test_business_errors_are_http_200_envelopes_in_chinese_by_default(live_server: LiveServer,
                                                                       node_sdk: NodeSdk) -> None:
    clients = {"main": node_options(live_server), "en": node_options(live_server, lang="en-US")}
    results = node_sdk.run(clients, [
        call("getUser", {"userId": "test"}),
        call("getUser", {"userIdType": "email", "userId": "test#x.com"}),
        call("getUser", {"userIdType": "phone", "userId": "1234567890#"}),
        call("getUser", {"userIdType": "phone", "userId": "212-456-1111"}),
        call("isUserExists", {}),
        call("deleteUsersBatch", {"userIds": []}),
        call("createUser", {}),
        call("getUser", {"userId": "test"}, client="en"),
    ])
    bodies = [node_body(r) for r in results]  # none threw: every one was HTTP 2xx
    expected = [
        (404, "用户不存在"),
        (400, "参数 userId 格式错误"),
        (400, "参数 userId 格式错误"),
        (404, "用户不存在"),
        (400, "参数 username, email, phone, externalId 格式错误"),
        (400, "参数 userIds 格式错误"),
        (400, "Must contain one of the following fields: username, phone, email"),
        (404, "User does not exist"),
    ]
    for body, (status, message) in zip(bodies, expected, strict=True):
        assert body["statusCode"] == status, body
        assert message in body["message"], body
        assert body["data"] is None and body["apiCode"] and body["requestId"], body


def test_wrong_secret_or_unknown_key_is_refused_and_changes_nothing(live_server: LiveServer,
                                                                     node_sdk: NodeSdk) -> None:
    person = new_person("js")
    unknown_key = {**node_options(live_server), "accessKeyId": "unknownkey00000000000000"}
    clients = {"main": node_options(live_server),
               "bad": node_options(live_server, secret="not-the-secret-0123456789"),
               "unknown": unknown_key}
    results = node_sdk.run(clients, [
        create_call(person, client="bad"),
        create_call(person, client="unknown"),
        call("getUser", {"userId": "test"}, client="bad"),
        call("isUserExists", {"username": person["username"]}),
    ])
    for result in results[:3]:
        body = node_body(result)
        assert (body["statusCode"], body["message"], body["data"]) == (401, "认证失败", None), body
    assert ok_data(node_body(results[3])) == {"exists": False}
    assert live_server.user_count(person["username"]) == 0


def test_signatures_verify_for_awkward_values_tenant_and_trailing_slash(live_server: LiveServer,
                                                                         node_sdk: NodeSdk) -> None:
    """Non-ASCII and reserved characters, null, nested numbers: the server rebuilds what the SDK signed."""
    person = new_person("js")
    awkward = f"张三 x&y=z+1%2F?#{person['username']}"
    # a trailing slash is stripped by the SDK; tenantId adds a signed x-authing-app-id header
    tenant = {**node_options(live_server, host=live_server.base_url + "/"), "tenantId": "TENANT_1"}
    clients = {"main": node_options(live_server), "tenant": tenant}
    results = node_sdk.run(clients, [
        create_call(person, username=awkward, name=None, emailVerified=True,
                    customData={"b": 1, "a": [1.0, 2e3, "ü"]}),
        call("getUser", {"userId": awkward, "userIdType": "username", "withCustomData": True}),
        call("getUser", {"userId": awkward, "userIdType": "username"}, client="tenant"),
        call("getUserBatch", {"userIds": [awkward], "userIdType": "username"}),
        call("listUsers", {"keywords": awkward, "options": {"pagination": {"page": 1, "limit": 50}}}),
        call("updateUser", {"userId": awkward, "nickname": "né", "options": {"userIdType": "username"}}),
    ])
    created = ok_data(node_body(results[0]))
    assert (created["username"], created["name"], created["emailVerified"]) == (awkward, None, True)
    found = ok_data(node_body(results[1]))
    assert found["userId"] == created["userId"]
    assert found["customData"] == {"b": 1, "a": [1, 2000, "ü"]}
    assert ok_data(node_body(results[2]))["userId"] == created["userId"]
    assert [u["userId"] for u in ok_data(node_body(results[3]))] == [created["userId"]]
    assert [u["userId"] for u in ok_data(node_body(results[4]))["list"]] == [created["userId"]]
    assert ok_data(node_body(results[5]))["nickname"] == "né"


def test_replayed_signed_request_is_refused_and_changes_nothing(live_server: LiveServer,
                                                                node_sdk: NodeSdk) -> None:
    person = new_person("js")
    with RecordingRelay(live_server.port) as relay:
        results = node_sdk.run({"relay": node_options(live_server, host=relay.url)}, [
            create_call(person, client="relay"),
            call("getUser", {"userId": person["username"], "userIdType": "username"}, client="relay"),
        ])
    created = ok_data(node_body(results[0]))
    assert ok_data(node_body(results[1]))["userId"] == created["userId"]
    create_raw, get_raw = relay.requests()
    assert request_line(create_raw) == "POST /api/v3/create-user HTTP/1.1"
    assert b"\r\nx-authing-signature-nonce: " in create_raw.lower()
    assert live_server.user_count(person["username"]) == 1

    status, body = send_raw(live_server.port, create_raw)  # the same bytes: date, nonce, signature, body
    assert (status, body["statusCode"], body["data"]) == (200, 401, None), body
    assert live_server.user_count(person["username"]) == 1

    # Without the nonce check the replay would now succeed (the username is free again): it must not.
    ok_data(live_server.call("POST", "delete-users-batch", json={"userIds": [created["userId"]]}))
    status, body = send_raw(live_server.port, create_raw)
    assert (status, body["statusCode"]) == (200, 401), body
    assert live_server.user_count(person["username"]) == 0

    status, body = send_raw(live_server.port, get_raw)
    assert (status, body["statusCode"], body["data"]) == (200, 401, None), body


# --------------------------------------------------------- what the SDK's own test-suite expects
def test_parameter_errors_use_genauth_wording(live_server: LiveServer, node_sdk: NodeSdk) -> None:
    """The messages of authing-node-sdk's test/users/*.spec.ts, in its default language (zh-CN)."""
    person = new_person("js")
    results = node_sdk.run({"main": node_options(live_server)}, [
        create_call(person),
        call("listUsers", {"options": {"pagination": {"page": 0}}}),
        call("listUsers", {"options": {"pagination": {"limit": 0}}}),
        call("listUsers", {"options": {"pagination": {"limit": 220}}}),
        call("listUsers", {"advancedFilter": [{"field": "status", "operator": "EQUAL", "value": "invalid"}]}),
        call("listUsers", {"advancedFilter": [{"field": "gender", "operator": "IN", "value": ["M", "X"]}]}),
        call("listUsersLegacy", {"limit": 51}),
        call("listUsersLegacy", {"status": "invalid"}),
        call("getUserLoginHistory", {"userId": "{{0.data.userId}}", "limit": 51}),
        call("createUser", {"email": "test1@qqq"}),
        call("createUser", {"phoneCountryCode": "+86", "email": person["email"].replace("@", "x@")}),
        call("createUser", {"email": "c" + person["email"], "customData": {"intro": "hello" * 205}}),
        call("updateUser", {"userId": "{{0.data.userId}}", "gender": ""}),
    ])
    ok_data(node_body(results[0]))
    expected = [
        "参数 page 格式错误",
        "参数 limit 格式错误",
        "limit must less than 50",
        "参数 status 格式错误",
        "参数 gender 格式错误",
        "limit must less than 50",
        "参数 status 格式错误",
        "limit must less than 50",
        "参数 email 格式错误",
        "phone cannot be empty",
        "customData must be less than 1024 characters",
        "参数 gender 格式错误",
    ]
    got = [(node_body(r)["statusCode"], node_body(r)["message"]) for r in results[1:]]
    assert got == [(400, m) for m in expected]
    # the refused creations created nothing
    page = ok_data(live_server.call("POST", "list-users", json={
        "keywords": person["email"].split("@")[0], "options": {"fuzzySearchOn": ["email"]}}))
    assert [u["userId"] for u in page["list"]] == [ok_data(node_body(results[0]))["userId"]]


def test_get_user_batch_with_an_empty_array_is_genauths_400_not_a_401(live_server: LiveServer,
                                                                       node_sdk: NodeSdk) -> None:
    with RecordingRelay(live_server.port) as relay:
        results = node_sdk.run({"relay": node_options(live_server, host=relay.url)}, [
            call("getUserBatch", {"userIds": []}, client="relay"),
            call("getUserBatch", {"userIds": [], "userIdType": "email", "withCustomData": True}, client="relay"),
        ])
    sent = [request_line(raw) for raw in relay.requests()]
    assert all("userIds" not in line for line in sent), sent  # signed as userIds=[], never sent
    for result in results:
        body = node_body(result)
        assert (body["statusCode"], body["message"], body["data"]) == (400, "参数 userIds 格式错误", None), body

    # the leniency is for that one parameter only: a request changed after signing still fails
    raw = relay.requests()[0]
    line = request_line(raw)
    tampered = raw.replace(line.encode(), line.replace("userIdType=user_id", "userIdType=email").encode(), 1)
    assert tampered != raw
    status, body = send_raw(live_server.port, tampered)
    assert (status, body["statusCode"]) == (200, 401), body


def test_user_dto_members_and_custom_fields_round_trip(live_server: LiveServer, node_sdk: NodeSdk) -> None:
    tag = new_person()["username"]
    keys = {name: f"{name}_{tag}" for name in ("intro", "school", "age", "graduted", "graduted_at")}
    fields = [
        {"targetType": "USER", "dataType": "STRING", "key": keys["intro"], "label": "自我介绍"},
        {"targetType": "USER", "dataType": "ENUM", "key": keys["school"], "label": "学校",
         "options": [{"label": "北京大学", "value": "pku"}, {"label": "清华大学", "value": "tsinghua"}]},
        {"targetType": "USER", "dataType": "NUMBER", "key": keys["age"], "label": "年龄"},
        {"targetType": "USER", "dataType": "BOOLEAN", "key": keys["graduted"], "label": "是否已经毕业"},
        {"targetType": "USER", "dataType": "DATETIME", "key": keys["graduted_at"], "label": "毕业时间"},
    ]
    custom = {keys["intro"]: "自我介绍", keys["school"]: "pku", keys["age"]: 30, keys["graduted"]: True,
              keys["graduted_at"]: "2024-06-30T08:00:00.000Z"}
    person = new_person("js")
    results = node_sdk.run({"main": node_options(live_server)}, [
        call("setCustomFields", {"list": fields}),
        call("getCustomFields", {"targetType": "USER"}),
        create_call(person, customData=custom, gender="M", emailVerified=True),
        call("getUser", {"userId": "{{2.data.userId}}", "withCustomData": True, "withDepartmentIds": True}),
        call("updateUser", {"userId": "{{2.data.userId}}", "customData": {keys["age"]: 31}}),
        call("setCustomData", {"targetType": "USER", "targetIdentifier": "{{2.data.userId}}",
                               "list": [{"key": keys["school"], "value": "tsinghua"}]}),
        call("getCustomData", {"targetType": "USER", "targetIdentifier": "{{2.data.userId}}"}),
        call("createUser", {**new_person("js"), "customData": {keys["age"]: "thirty"}}),
        call("listUsers", {"advancedFilter": [{"field": "email", "operator": "EQUAL", "value": person["email"]}],
                           "options": {"withCustomData": True, "withIdentities": True,
                                       "withDepartmentIds": True}}),
    ])
    saved = ok_data(node_body(results[0]))
    assert [f["key"] for f in saved] == list(keys.values())
    listed = {f["key"]: f for f in ok_data(node_body(results[1]))}
    assert listed[keys["school"]]["dataType"] == "ENUM" and listed[keys["school"]]["options"][0]["value"] == "pku"

    created = ok_data(node_body(results[2]))
    assert created["customData"] == custom
    assert (created["lastLogin"], created["lastIp"], created["loginsCount"]) == (None, None, 0)
    assert (created["gender"], created["emailVerified"]) == ("M", True)
    found = ok_data(node_body(results[3]))
    assert found["customData"] == custom and found["departmentIds"] == []
    assert ok_data(node_body(results[4]))["userId"] == created["userId"]
    assert ok_data(node_body(results[5])) == {"success": True}
    assert ok_data(node_body(results[6])) == {**custom, keys["age"]: 31, keys["school"]: "tsinghua"}
    refused = node_body(results[7])
    assert (refused["statusCode"], refused["message"]) == (400, f"参数 {keys['age']} 格式错误"), refused
    [listed_user] = ok_data(node_body(results[8]))["list"]
    assert listed_user["customData"][keys["school"]] == "tsinghua"
    assert listed_user["identities"] == [] and listed_user["departmentIds"] == []
