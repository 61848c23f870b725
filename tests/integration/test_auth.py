"""Management authentication: tokens, signatures, replay, revocation, uniform failures."""

from __future__ import annotations

import asyncio
from email.utils import formatdate

import httpx
import pytest

from tests.conftest import BOOTSTRAP_KEY_ID, BOOTSTRAP_SECRET, Api
from tests.factories import user_payload
from tests.hmac_auth import NodeStyleSigner
from twofold.config import Settings
from twofold.errors import AuthenticationFailed
from twofold.services.container import Services, build_services


async def signed(client: httpx.AsyncClient, signer: httpx.Auth, method: str, path: str, **kw: object) -> dict:
    response = await client.request(method, f"/api/v3/{path}", auth=signer, **kw)  # type: ignore[arg-type]
    assert response.status_code == 200
    return response.json()


async def test_token_then_bearer_call_succeeds(api: Api) -> None:
    data = await api.ok("POST", "create-user", user_payload())
    assert data["status"] == "Activated"


async def test_token_response_shape(api: Api) -> None:
    body = await Api(api.client).raw(
        "POST",
        "/api/v3/get-management-token",
        auth=False,
        json={"accessKeyId": BOOTSTRAP_KEY_ID, "accessKeySecret": BOOTSTRAP_SECRET},
    )
    assert isinstance(body["data"]["expires_in"], int) and body["data"]["access_token"].count(".") == 2


@pytest.mark.parametrize("secret", ["wrong-secret", "", None])
async def test_wrong_secret_gets_uniform_401(api: Api, secret: object) -> None:
    body = await Api(api.client).raw(
        "POST",
        "/api/v3/get-management-token",
        auth=False,
        json={"accessKeyId": BOOTSTRAP_KEY_ID, "accessKeySecret": secret},
    )
    assert (body["statusCode"], body["apiCode"]) == (401, AuthenticationFailed.api_code)
    assert body["data"] is None


async def test_unknown_key_and_wrong_secret_look_the_same(api: Api) -> None:
    anon = Api(api.client)
    a = await anon.raw(
        "POST",
        "/api/v3/get-management-token",
        auth=False,
        json={"accessKeyId": "nope", "accessKeySecret": "x"},
    )
    b = await anon.raw(
        "POST",
        "/api/v3/get-management-token",
        auth=False,
        json={"accessKeyId": BOOTSTRAP_KEY_ID, "accessKeySecret": "x"},
    )
    assert (a["statusCode"], a["apiCode"], a["message"]) == (b["statusCode"], b["apiCode"], b["message"])


async def test_missing_or_garbage_bearer_is_refused(api: Api) -> None:
    for headers in ({}, {"authorization": "Bearer abc.def.ghi"}, {"authorization": "Basic eDp5"}):
        body = await Api(api.client).raw(
            "GET", "/api/v3/get-user", auth=False, params={"userId": "x"}, headers=headers
        )
        assert body["statusCode"] == 401


async def test_pool_header_must_match_token(api: Api) -> None:
    body = await api.raw(
        "GET", "/api/v3/get-user", params={"userId": "x"}, headers={"x-genauth-userpool-id": "another-pool"}
    )
    assert body["statusCode"] == 401
    body = await api.raw(
        "GET", "/api/v3/get-user", params={"userId": "x"}, headers={"x-authing-userpool-id": "another-pool"}
    )
    assert body["statusCode"] == 401


async def test_revoked_key_fails_at_once_for_tokens(api: Api, services: Services) -> None:
    pool, _ = await services.keys.ensure_default_pool()
    key = await services.keys.create_key(pool.id, "temp")
    temp = await Api(api.client).login(key.id, key.secret)
    assert (await temp.get("get-user", userId="nobody"))["statusCode"] == 404
    await services.keys.revoke_key(key.id)
    assert (await temp.get("get-user", userId="nobody"))["statusCode"] == 401


async def test_signed_request_succeeds(client: httpx.AsyncClient) -> None:
    body = await signed(
        client,
        NodeStyleSigner(BOOTSTRAP_KEY_ID, BOOTSTRAP_SECRET),
        "POST",
        "create-user",
        json=user_payload(username="signed1"),
    )
    assert body["statusCode"] == 200, body
    body = await signed(
        client,
        NodeStyleSigner(BOOTSTRAP_KEY_ID, BOOTSTRAP_SECRET),
        "GET",
        "get-user",
        params={"userId": "signed1", "userIdType": "username"},
    )
    assert body["data"]["username"] == "signed1"


async def test_signed_request_with_wrong_secret_changes_nothing(client: httpx.AsyncClient, api: Api) -> None:
    body = await signed(
        client,
        NodeStyleSigner(BOOTSTRAP_KEY_ID, "not-the-secret"),
        "POST",
        "create-user",
        json=user_payload(username="evil"),
    )
    assert body["statusCode"] == 401
    assert (await api.ok("POST", "is-user-exists", {"username": "evil"}))["exists"] is False


async def test_replayed_nonce_is_rejected(client: httpx.AsyncClient, api: Api) -> None:
    signer = NodeStyleSigner(
        BOOTSTRAP_KEY_ID,
        BOOTSTRAP_SECRET,
        nonce="0123456789abcdef0123456789abcdef",
        date=formatdate(usegmt=True),
    )
    first = await signed(client, signer, "POST", "create-user", json=user_payload(username="once"))
    assert first["statusCode"] == 200
    again = await signed(client, signer, "POST", "create-user", json=user_payload(username="twice"))
    assert again["statusCode"] == 401
    assert (await api.ok("POST", "is-user-exists", {"username": "twice"}))["exists"] is False


async def test_stale_date_is_rejected(client: httpx.AsyncClient) -> None:
    stale = NodeStyleSigner(BOOTSTRAP_KEY_ID, BOOTSTRAP_SECRET, date="Tue, 01 Oct 2024 08:00:00 GMT")
    body = await signed(client, stale, "GET", "get-user", params={"userId": "x"})
    assert body["statusCode"] == 401


async def test_revoked_key_fails_at_once_for_signatures(
    client: httpx.AsyncClient, services: Services
) -> None:
    pool, _ = await services.keys.ensure_default_pool()
    key = await services.keys.create_key(pool.id, "temp")
    body = await signed(
        client, NodeStyleSigner(key.id, key.secret), "GET", "get-user", params={"userId": "x"}
    )
    assert body["statusCode"] == 404
    await services.keys.revoke_key(key.id)
    body = await signed(
        client, NodeStyleSigner(key.id, key.secret), "GET", "get-user", params={"userId": "x"}
    )
    assert body["statusCode"] == 401


async def test_key_of_one_pool_cannot_see_another_pool(
    client: httpx.AsyncClient, api: Api, services: Services
) -> None:
    from twofold.services.context import new_id
    from twofold.storage.repositories import pools as pools_repo
    from twofold.storage.repositories.pools import PoolRecord

    created = await api.ok("POST", "create-user", user_payload(username="pool1user"))
    async with services.db.transaction() as conn:
        other = PoolRecord(new_id(), "other", [], 0)
        await pools_repo.insert(conn, other)
    key = await services.keys.create_key(other.id)
    stranger = await Api(client).login(key.id, key.secret)
    assert (await stranger.get("get-user", userId=created["userId"]))["statusCode"] == 404


async def test_a_revocation_in_another_process_reaches_a_server_that_remembers_the_key(
    settings: Settings, services: Services
) -> None:
    """The server remembers keys between requests where the database announces changes (PostgreSQL
    NOTIFY) and looks them up per request where it cannot (SQLite); either way the revocation wins."""
    pool, _ = await services.keys.ensure_default_pool()
    key = await services.keys.create_key(pool.id, "temp")
    server = await build_services(settings)  # the serving process; `services` plays the CLI
    try:
        await server.keys.watch_for_changes()
        assert server.keys.told_of_changes == settings.resolved_database_url.startswith("postgresql")
        token = (await server.keys.issue_token(key.id, key.secret)).access_token
        for _ in range(3):  # remembered now (on PostgreSQL: no lookup on these)
            assert (await server.keys.authenticate_bearer(token, {})).access_key_id == key.id
        await services.keys.revoke_key(key.id)
        refused = False
        for _ in range(200):  # a NOTIFY arrives within milliseconds of the commit
            try:
                await server.keys.authenticate_bearer(token, {})
            except AuthenticationFailed:
                refused = True
                break
            await asyncio.sleep(0.01)
        assert refused
    finally:
        await server.close()
