"""Contract tests: the unmodified ``genauth`` 5.1.0 Python SDK against a live ``twofold serve``.

The SDK fetches a management token (``POST /api/v3/get-management-token``) and sends ``Bearer``
calls with ``x-genauth-*`` headers (docs/wire.md#token-scheme); it returns every envelope as a dict.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.compat.support import LiveServer, assert_envelope, genauth_client, new_person, ok_data

pytestmark = pytest.mark.compat


def create(sdk: Any, **overrides: Any) -> dict[str, Any]:
    person = new_person("py")
    person.update(overrides)
    user: dict[str, Any] = ok_data(sdk.create_user(
        username=person["username"], email=person["email"], phone=person["phone"],
        external_id=person["externalId"], identities=person.get("identities")))
    return user


@pytest.mark.parametrize("id_type,field,transform", [
    ("user_id", "userId", str),
    ("username", "username", str),
    ("email", "email", str.upper),
    ("phone", "phone", str),
    ("external_id", "externalId", str),
])
def test_created_user_is_found_by_user_id_type(live_server: LiveServer, id_type: str, field: str,
                                               transform: Any) -> None:
    sdk = genauth_client(live_server)
    created = create(sdk)
    assert created["status"] == "Activated" and created["photo"]
    found = ok_data(sdk.get_user(user_id=transform(created[field]), user_id_type=id_type))
    assert found["userId"] == created["userId"]
    assert found["email"] == created["email"] == created["email"].lower()


def test_user_created_with_an_identity_is_found_by_identity(live_server: LiveServer) -> None:
    sdk = genauth_client(live_server)
    idp, in_idp = f"idp{new_person()['username']}", "ou_8bae746eac07cd25"
    created = create(sdk, identities=[{"extIdpId": idp, "provider": "lark", "type": "openid",
                                       "userIdInIdp": in_idp}])
    found = ok_data(sdk.get_user(user_id=f"{idp}:{in_idp}", user_id_type="identity", with_identities=True))
    assert found["userId"] == created["userId"]
    assert [(i["extIdpId"], i["userIdInIdp"]) for i in found["identities"]] == [(idp, in_idp)]


def test_linked_identity_is_listed_found_and_unlinked(live_server: LiveServer) -> None:
    sdk = genauth_client(live_server)
    user = create(sdk)
    idp, in_idp = f"idp{new_person()['username']}", "external-42"
    assert ok_data(sdk.link_identity(user_id_in_idp=in_idp, user_id=user["userId"], ext_idp_id=idp)) == \
        {"success": True}

    identities = ok_data(sdk.get_user_identities(user_id=user["username"], user_id_type="username"))
    assert [(i["extIdpId"], i["userIdInIdp"], i["type"]) for i in identities] == [(idp, in_idp, "generic")]
    found = ok_data(sdk.get_user(user_id=f"{idp}:{in_idp}", user_id_type="identity"))
    assert found["userId"] == user["userId"]

    assert ok_data(sdk.unlink_identity(user_id=user["userId"], ext_idp_id=idp)) == {"success": True}
    assert ok_data(sdk.get_user_identities(user_id=user["userId"])) == []
    gone = sdk.get_user(user_id=f"{idp}:{in_idp}", user_id_type="identity")
    assert assert_envelope(gone)["statusCode"] == 404


def test_user_is_found_by_sync_relation_set_through_the_extension(live_server: LiveServer) -> None:
    sdk = genauth_client(live_server)
    user = create(sdk)
    in_idp = f"ou_{user['username']}"
    ok_data(live_server.call("POST", "twofold/set-sync-relation",
                             json={"userId": user["userId"], "provider": "lark", "userIdInIdp": in_idp}))
    found = ok_data(sdk.get_user(user_id=f"lark:{in_idp}", user_id_type="sync_relation"))
    assert found["userId"] == user["userId"]


def test_list_users_finds_by_keywords_and_pages(live_server: LiveServer) -> None:
    sdk = genauth_client(live_server)
    stem = new_person("kw")["username"]
    ids = {create(sdk, username=f"{stem}x{i}")["userId"] for i in range(3)}

    first = ok_data(sdk.list_users(keywords=stem, options={"pagination": {"page": 1, "limit": 2}}))
    second = ok_data(sdk.list_users(keywords=stem, options={"pagination": {"page": 2, "limit": 2}}))
    assert first["totalCount"] == second["totalCount"] == 3
    assert len(first["list"]) == 2 and len(second["list"]) == 1
    assert {u["userId"] for u in first["list"] + second["list"]} == ids

    everything = ok_data(sdk.list_users())  # every argument None: the SDK still sends {}
    assert everything["totalCount"] >= 3 and len(everything["list"]) <= 10


def test_legacy_list_users_pages_newest_first(live_server: LiveServer) -> None:
    sdk = genauth_client(live_server)
    ids = [create(sdk)["userId"] for _ in range(3)]

    first = ok_data(sdk.list_users_legacy(page=1, limit=2))
    second = ok_data(sdk.list_users_legacy(page=2, limit=2))
    assert first["totalCount"] == second["totalCount"] >= 3
    assert len(first["list"]) == 2
    newest_three = [u["userId"] for u in first["list"]] + [second["list"][0]["userId"]]
    assert set(newest_three) == set(ids)
    assert "identities" not in first["list"][0]
    with_identities = ok_data(sdk.list_users_legacy(page=1, limit=1, with_identities=True))
    assert with_identities["list"][0]["identities"] == []


def test_get_user_batch_accepts_a_list_and_a_comma_joined_string(live_server: LiveServer) -> None:
    sdk = genauth_client(live_server)
    users = [create(sdk) for _ in range(2)]
    ids = [u["userId"] for u in users]

    as_list = ok_data(sdk.get_user_batch(user_ids=ids))  # userIds=a&userIds=b
    assert sorted(u["userId"] for u in as_list) == sorted(ids)
    emails = ",".join(u["email"] for u in users)  # userIds=a%2Cb
    as_string = ok_data(sdk.get_user_batch(user_ids=emails, user_id_type="email"))
    assert sorted(u["userId"] for u in as_string) == sorted(ids)
    with_identities = ok_data(sdk.get_user_batch(user_ids=ids[:1], with_identities=True))
    assert with_identities[0]["identities"] == []


def test_is_user_exists_and_delete_users_batch(live_server: LiveServer) -> None:
    sdk = genauth_client(live_server)
    user = create(sdk)
    assert ok_data(sdk.is_user_exists(username=user["username"])) == {"exists": True}
    assert ok_data(sdk.is_user_exists(email=user["email"].upper(), phone="13800000000")) == {"exists": True}
    assert ok_data(sdk.is_user_exists(external_id=f"missing-{user['externalId']}")) == {"exists": False}

    deleted = sdk.delete_users_batch(user_ids=[user["username"]], options={"userIdType": "username"})
    assert ok_data(deleted) == {"success": True}
    assert ok_data(sdk.is_user_exists(username=user["username"])) == {"exists": False}
    assert assert_envelope(sdk.get_user(user_id=user["userId"]))["statusCode"] == 404


def test_business_errors_are_envelopes_in_the_requested_language(live_server: LiveServer) -> None:
    english = genauth_client(live_server)  # lang unset: the SDK sends an empty x-genauth-lang header
    chinese = genauth_client(live_server, lang="zh-CN")
    unknown = f"missing-{new_person()['username']}"

    body = assert_envelope(english.get_user(user_id=unknown, user_id_type="username"))
    assert (body["statusCode"], body["data"]) == (404, None)
    assert body["message"] == "User does not exist"
    assert body["apiCode"] and body["requestId"]
    body = assert_envelope(chinese.get_user(user_id=unknown, user_id_type="username"))
    assert body["statusCode"] == 404 and "用户不存在" in body["message"]

    body = assert_envelope(chinese.get_user(user_id="test#x.com", user_id_type="email"))
    assert body["statusCode"] == 400 and "参数 userId 格式错误" in body["message"]
    body = assert_envelope(chinese.is_user_exists())
    assert body["statusCode"] == 400 and body["message"] == "参数 username, email, phone, externalId 格式错误"
    body = assert_envelope(chinese.delete_users_batch(user_ids=[]))
    assert body["statusCode"] == 400 and body["message"] == "参数 userIds 格式错误"
    body = assert_envelope(english.create_user())
    assert body["statusCode"] == 400
    assert body["message"] == "Must contain one of the following fields: username, phone, email"


def test_host_with_a_trailing_slash_and_non_ascii_values_work(live_server: LiveServer) -> None:
    """The SDK concatenates host and path (``//api/v3/...``) and escapes non-ASCII as ``\\uXXXX``."""
    sdk = genauth_client(live_server, host=live_server.base_url + "/")
    username = f"张三 {new_person()['username']}"
    created = ok_data(sdk.create_user(username=username, custom_data={"城市": "上海", "n": None}))
    found = ok_data(sdk.get_user(user_id=username, user_id_type="username", with_custom_data=True))
    assert found["userId"] == created["userId"]
    assert found["customData"] == {"城市": "上海", "n": None}


@pytest.mark.parametrize("credentials", ["wrong secret", "unknown key"])
def test_token_request_with_bad_credentials_raises(live_server: LiveServer, credentials: str) -> None:
    from genauth.GenAuthException import GenAuthException

    if credentials == "wrong secret":
        sdk = genauth_client(live_server, secret="not-the-secret-0123456789")
    else:
        sdk = genauth_client(live_server, key_id="unknownkey00000000000000")
    person = new_person("py")
    with pytest.raises(GenAuthException) as raised:
        sdk.create_user(username=person["username"])
    assert raised.value.statusCode == 401
    assert raised.value.message == "Authentication failed"
    assert live_server.user_count(person["username"]) == 0


def test_parameter_errors_use_genauth_wording(live_server: LiveServer) -> None:
    sdk = genauth_client(live_server, lang="zh-CN")
    user = create(sdk)
    person = new_person("py")
    calls = [
        (sdk.list_users(options={"pagination": {"page": 0}}), "参数 page 格式错误"),
        (sdk.list_users(options={"pagination": {"limit": 220}}), "limit must less than 50"),
        (sdk.list_users(advanced_filter=[{"field": "status", "operator": "EQUAL", "value": "invalid"}]),
         "参数 status 格式错误"),
        (sdk.list_users(advanced_filter=[{"field": "gender", "operator": "EQUAL", "value": "X"}]),
         "参数 gender 格式错误"),
        (sdk.list_users_legacy(limit=51), "limit must less than 50"),
        (sdk.get_user_login_history(user_id=user["userId"], limit=51), "limit must less than 50"),
        (sdk.create_user(phone_country_code="+86", email=person["email"]), "phone cannot be empty"),
        (sdk.create_user(email=person["email"], custom_data={"intro": "hello" * 205}),
         "customData must be less than 1024 characters"),
        (sdk.update_user(user_id=user["userId"], phone_country_code="+1", phone=""), "phone cannot be empty"),
    ]
    for body, message in calls:
        assert (assert_envelope(body)["statusCode"], body["message"]) == (400, message), body
    assert ok_data(sdk.is_user_exists(email=person["email"])) == {"exists": False}
    assert ok_data(sdk.get_user(user_id=user["userId"]))["phone"] == user["phone"]


def test_custom_fields_and_user_dto_round_trip(live_server: LiveServer) -> None:
    sdk = genauth_client(live_server)
    tag = new_person()["username"]
    level, joined = f"level_{tag}", f"joined_{tag}"
    saved = ok_data(sdk.set_custom_fields(list=[
        {"targetType": "USER", "dataType": "NUMBER", "key": level, "label": "Level"},
        {"targetType": "USER", "dataType": "DATETIME", "key": joined, "label": "Joined"},
    ]))
    assert [(f["key"], f["dataType"]) for f in saved] == [(level, "NUMBER"), (joined, "DATETIME")]
    listed = {f["key"]: f for f in ok_data(sdk.get_custom_fields(target_type="USER"))}
    assert listed[level]["label"] == "Level" and listed[joined]["dataType"] == "DATETIME"

    person = new_person("py")
    created = ok_data(sdk.create_user(username=person["username"], custom_data={level: 3, joined: 1717200000000}))
    assert created["customData"] == {level: 3, joined: 1717200000000}
    assert created["lastLogin"] is None and created["lastIp"] is None and created["tenantId"] is None
    ok_data(sdk.update_user(user_id=created["userId"], custom_data={level: 4}))
    ok_data(sdk.set_custom_data(list=[{"key": joined, "value": "2024-06-01T00:00:00Z"}],
                                target_identifier=created["userId"], target_type="USER"))
    found = ok_data(sdk.get_user(user_id=created["userId"], with_custom_data=True))
    assert found["customData"] == {level: 4, joined: "2024-06-01T00:00:00Z"}
    assert ok_data(sdk.get_custom_data(tenant_id=None, target_type="USER",
                                       target_identifier=created["userId"])) == found["customData"]
    body = assert_envelope(sdk.update_user(user_id=created["userId"], custom_data={level: "high"}))
    assert body["statusCode"] == 400 and body["message"].startswith(f"Invalid parameter customData.{level}"), body
    again = ok_data(sdk.get_user(user_id=created["userId"], with_custom_data=True))
    assert again["customData"] == found["customData"]
