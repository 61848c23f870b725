"""Shared fixtures: every database-backed test runs on SQLite and, when configured, on PostgreSQL.

``TWOFOLD_TEST_POSTGRES_URL`` names a PostgreSQL database the suite may wipe (its ``public`` schema is
dropped and migrated once per session; tables are emptied before each test).

A test of the send limits or throttles asks for ``counters`` (``@pytest.mark.usefixtures("counters")``)
and runs twice: counting in the database, and in the Redis of ``TWOFOLD_TEST_REDIS_URL`` (default
redis://127.0.0.1:6379/15; skipped when it does not answer), under a key prefix of its own.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest
import redis
from prometheus_client import REGISTRY

from twofold.api.app import create_app
from twofold.config import Settings
from twofold.services.container import Services, bootstrap, build_services
from twofold.storage.migrate import upgrade_to_head
from twofold.storage.tables import metadata

POSTGRES_URL = os.environ.get("TWOFOLD_TEST_POSTGRES_URL")
SECRET_KEY = "test-master-key-0123456789abcdef"
BOOTSTRAP_KEY_ID = "bootstrapkey0000000000000"
BOOTSTRAP_SECRET = "bootstrap-secret-0123456789abcdef"
BACKENDS = [
    "sqlite",
    pytest.param(
        "postgresql", marks=pytest.mark.skipif(not POSTGRES_URL, reason="TWOFOLD_TEST_POSTGRES_URL not set")
    ),
]


REDIS_URL = os.environ.get("TWOFOLD_TEST_REDIS_URL") or "redis://127.0.0.1:6379/15"


def _psycopg_url(url: str) -> str:
    return url.replace("postgresql+psycopg://", "postgresql://")


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("template") / "template.db"
    upgrade_to_head(f"sqlite:///{path}")
    return path


@pytest.fixture(scope="session")
def postgres_ready() -> str:
    assert POSTGRES_URL
    with psycopg.connect(_psycopg_url(POSTGRES_URL), autocommit=True) as conn:
        conn.execute("DROP SCHEMA IF EXISTS public CASCADE")
        conn.execute("CREATE SCHEMA public")
    upgrade_to_head(POSTGRES_URL)
    return POSTGRES_URL


def wipe_postgres(url: str) -> None:
    tables = ", ".join(t.name for t in metadata.sorted_tables)
    with psycopg.connect(_psycopg_url(url), autocommit=True) as conn:
        conn.execute(f"TRUNCATE {tables} RESTART IDENTITY CASCADE")


def fresh_database_url(request: pytest.FixtureRequest, backend: str, workdir: Path) -> str:
    """An empty database for a ``twofold serve`` subprocess: a new SQLite file in ``workdir``, or the
    test PostgreSQL database, wiped (``wipe_postgres`` it again when done)."""
    if backend == "sqlite":
        return f"sqlite:///{workdir / 'twofold.db'}"
    url: str = request.getfixturevalue("postgres_ready")
    wipe_postgres(url)
    return url


@pytest.fixture(params=BACKENDS)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A migrated, empty database of each backend."""
    if request.param == "sqlite":
        template = request.getfixturevalue("sqlite_template")
        path = tmp_path / "twofold.db"
        shutil.copyfile(template, path)
        return f"sqlite:///{path}"
    url: str = request.getfixturevalue("postgres_ready")
    wipe_postgres(url)
    return url


@pytest.fixture(scope="session")
def redis_answers() -> str | None:
    """None when the test Redis answers a PING, else why not."""
    try:
        with redis.Redis.from_url(REDIS_URL, socket_timeout=2, socket_connect_timeout=2) as client:
            client.ping()
    except redis.RedisError as exc:
        return f"no Redis at TWOFOLD_TEST_REDIS_URL ({REDIS_URL}): {type(exc).__name__}"
    return None


def counter_fallbacks(*reasons: str) -> float:
    """This process's ``twofold_counter_fallbacks_total`` of ``reasons`` (default: all)."""
    return sum(
        REGISTRY.get_sample_value("twofold_counter_fallbacks_total", {"reason": reason}) or 0.0
        for reason in reasons or ("redis_error", "breaker_open")
    )


@pytest.fixture(params=["database", "redis"])
def counters(request: pytest.FixtureRequest) -> Iterator[dict[str, Any]]:
    """The settings of where the short-lived counters live: the database, or the test Redis (and
    then none of this test's counts fell back to the database)."""
    if request.param == "database":
        yield {}
        return
    if reason := request.getfixturevalue("redis_answers"):
        pytest.skip(reason)
    before = counter_fallbacks()
    # a long timeout: on a loaded machine a fallback would count apart from Redis, which is not what
    # these tests are about (tests/reliability/test_redis_fallback.py is)
    yield {"redis_url": REDIS_URL, "redis_key_prefix": f"twofold-test:{uuid.uuid4().hex}:", "redis_timeout_seconds": 5}
    assert counter_fallbacks() == before, "the counts fell back to the database: Redis did not answer"


@pytest.fixture
def settings(database_url: str, tmp_path: Path, request: pytest.FixtureRequest) -> Settings:
    where = request.getfixturevalue("counters") if "counters" in request.fixturenames else {}
    return Settings(
        database_url=database_url,
        data_dir=tmp_path / "data",
        secret_key=SECRET_KEY,
        bootstrap_access_key_id=BOOTSTRAP_KEY_ID,
        bootstrap_access_key_secret=BOOTSTRAP_SECRET,
        **where,
    )


@pytest.fixture
async def services(settings: Settings) -> AsyncIterator[Services]:
    built = await build_services(settings)
    await bootstrap(built, settings)
    try:
        yield built
    finally:
        await built.close()


class Api:
    """A management client over the in-process app: token auth, envelope checks."""

    def __init__(self, client: httpx.AsyncClient, token: str | None = None) -> None:
        self.client = client
        self.token = token

    async def login(self, key_id: str = BOOTSTRAP_KEY_ID, secret: str = BOOTSTRAP_SECRET) -> Api:
        body = await self.raw(
            "POST",
            "/api/v3/get-management-token",
            json={"accessKeyId": key_id, "accessKeySecret": secret},
            auth=False,
        )
        assert body["statusCode"] == 200, body
        return Api(self.client, body["data"]["access_token"])

    async def raw(self, method: str, path: str, auth: bool = True, **kwargs: Any) -> dict[str, Any]:
        headers = dict(kwargs.pop("headers", {}))
        if auth and self.token:
            headers["authorization"] = f"Bearer {self.token}"
        response = await self.client.request(method, path, headers=headers, **kwargs)
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        assert set(body) >= {"statusCode", "message", "requestId", "data"}, body
        return body

    async def get(self, path: str, **params: Any) -> dict[str, Any]:
        return await self.raw("GET", f"/api/v3/{path}", params=params)

    async def post(self, path: str, json: Any = None) -> dict[str, Any]:
        return await self.raw("POST", f"/api/v3/{path}", json=json)

    async def ok(self, method: str, path: str, payload: Any = None) -> Any:
        body = await (self.get(path, **(payload or {})) if method == "GET" else self.post(path, payload))
        assert body["statusCode"] == 200, body
        return body["data"]


@pytest.fixture
async def client(settings: Settings, services: Services) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(settings, services)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://twofold.test") as http:
        yield http


@pytest.fixture
async def api(client: httpx.AsyncClient) -> Api:
    return await Api(client).login()


@pytest.fixture(scope="session")
def repo_root() -> Iterator[Path]:
    yield Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module", params=BACKENDS)
def live_server(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """``twofold serve`` on 127.0.0.1:<free port>, bootstrapped with the known access key, fresh database."""
    from tests.compat.support import LiveServer, server_env, start_server, stop_server

    backend: str = request.param
    workdir = tmp_path_factory.mktemp(f"live-{backend}")
    database_url = fresh_database_url(request, backend, workdir)
    env = server_env(database_url, workdir / "data", BOOTSTRAP_KEY_ID, BOOTSTRAP_SECRET, SECRET_KEY)
    process, port = start_server(env, workdir, workdir / "server.log")
    try:
        yield LiveServer(backend, f"http://127.0.0.1:{port}", port, BOOTSTRAP_KEY_ID, BOOTSTRAP_SECRET, env)
    finally:
        stop_server(process)
        if backend != "sqlite":
            wipe_postgres(database_url)  # leave nothing behind for the in-process tests
