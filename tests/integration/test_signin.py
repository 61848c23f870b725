"""Password sign-in, client authentication, mfaTokens and token rotation, in-process on both databases.

docs/signin.md describes the behaviour; the contract tests with the real genauth SDK over HTTP are in
tests/compat/test_signin_genauth_python_sdk.py.
"""

from __future__ import annotations

import asyncio
import base64
from collections.abc import AsyncIterator
from typing import Any

import httpx
import jwt
import pytest

from tests.conftest import Api
from tests.factories import user_payload
from twofold.api.app import create_app
from twofold.config import Settings
from twofold.errors import MfaTokenInvalid
from twofold.services.container import Services, bootstrap, build_services
from twofold.services.context import system_clock
from twofold.services.signin import RequestFacts

PASSWORD = "correct horse battery staple"  # noqa: S105 - a test password

OTP_REQUIRED = {"mfaTriggerData": {"mfaToken": "-", "applicationMfa": [
    {"mfaPolicy": "EMAIL", "status": 0, "sort": 0},
    {"mfaPolicy": "OTP", "status": 1, "sort": 2},
    {"mfaPolicy": "SMS", "status": 1, "sort": 1},
]}}  # fmt: skip


class FakeClock:
    """Starts at the real time (PyJWT checks ``iat`` of management tokens against it), then moves only when told."""

    def __init__(self) -> None:
        self.now = system_clock()

    def __call__(self) -> int:
        return self.now


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
async def timed_services(settings: Settings, clock: FakeClock) -> AsyncIterator[Services]:
    built = await build_services(settings, clock)
    await bootstrap(built, settings)
    try:
        yield built
    finally:
        await built.close()


@pytest.fixture
async def timed_client(settings: Settings, timed_services: Services) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=create_app(settings, timed_services))
    async with httpx.AsyncClient(transport=transport, base_url="http://twofold.test") as http:
        yield http


async def make_app(api: Api, **extra: Any) -> dict[str, Any]:
    """An application offering every factor (a pool offers none until told)."""
    app: dict[str, Any] = await api.ok("POST", "create-application", {"appName": "Sign-in app", **extra})
    await api.ok("POST", "update-application-mfa-settings", {"appId": app["appId"], "enabledFactors": ["OTP", "SMS", "EMAIL"]})
    return app


async def make_user(api: Api, **extra: Any) -> dict[str, Any]:
    user: dict[str, Any] = await api.ok("POST", "create-user", user_payload(password=PASSWORD, **extra))
    return user


async def sign_in(
    client: httpx.AsyncClient, app: dict[str, Any], payload: dict[str, Any], secret: str | None = "", **kw: Any
) -> dict[str, Any]:
    body: dict[str, Any] = {"connection": "PASSWORD", "passwordPayload": {"password": PASSWORD, **payload}}
    if secret is not None:
        body.update(client_id=app["appId"], client_secret=secret or app["appSecret"])
    headers = {"x-genauth-app-id": app["appId"], **kw.pop("headers", {})}
    response = await client.post("/api/v3/signin", json=body, headers=headers, **kw)
    assert response.status_code == 200
    result: dict[str, Any] = response.json()
    return result


async def test_create_application_shows_a_secret_once(api: Api) -> None:
    app = await make_app(api)
    assert len(app["appSecret"]) == 64
    again = await api.ok("GET", "get-application", {"appId": app["appId"]})
    assert "appSecret" not in again


async def test_email_password_sign_in_gives_a_token_set_and_the_profile(api: Api, client: httpx.AsyncClient) -> None:
    app, user = await make_app(api), await make_user(api)
    body = await sign_in(client, app, {"email": user["email"].upper()})
    assert body["statusCode"] == 200, body
    tokens = body["data"]
    assert set(tokens) == {"access_token", "id_token", "refresh_token", "token_type", "expire_in", "scope"}
    assert tokens["token_type"] == "Bearer" and tokens["expire_in"] == 3600
    assert tokens["scope"].split()[0] == "openid"
    for bare in (tokens["access_token"], f"Bearer {tokens['access_token']}"):
        profile = (await client.get("/api/v3/get-profile", headers={"authorization": bare})).json()
        assert profile["statusCode"] == 200, profile
        assert profile["data"]["userId"] == user["userId"]
        assert profile["data"]["email"] == user["email"]


@pytest.mark.parametrize("field", ["username", "phone", "account"])
async def test_every_identifier_signs_in(api: Api, client: httpx.AsyncClient, field: str) -> None:
    app, user = await make_app(api), await make_user(api)
    value = user["username"] if field in ("username", "account") else user["phone"]
    body = await sign_in(client, app, {field: value})
    assert body["statusCode"] == 200, body


async def test_failures_look_identical(api: Api, client: httpx.AsyncClient) -> None:
    app, user = await make_app(api), await make_user(api)
    other = await make_app(api)
    refusals = [
        await sign_in(client, app, {"email": user["email"]}, secret="0" * 64),  # wrong secret
        await sign_in(client, app, {"email": user["email"]}, secret=None),  # missing secret
        await sign_in(client, app, {"email": user["email"], "password": "wrong"}),  # wrong password
        await sign_in(client, app, {"email": "nobody@example.com"}),  # unknown user
        await sign_in(client, app, {"email": user["email"]}, secret=other["appSecret"]),  # another app's secret
    ]
    shapes = {(r["statusCode"], r["apiCode"], r["message"], r["data"]) for r in refusals}
    assert shapes == {(401, 40110, "Incorrect account or password", None)}
    events = await api.ok("GET", "twofold/list-audit-events", {"action": "signin.failure"})
    reasons = {e["after"]["reason"] for e in events}
    assert {e["actor"] for e in events} == {f"app:{app['appId']}"}
    assert {"wrong client secret", "missing client secret", "wrong password", "no such account"} <= reasons


async def test_basic_header_and_public_apps(api: Api, client: httpx.AsyncClient) -> None:
    app, user = await make_app(api), await make_user(api)
    basic = base64.b64encode(f"{app['appId']}:{app['appSecret']}".encode()).decode()
    body = await sign_in(client, app, {"email": user["email"]}, secret=None, headers={"authorization": f"Basic {basic}"})
    assert body["statusCode"] == 200, body
    # a stale bearer token in authorization is ignored, the body credentials count
    body = await sign_in(client, app, {"email": user["email"]}, headers={"authorization": "stale-token"})
    assert body["statusCode"] == 200, body
    assert (await sign_in(client, app, {"email": user["email"]}, secret=None))["statusCode"] == 401
    changed = await api.ok(
        "POST", "twofold/set-application-auth-method", {"appId": app["appId"], "tokenEndpointAuthMethod": "none"}
    )
    assert changed["tokenEndpointAuthMethod"] == "none"
    response = await client.post(
        "/api/v3/signin",
        json={"connection": "PASSWORD", "passwordPayload": {"email": user["email"], "password": PASSWORD}},
        headers={"x-authing-app-id": app["appId"]},
    )
    assert response.json()["statusCode"] == 200, response.json()


async def test_rotated_secret_replaces_the_old_one(api: Api, client: httpx.AsyncClient) -> None:
    app, user = await make_app(api), await make_user(api)
    rotated = await api.ok("POST", "twofold/rotate-application-secret", {"appId": app["appId"]})
    assert rotated["appSecret"] != app["appSecret"]
    assert (await sign_in(client, app, {"email": user["email"]}))["statusCode"] == 401
    assert (await sign_in(client, app, {"email": user["email"]}, secret=rotated["appSecret"]))["statusCode"] == 200
    events = await api.ok("GET", "twofold/list-audit-events", {"action": "application.secret.rotate"})
    assert events[0]["after"] == {"appId": app["appId"]}
    unknown = await api.post("twofold/rotate-application-secret", {"appId": "0" * 24})
    assert unknown["apiCode"] == 40402


async def test_unsupported_connection_and_encrypted_passwords_are_400(api: Api, client: httpx.AsyncClient) -> None:
    app = await make_app(api)
    body = (await client.post("/api/v3/signin", json={"connection": "LDAP"}, headers={"x-genauth-app-id": app["appId"]})).json()
    assert (body["statusCode"], body["apiCode"]) == (400, 40040)
    two = await sign_in(client, app, {"email": "a@example.com", "username": "a"})
    assert (two["statusCode"], two["apiCode"]) == (400, 40001) and "passwordPayload" in two["message"]


async def test_mfa_required_gives_no_token_but_a_challenge(
    api: Api, client: httpx.AsyncClient, services: Services
) -> None:
    app, user = await make_app(api), await make_user(api)
    await api.ok("POST", "set-mfa-status", {"userId": user["userId"], **OTP_REQUIRED})
    body = await sign_in(client, app, {"email": user["email"]})
    assert (body["statusCode"], body["apiCode"], body["code"]) == (302, 1636, 1636), body
    data = body["data"]
    assert "access_token" not in data and "refresh_token" not in data
    assert [p["mfaPolicy"] for p in data["applicationMfa"]] == ["SMS", "OTP"]  # enabled only, by sort
    assert data["email"] == user["email"] and data["username"] == user["username"]
    assert data["totpMfaEnabled"] is False
    ticket = await services.mfa_tickets.verify_mfa_token(data["mfaToken"])
    assert (ticket.user_id, ticket.app_id, ticket.expires_at - ticket.issued_at) == (user["userId"], app["appId"], 300)
    profile = (await client.get("/api/v3/get-profile", headers={"authorization": data["mfaToken"]})).json()
    assert profile["statusCode"] == 401  # an mfaToken is no access token
    events = await api.ok("GET", "twofold/list-audit-events", {"action": "signin.mfa.challenge"})
    assert events[0]["after"]["factors"] == ["SMS", "OTP"]


async def _challenge(api: Api, client: httpx.AsyncClient) -> str:
    app, user = await make_app(api), await make_user(api)
    await api.ok("POST", "set-mfa-status", {"userId": user["userId"], **OTP_REQUIRED})
    token: str = (await sign_in(client, app, {"email": user["email"]}))["data"]["mfaToken"]
    return token


async def test_an_mfa_token_is_spent_once_even_by_20_concurrent_consumers(
    api: Api, client: httpx.AsyncClient, services: Services, settings: Settings
) -> None:
    token = await _challenge(api, client)
    other = await build_services(settings)  # a second "process": its own connections to the same database
    try:
        attempts = [s.mfa_tickets.consume_mfa_token(token) for s in (services, other) for _ in range(10)]
        results = await asyncio.gather(*attempts, return_exceptions=True)
    finally:
        await other.close()
    won = [r for r in results if not isinstance(r, BaseException)]
    assert len(won) == 1
    assert all(isinstance(r, MfaTokenInvalid) for r in results if r not in won)
    with pytest.raises(MfaTokenInvalid):
        await services.mfa_tickets.verify_mfa_token(token)  # spent: not even enrolment may use it


async def test_an_expired_mfa_token_is_refused(
    api: Api, timed_client: httpx.AsyncClient, timed_services: Services, clock: FakeClock
) -> None:
    token = await _challenge(await Api(timed_client).login(), timed_client)
    clock.now += 299_000
    assert (await timed_services.mfa_tickets.verify_mfa_token(token)).jti
    clock.now += 1_000
    for attempt in (timed_services.mfa_tickets.verify_mfa_token, timed_services.mfa_tickets.consume_mfa_token):
        with pytest.raises(MfaTokenInvalid):
            await attempt(token)


async def test_a_forged_mfa_token_is_refused(api: Api, client: httpx.AsyncClient, services: Services) -> None:
    token = await _challenge(api, client)
    claims = jwt.decode(token, options={"verify_signature": False})
    forged = jwt.encode(claims, "not-the-key-0123456789abcdef0123", algorithm="HS256")
    with pytest.raises(MfaTokenInvalid):
        await services.mfa_tickets.consume_mfa_token(forged)


async def _form(client: httpx.AsyncClient, path: str, app: dict[str, Any], **fields: str) -> httpx.Response:
    data = {"client_id": app["appId"], "client_secret": app["appSecret"], **fields}
    return await client.post(f"/oidc/{path}", data=data)


async def test_refresh_rotates_and_a_reused_token_revokes_the_sign_in(api: Api, client: httpx.AsyncClient) -> None:
    app, user = await make_app(api), await make_user(api)
    first = (await sign_in(client, app, {"email": user["email"]}))["data"]
    response = await _form(client, "token", app, grant_type="refresh_token", refresh_token=first["refresh_token"])
    assert response.status_code == 200, response.text
    second = response.json()
    assert second["refresh_token"] != first["refresh_token"] and second["expires_in"] == 3600
    reused = await _form(client, "token", app, grant_type="refresh_token", refresh_token=first["refresh_token"])
    assert (reused.status_code, reused.json()["error"]) == (400, "invalid_grant")
    # the reuse revoked the family: the rotated refresh token and both access tokens are dead
    after = await _form(client, "token", app, grant_type="refresh_token", refresh_token=second["refresh_token"])
    assert after.json()["error"] == "invalid_grant"
    for access in (first["access_token"], second["access_token"]):
        profile = (await client.get("/api/v3/get-profile", headers={"authorization": access})).json()
        assert (profile["statusCode"], profile["apiCode"]) == (401, 40111)


async def test_token_endpoint_client_authentication(api: Api, client: httpx.AsyncClient) -> None:
    app, user = await make_app(api), await make_user(api)
    tokens = (await sign_in(client, app, {"email": user["email"]}))["data"]
    wrong = await client.post(
        "/oidc/token",
        data={"client_id": app["appId"], "client_secret": "x", "grant_type": "refresh_token",
              "refresh_token": tokens["refresh_token"]},
    )  # fmt: skip
    assert (wrong.status_code, wrong.json()["error"]) == (401, "invalid_client")
    other = await make_app(api)
    foreign = await _form(client, "token", other, grant_type="refresh_token", refresh_token=tokens["refresh_token"])
    assert foreign.json()["error"] == "invalid_grant"
    grant = await _form(client, "token", app, grant_type="password")
    assert grant.json()["error"] == "unsupported_grant_type"
    # the refused attempts did not spend the token
    ok = await _form(client, "token", app, grant_type="refresh_token", refresh_token=tokens["refresh_token"])
    assert ok.status_code == 200, ok.text


async def test_introspection_and_revocation(api: Api, client: httpx.AsyncClient) -> None:
    app, user = await make_app(api), await make_user(api)
    tokens = (await sign_in(client, app, {"email": user["email"]}))["data"]
    access = (await _form(client, "token/introspection", app, token=tokens["access_token"])).json()
    assert access["active"] is True and access["sub"] == user["userId"] and access["client_id"] == app["appId"]
    refresh = (await _form(client, "token/introspection", app, token=tokens["refresh_token"])).json()
    assert refresh["active"] is True and refresh["token_type"] == "refresh_token"
    assert (await _form(client, "token/introspection", app, token="garbage")).json() == {"active": False}
    other = await make_app(api)
    assert (await _form(client, "token/introspection", other, token=tokens["access_token"])).json() == {"active": False}
    revoked = await _form(client, "token/revocation", app, token=tokens["refresh_token"])
    assert revoked.status_code == 200
    assert (await _form(client, "token/introspection", app, token=tokens["access_token"])).json() == {"active": False}


async def test_discovery_and_jwks(api: Api, client: httpx.AsyncClient, settings: Settings) -> None:
    config = (await client.get("/oidc/.well-known/openid-configuration")).json()
    assert config["issuer"] == settings.resolved_issuer
    jwks = (await client.get("/oidc/.well-known/jwks.json")).json()
    assert [k["alg"] for k in jwks["keys"]] == ["RS256"] and "d" not in jwks["keys"][0]
    app, user = await make_app(api), await make_user(api)
    tokens = (await sign_in(client, app, {"email": user["email"]}))["data"]
    key = jwt.PyJWK(jwks["keys"][0])
    claims = jwt.decode(tokens["id_token"], key, algorithms=["RS256"], audience=app["appId"], issuer=config["issuer"])
    assert claims["sub"] == user["userId"] and claims["amr"] == ["pwd"]
    assert jwt.get_unverified_header(tokens["access_token"])["typ"] == "at+jwt"


async def test_phone_with_its_country_code_signs_in(api: Api, client: httpx.AsyncClient) -> None:
    app = await make_app(api)
    user = await make_user(api, phoneCountryCode="+86")
    for payload in ({"phone": user["phone"], "phoneCountryCode": "+86"}, {"phone": user["phone"], "phoneCountryCode": "86"},
                    {"phone": f"+86{user['phone']}"}):
        body = await sign_in(client, app, payload)
        assert body["statusCode"] == 200, (payload, body)
    other_country = await sign_in(client, app, {"phone": user["phone"], "phoneCountryCode": "+1"})
    assert other_country["statusCode"] in (400, 401)


async def test_a_consumed_ticket_completes_the_sign_in_with_tokens(
    api: Api, client: httpx.AsyncClient, services: Services
) -> None:
    """What the MFA step does once a factor is verified: spend the mfaToken, then issue the token set."""
    token = await _challenge(api, client)
    ticket = await services.mfa_tickets.consume_mfa_token(token)
    tokens = await services.signin.complete_mfa(ticket, "OTP", RequestFacts("req-1", "127.0.0.1"))
    profile = (await client.get("/api/v3/get-profile", headers={"authorization": tokens.access_token})).json()
    assert profile["data"]["userId"] == ticket.user_id
    assert tokens.id_token is not None
    assert jwt.decode(tokens.id_token, options={"verify_signature": False})["amr"] == ["pwd", "mfa", "otp"]
    events = await api.ok("GET", "twofold/list-audit-events", {"action": "signin.success"})
    assert events[0]["after"]["factor"] == "OTP" and events[0]["userId"] == ticket.user_id
    with pytest.raises(MfaTokenInvalid):
        await services.mfa_tickets.consume_mfa_token(token)


async def test_revoking_a_user_ends_every_sign_in(api: Api, client: httpx.AsyncClient, services: Services) -> None:
    app, user = await make_app(api), await make_user(api)
    sessions = [(await sign_in(client, app, {"email": user["email"]}))["data"] for _ in range(2)]
    pool, _ = await services.keys.ensure_default_pool()  # the bootstrap key's pool, where the user is
    assert await services.tokens.revoke_user(pool.id, user["userId"]) == 2
    for tokens in sessions:
        profile = (await client.get("/api/v3/get-profile", headers={"authorization": tokens["access_token"]})).json()
        assert profile["statusCode"] == 401
        refresh = await _form(client, "token", app, grant_type="refresh_token", refresh_token=tokens["refresh_token"])
        assert refresh.json()["error"] == "invalid_grant"


async def test_expired_access_and_refresh_tokens_are_refused(
    timed_client: httpx.AsyncClient, clock: FakeClock
) -> None:
    api = await Api(timed_client).login()
    app, user = await make_app(api), await make_user(api)
    tokens = (await sign_in(timed_client, app, {"email": user["email"]}))["data"]
    clock.now += 3600 * 1000
    profile = (await timed_client.get("/api/v3/get-profile", headers={"authorization": tokens["access_token"]})).json()
    assert (profile["statusCode"], profile["apiCode"]) == (401, 40111)
    clock.now += 30 * 86400 * 1000
    refresh = await _form(timed_client, "token", app, grant_type="refresh_token", refresh_token=tokens["refresh_token"])
    assert refresh.json()["error"] == "invalid_grant"
