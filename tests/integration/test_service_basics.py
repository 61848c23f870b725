"""Probes, OpenAPI, bootstrap idempotency, query-string traps, nonces shared across processes."""

from __future__ import annotations

from email.utils import formatdate

import httpx
from pydantic import SecretStr

from tests.conftest import BOOTSTRAP_KEY_ID, BOOTSTRAP_SECRET, Api
from tests.factories import user_payload
from tests.hmac_auth import NodeStyleSigner
from twofold.api.app import create_app
from twofold.config import Settings
from twofold.services.container import Services, bootstrap, build_services


async def test_health_and_readiness(client: httpx.AsyncClient) -> None:
    assert (await client.get("/healthz")).json() == {"status": "ok"}
    ready = await client.get("/readyz")
    assert ready.status_code == 200 and ready.json()["status"] == "ready"


async def test_openapi_and_docs_are_served(client: httpx.AsyncClient) -> None:
    spec = (await client.get("/openapi.json")).json()
    assert "/api/v3/set-mfa-status" in spec["paths"] and "/api/v3/get-user" in spec["paths"]
    assert (await client.get("/docs")).status_code == 200


async def test_bootstrap_is_idempotent_and_follows_the_configured_secret(
    settings: Settings, services: Services
) -> None:
    assert await bootstrap(services, settings) is None
    keys = await services.keys.list_keys()
    assert [k.id for k in keys] == [BOOTSTRAP_KEY_ID]
    rotated = settings.model_copy(
        update={"bootstrap_access_key_secret": SecretStr("a-new-bootstrap-secret-0123")}
    )
    await bootstrap(services, rotated)
    assert len(await services.keys.list_keys()) == 1
    token = await services.keys.issue_token(BOOTSTRAP_KEY_ID, "a-new-bootstrap-secret-0123")
    assert token.access_token


async def test_access_key_secret_is_not_stored_in_plaintext(services: Services) -> None:
    async with services.db.read() as conn:
        rows = await conn.fetch_all("SELECT secret_ciphertext FROM access_keys")
    assert rows and all(BOOTSTRAP_SECRET not in r["secret_ciphertext"] for r in rows)


async def test_query_values_are_parsed_like_the_sdks_send_them(api: Api) -> None:
    user = await api.ok("POST", "create-user", user_payload(customData={"k": "v"}))
    for flag in ("True", "true", "1"):
        body = await api.get("get-user", userId=user["userId"], withCustomData=flag)
        assert body["data"]["customData"] == {"k": "v"}, flag
    for flag in ("False", "false", ""):
        body = await api.get("get-user", userId=user["userId"], withCustomData=flag, userIdType="")
        assert "customData" not in body["data"], flag
    spaced = await api.ok("POST", "create-user", user_payload(username="two words"))
    body = await api.raw("GET", "/api/v3/get-user?userId=two+words&userIdType=username")
    assert body["data"]["userId"] == spaced["userId"]
    flat = await api.ok("GET", "get-user", {"userId": user["userId"], "flatCustomData": "true"})
    assert flat["k"] == "v"


async def test_double_slash_paths_from_the_python_sdk_work(api: Api) -> None:
    body = await api.raw("GET", "//api/v3/get-user", params={"userId": "nobody"})
    assert body["statusCode"] == 404


async def test_a_nonce_is_refused_by_every_process_sharing_the_database(
    settings: Settings, services: Services
) -> None:
    other = await build_services(settings)  # a second process/instance on the same database
    try:
        signer = NodeStyleSigner(
            BOOTSTRAP_KEY_ID, BOOTSTRAP_SECRET, nonce="ab" * 16, date=formatdate(usegmt=True)
        )
        bodies = []
        for svc in (services, other):
            app = create_app(settings, svc)
            async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as http:
                response = await http.get("/api/v3/get-user", params={"userId": "x"}, auth=signer)
                bodies.append(response.json())
        assert [b["statusCode"] for b in bodies] == [404, 401]
    finally:
        await other.close()
