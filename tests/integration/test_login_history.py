"""Login history (docs/signin.md#login-history) and ``/mfa/token/introspection``
(docs/signin.md#mfa-token-introspection), in-process on both databases.

The contract tests with the real SDKs are in tests/compat/test_login_history_sdks.py.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pyotp
import pytest

from tests.conftest import Api
from tests.integration.test_signin import PASSWORD, FakeClock, make_app, make_user, sign_in
from twofold.api.app import create_app
from twofold.config import Settings
from twofold.services.container import Services, bootstrap, build_services

OTP_ONLY = {"mfaToken": "-", "applicationMfa": [{"mfaPolicy": "OTP", "status": 1, "sort": 0}], "totpMfaEnabled": True}


async def otp_user(api: Api) -> tuple[dict[str, Any], pyotp.TOTP]:
    """A user with a password and a bound authenticator, whose MFA status requires OTP."""
    user = await make_user(api)
    secret = pyotp.random_base32(32)
    await api.ok("POST", "import-otp", {"list": [{"userId": user["userId"], "otp": {"secret": secret}}]})
    await api.ok("POST", "set-mfa-status", {"userId": user["userId"], "mfaTriggerData": OTP_ONLY})
    return user, pyotp.TOTP(secret)


async def history(api: Api, user: dict[str, Any], **params: Any) -> dict[str, Any]:
    page: dict[str, Any] = await api.ok("GET", "get-user-login-history", {"userId": user["userId"], **params})
    return page


async def mine(client: httpx.AsyncClient, access_token: str, **params: Any) -> dict[str, Any]:
    response = await client.get("/api/v3/get-my-login-history", params=params, headers={"authorization": access_token})
    assert response.status_code == 200
    body: dict[str, Any] = response.json()
    return body


async def verify(client: httpx.AsyncClient, token: str, code: str, agent: str) -> dict[str, Any]:
    response = await client.post(
        "/api/v3/mfa-totp-verify", json={"totp": code}, headers={"authorization": token, "user-agent": agent}
    )
    body: dict[str, Any] = response.json()
    return body


async def test_every_sign_in_outcome_is_recorded_newest_first(api: Api, client: httpx.AsyncClient) -> None:
    app = await make_app(api)
    user, totp = await otp_user(api)
    await api.ok("POST", "set-mfa-status", {"userId": user["userId"], "mfaTriggerData": {
        "mfaToken": "-", "applicationMfa": [], "totpMfaEnabled": True}})  # fmt: skip
    failed = await sign_in(client, app, {"email": user["email"], "password": "wrong"}, headers={"user-agent": "ua/1"})
    assert failed["statusCode"] == 401
    assert (await sign_in(client, app, {"email": user["email"]}, headers={"user-agent": "ua/2"}))["statusCode"] == 200
    await api.ok("POST", "set-mfa-status", {"userId": user["userId"], "mfaTriggerData": OTP_ONLY})
    challenge = await sign_in(client, app, {"email": user["email"]}, headers={"user-agent": "ua/3"})
    assert challenge["apiCode"] == 1636
    done = await verify(client, challenge["data"]["mfaToken"], totp.now(), "ua/4")
    assert done["data"]["verified"] is True, done

    page = await history(api, user)
    assert page["totalCount"] == 4
    entries = page["list"]
    assert [(e["userAgent"], e["outcome"], e["success"], e["factor"]) for e in entries] == [
        ("ua/4", "success", True, "OTP"),
        ("ua/3", "mfa_challenge", False, None),
        ("ua/2", "success", True, None),
        ("ua/1", "failure", False, None),
    ]
    assert [e["errorMessage"] for e in entries] == [None, None, None, "wrong password"]
    for entry in entries:
        assert (entry["appId"], entry["appName"], entry["userId"]) == (app["appId"], "Sign-in app", user["userId"])
        assert entry["clientIp"] == "127.0.0.1" and entry["loginMethod"] == "PASSWORD"
        assert entry["time"] == entry["loginAt"] and entry["time"].endswith("Z")
    times = [e["time"] for e in entries]
    assert times == sorted(times, reverse=True)
    # nothing secret in the history: not the password, the code, nor either token
    text = str(entries)
    access = done["data"]["tokenSet"]["access_token"]
    for secret in (PASSWORD, challenge["data"]["mfaToken"], access):
        assert secret not in text


async def test_filters_and_pages(api: Api, client: httpx.AsyncClient) -> None:
    first, second = await make_app(api), await make_app(api, appName="Second app")
    user = await make_user(api)
    for app, password in ((first, PASSWORD), (second, PASSWORD), (second, "wrong"), (first, "wrong")):
        await sign_in(client, app, {"email": user["email"], "password": password})
    assert (await history(api, user))["totalCount"] == 4
    by_app = await history(api, user, appId=second["appId"])
    assert by_app["totalCount"] == 2 and {e["appName"] for e in by_app["list"]} == {"Second app"}
    assert (await history(api, user, clientIp="10.0.0.1"))["totalCount"] == 0
    one = await history(api, user, page=2, limit=1)
    assert (one["totalCount"], len(one["list"])) == (4, 1)
    everything = (await history(api, user))["list"]
    assert one["list"][0] == everything[1]
    newest_ms = _ms(everything[0]["time"])
    assert (await history(api, user, start=newest_ms + 1))["totalCount"] == 0
    assert (await history(api, user, end=newest_ms))["totalCount"] == 4
    # another user's history is their own
    other = await make_user(api)
    assert await history(api, other) == {"list": [], "totalCount": 0}
    unknown = await api.get("get-user-login-history", userId="0" * 24)
    assert (unknown["statusCode"], unknown["apiCode"]) == (404, 40401)


def _ms(iso: str) -> int:
    from datetime import datetime

    return int(datetime.fromisoformat(iso.replace("Z", "+00:00")).timestamp() * 1000)


async def test_my_login_history_needs_the_users_own_access_token(api: Api, client: httpx.AsyncClient) -> None:
    app, user, other = await make_app(api), await make_user(api), await make_user(api)
    await sign_in(client, app, {"email": other["email"]})
    await sign_in(client, app, {"email": user["email"], "password": "wrong"})
    access = (await sign_in(client, app, {"email": user["email"]}))["data"]["access_token"]
    body = await mine(client, f"Bearer {access}")
    assert body["statusCode"] == 200, body
    assert body["data"]["totalCount"] == 2
    assert {e["userId"] for e in body["data"]["list"]} == {user["userId"]}
    # requests sends True as "True", axios as "true"
    for success, count in (("True", 1), ("true", 1), ("false", 1), ("False", 1)):
        assert (await mine(client, access, success=success))["data"]["totalCount"] == count
    assert (await mine(client, access, appId="0" * 24))["data"]["totalCount"] == 0
    for token in ("", "not-a-token"):
        refused = await mine(client, token)
        assert (refused["statusCode"], refused["apiCode"]) == (401, 40111), refused
    too_big = await mine(client, access, limit=51)
    assert too_big["statusCode"] == 400


async def test_an_unknown_account_has_no_history_and_long_agents_are_cut(api: Api, client: httpx.AsyncClient) -> None:
    app, user = await make_app(api), await make_user(api)
    await sign_in(client, app, {"email": "nobody-here@example.com"})
    await sign_in(client, app, {"email": user["email"]}, headers={"user-agent": "x" * 5000})
    [entry] = (await history(api, user))["list"]
    assert entry["userAgent"] == "x" * 512


# ------------------------------------------------------------------------------ mfaToken introspection
async def _challenge(api: Api, client: httpx.AsyncClient) -> tuple[str, dict[str, Any], pyotp.TOTP]:
    app = await make_app(api)
    user, totp = await otp_user(api)
    body = await sign_in(client, app, {"email": user["email"]})
    assert body["apiCode"] == 1636, body
    token: str = body["data"]["mfaToken"]
    return token, user, totp


async def _introspect(client: httpx.AsyncClient, **kwargs: Any) -> dict[str, Any]:
    response = await client.post("/mfa/token/introspection", **kwargs)
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    body: dict[str, Any] = response.json()
    return body


async def test_introspection_finds_the_token_wherever_it_is_sent(
    api: Api, client: httpx.AsyncClient, services: Services
) -> None:
    token, user, _ = await _challenge(api, client)
    pool = (await services.keys.ensure_default_pool())[0].id
    answers = [
        await _introspect(client, data={"token": token}),
        await _introspect(client, json={"token": token}),
        await _introspect(client, params={"token": token}),
        await _introspect(client, headers={"authorization": token}),
        await _introspect(client, headers={"authorization": f"Bearer {token}"}),
    ]
    for answer in answers:
        assert set(answer) == {"active", "userPoolId", "userId", "exp", "iat"}  # bare: no envelope
        assert (answer["active"], answer["userId"], answer["userPoolId"]) == (True, user["userId"], pool)
        assert answer["exp"] - answer["iat"] == 300


@pytest.mark.parametrize("kwargs", [
    {},
    {"content": b"\xff\xfe", "headers": {"content-type": "application/x-www-form-urlencoded"}},
    {"content": b"{not json", "headers": {"content-type": "application/json"}},
    {"json": ["token"]},
    {"json": {"token": 12}},
    {"data": {"token": "not-a-token"}},
    {"headers": {"authorization": "Bearer " + "a" * 5000}},
])  # fmt: skip
async def test_introspection_without_a_live_token_is_inactive(client: httpx.AsyncClient, kwargs: dict[str, Any]) -> None:
    assert await _introspect(client, **kwargs) == {"active": False}


async def test_a_spent_mfa_token_or_an_access_token_is_inactive(api: Api, client: httpx.AsyncClient) -> None:
    token, _, totp = await _challenge(api, client)
    done = await verify(client, token, totp.now(), "ua")
    assert done["data"]["verified"] is True, done
    assert await _introspect(client, data={"token": token}) == {"active": False}
    access = done["data"]["tokenSet"]["access_token"]
    assert await _introspect(client, data={"token": access}) == {"active": False}


@pytest.fixture
async def timed(settings: Settings) -> AsyncIterator[tuple[httpx.AsyncClient, FakeClock]]:
    clock = FakeClock()
    built: Services = await build_services(settings, clock)
    await bootstrap(built, settings)
    try:
        transport = httpx.ASGITransport(app=create_app(settings, built))
        async with httpx.AsyncClient(transport=transport, base_url="http://twofold.test") as http:
            yield http, clock
    finally:
        await built.close()


async def test_an_expired_mfa_token_is_inactive(timed: tuple[httpx.AsyncClient, FakeClock]) -> None:
    client, clock = timed
    token, _, _ = await _challenge(await Api(client).login(), client)
    clock.now += 299_000
    assert (await _introspect(client, data={"token": token}))["active"] is True
    clock.now += 1_000
    assert await _introspect(client, data={"token": token}) == {"active": False}


async def test_the_history_goes_with_the_user(api: Api, client: httpx.AsyncClient, services: Services) -> None:
    app, user, other = await make_app(api), await make_user(api), await make_user(api)
    await sign_in(client, app, {"email": user["email"]})
    await sign_in(client, app, {"email": other["email"]})
    await api.ok("POST", "delete-users-batch", {"userIds": [user["userId"]]})
    async with services.db.read() as conn:
        left = await conn.fetch_all("SELECT user_id FROM login_history")
    assert [r["user_id"] for r in left] == [other["userId"]]
