"""Storage errors, provoked for real: each driver failure leaves storage/ as one of ours, and the
ones a client can meet are an envelope (503 when the database is away or busy), never a 500."""

from __future__ import annotations

import asyncio
import contextlib
import socket
import sqlite3
from collections.abc import AsyncIterator
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import httpx
import pytest
from pydantic import SecretStr

from tests.conftest import BOOTSTRAP_KEY_ID, BOOTSTRAP_SECRET, SECRET_KEY, Api
from tests.factories import user_payload
from twofold.api.app import create_app
from twofold.auth.vault import MasterKeyError
from twofold.config import Settings
from twofold.errors import DatabaseBusy, TwofoldError
from twofold.services.container import bootstrap, build_services
from twofold.storage.database import Connection, open_database
from twofold.storage.errors import (
    DatabaseFull,
    DatabaseUnavailable,
    ForeignKeyViolation,
    InvalidData,
    StorageError,
    UniqueViolation,
    WriteLockTimeout,
)
from twofold.storage.migrate import upgrade_to_head

_POOL = "INSERT INTO user_pools (id, name, mfa_enabled_factors, created_at) VALUES (:id, 'p', '[]', 0)"
_USER = (
    "INSERT INTO users (id, pool_id, username, status, created_at, updated_at)"
    " VALUES (:id, :pool, :username, 'Activated', 0, 0)"
)


def _closed_port() -> int:
    with socket.socket() as probe:  # bound, never listening: connections to it are refused
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


def _with_port(url: str, port: int) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(netloc=f"{parts.username or 'postgres'}@127.0.0.1:{port}"))


async def test_unique_violations_name_the_table_and_columns(database_url: str) -> None:
    db = await open_database(database_url)
    try:
        async with db.transaction() as conn:
            await conn.execute(_POOL, {"id": "p1"})
            await conn.execute(_USER, {"id": "u1", "pool": "p1", "username": "alice"})
        with pytest.raises(UniqueViolation) as caught:
            async with db.transaction() as conn:
                await conn.execute(_USER, {"id": "u2", "pool": "p1", "username": "alice"})
        assert (caught.value.table, caught.value.columns) == ("users", ("pool_id", "username"))

        async def same_pool_again(conn: Connection) -> None:
            await conn.execute(_POOL, {"id": "p1"})

        with pytest.raises(UniqueViolation) as caught:  # through group commit on SQLite
            await db.atomic(same_pool_again)
        assert (caught.value.table, caught.value.columns) == ("user_pools", ("id",))
    finally:
        await db.close()


async def test_a_missing_referenced_row_is_a_foreign_key_violation(database_url: str) -> None:
    db = await open_database(database_url)
    try:
        with pytest.raises(ForeignKeyViolation):
            async with db.transaction() as conn:
                await conn.execute(_USER, {"id": "u1", "pool": "no-such-pool", "username": "a"})
    finally:
        await db.close()


async def test_a_value_the_database_refuses_is_invalid_data_never_a_driver_error(database_url: str) -> None:
    db = await open_database(database_url)
    try:
        async with db.transaction() as conn:
            await conn.execute(_POOL, {"id": "p1"})
        # NUL is refused by PostgreSQL's text type; a 2**64 integer by SQLite's 64-bit integers (and
        # PostgreSQL's BIGINT).  Both stand in for input the request schemas let through by mistake.
        bad = {"id": "p1\x00"} if db.dialect == "postgresql" else {"id": "p2"}
        sql = _POOL if db.dialect == "postgresql" else _POOL.replace(", 0)", ", :at)")
        with pytest.raises(InvalidData) as caught:
            async with db.transaction() as conn:
                await conn.execute(sql, {**bad, "at": 2**64})
        assert isinstance(caught.value, TwofoldError) and caught.value.status_code == 400
        with pytest.raises(InvalidData):
            async with db.read() as conn:
                await conn.fetch_value("SELECT COUNT(*) FROM users WHERE created_at = :at", {"at": 2**64})
    finally:
        await db.close()


async def test_a_write_lock_that_never_comes_is_a_database_busy_envelope(tmp_path: Path) -> None:
    path = tmp_path / "busy.db"
    settings = Settings(
        database_url=f"sqlite:///{path}",
        data_dir=tmp_path / "data",
        secret_key=SECRET_KEY,
        bootstrap_access_key_id=BOOTSTRAP_KEY_ID,
        bootstrap_access_key_secret=BOOTSTRAP_SECRET,
        sqlite_lock_wait_seconds=0.05,
    )
    upgrade_to_head(settings.resolved_database_url)
    services = await build_services(settings)
    await bootstrap(services, settings)
    other = sqlite3.connect(path, isolation_level=None)  # another process's writer, holding the lock
    try:
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=create_app(settings, services)), base_url="http://t"
        ) as http:
            api = await Api(http).login()
            other.execute("BEGIN IMMEDIATE")
            body = await api.post("create-user", user_payload())
            assert (body["statusCode"], body["apiCode"]) == (503, DatabaseBusy.api_code), body
            other.execute("ROLLBACK")
            body = await api.post("create-user", user_payload())  # the lock is free again
            assert body["statusCode"] == 200, body
    finally:
        other.close()
        await services.close()


async def test_a_held_write_lock_fails_a_transaction_with_write_lock_timeout(tmp_path: Path) -> None:
    path = tmp_path / "held.db"
    upgrade_to_head(f"sqlite:///{path}")
    db = await open_database(f"sqlite:///{path}", lock_wait_seconds=0.05)
    other = sqlite3.connect(path, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    try:
        with pytest.raises(WriteLockTimeout):
            async with db.transaction() as conn:
                await conn.execute(_POOL, {"id": "p1"})
    finally:
        other.close()
        await db.close()


async def test_a_file_that_cannot_grow_is_database_full_and_writes_resume_after(tmp_path: Path) -> None:
    """``SQLITE_FULL`` without a full disk: ``max_page_count`` caps the file (a full disk is
    tests/reliability/test_sqlite_outage.py)."""
    path = tmp_path / "full.db"
    upgrade_to_head(f"sqlite:///{path}")
    db = await open_database(f"sqlite:///{path}", lock_wait_seconds=0.05)
    try:
        async with db.transaction() as conn:
            pages = await conn.fetch_value("PRAGMA page_count")
            await conn.fetch_value(f"PRAGMA max_page_count = {int(pages)}")  # on the writer connection
        with pytest.raises(DatabaseFull) as raised:
            async with db.transaction() as conn:
                await conn.execute(_POOL, {"id": "p" + "x" * 100_000})
        assert (raised.value.status_code, raised.value.api_code) == (503, 50304)
        async with db.transaction() as conn:
            await conn.fetch_value("PRAGMA max_page_count = 1073741823")
            await conn.execute(_POOL, {"id": "p" + "x" * 100_000})  # room again: the write succeeds
        async with db.read() as conn:
            assert await conn.fetch_value("SELECT count(*) FROM user_pools") == 1
    finally:
        await db.close()


async def test_an_unreachable_postgresql_is_a_startup_error(tmp_path: Path) -> None:
    settings = Settings(
        database_url=f"postgresql://postgres@127.0.0.1:{_closed_port()}/twofold",
        data_dir=tmp_path / "data",
        secret_key=SECRET_KEY,
    )
    with pytest.raises(DatabaseUnavailable) as caught:
        await build_services(settings)
    assert "refused" in caught.value.reason.lower() or "connect" in caught.value.reason.lower()
    with pytest.raises(DatabaseUnavailable):
        upgrade_to_head(settings.resolved_database_url)


class _Proxy:
    """A TCP proxy to PostgreSQL that can be shut: then the server is gone, as when it stops."""

    def __init__(self, target_port: int) -> None:
        self._target_port = target_port
        self._writers: list[asyncio.StreamWriter] = []
        self._server: asyncio.Server | None = None
        self.port = 0

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self._target_port)
        self._writers += [writer, up_writer]

        async def pipe(source: asyncio.StreamReader, sink: asyncio.StreamWriter) -> None:
            with contextlib.suppress(OSError):
                while data := await source.read(65536):
                    sink.write(data)
                    await sink.drain()
            sink.close()

        await asyncio.gather(pipe(reader, up_writer), pipe(up_reader, writer))

    async def shut(self) -> None:
        assert self._server is not None
        self._server.close()
        for writer in self._writers:
            writer.close()
        await self._server.wait_closed()


@pytest.fixture
async def proxied_postgres(database_url: str) -> AsyncIterator[tuple[str, _Proxy]]:
    if not database_url.startswith("postgresql"):
        pytest.skip("PostgreSQL only: a server that goes away")
    proxy = _Proxy(urlsplit(database_url).port or 5432)
    await proxy.start()
    try:
        yield _with_port(database_url, proxy.port), proxy
    finally:
        with contextlib.suppress(Exception):
            await proxy.shut()


async def test_a_lost_postgresql_is_a_database_unavailable_envelope(
    proxied_postgres: tuple[str, _Proxy], tmp_path: Path
) -> None:
    url, proxy = proxied_postgres
    settings = Settings(
        database_url=url,
        data_dir=tmp_path / "data",
        secret_key=SECRET_KEY,
        bootstrap_access_key_id=BOOTSTRAP_KEY_ID,
        bootstrap_access_key_secret=BOOTSTRAP_SECRET,
    )
    services = await build_services(settings)
    await bootstrap(services, settings)
    try:
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=create_app(settings, services)), base_url="http://t"
        ) as http:
            api = await Api(http).login()
            assert (await api.post("create-user", user_payload()))["statusCode"] == 200
            await proxy.shut()  # PostgreSQL is gone: pooled connections die, new ones are refused
            for _ in range(2):
                body = await api.post("create-user", user_payload())
                assert (body["statusCode"], body["apiCode"]) == (503, 50301), body
                assert "unavailable" in body["message"].lower()
    finally:
        with contextlib.suppress(StorageError):
            await services.close()


async def test_a_master_key_that_does_not_decrypt_the_stored_secrets_is_a_startup_error(
    settings: Settings,
) -> None:
    services = await build_services(settings)
    await bootstrap(services, settings)  # stores the bootstrap key, encrypted with SECRET_KEY
    await services.close()
    changed = settings.model_copy(update={"secret_key": SecretStr("another-master-key-0123456789")})
    with pytest.raises(MasterKeyError, match="not the key this database was created with"):
        await build_services(changed)


def test_the_app_factory_fails_fast_on_a_placeholder_master_key(tmp_path: Path) -> None:
    settings = Settings(database_url=f"sqlite:///{tmp_path / 'x.db'}", data_dir=tmp_path, secret_key="changeme")
    with pytest.raises(MasterKeyError, match="placeholder"):
        create_app(settings)


# ----------------------------------------------------------- the CLI: one line and exit 1, no traceback
def _cli(env: dict[str, str], monkeypatch: pytest.MonkeyPatch, *args: str) -> tuple[int, str]:
    from typer.testing import CliRunner

    from twofold.cli.main import app

    for name, value in env.items():
        monkeypatch.setenv(name, value)
    result = CliRunner().invoke(app, list(args))
    return result.exit_code, result.output


def test_the_cli_reports_a_changed_master_key_in_one_line(
    database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("TWOFOLD_BOOTSTRAP_ACCESS_KEY_ID", raising=False)
    env = {"TWOFOLD_DATABASE_URL": database_url, "TWOFOLD_DATA_DIR": str(tmp_path), "TWOFOLD_SECRET_KEY": SECRET_KEY}
    assert _cli(env, monkeypatch, "init", "--json")[0] == 0
    code, out = _cli({**env, "TWOFOLD_SECRET_KEY": "another-master-key-0123456789"}, monkeypatch, "keys", "list")
    assert code == 1 and "master key does not decrypt" in out and "Traceback" not in out
    assert len(out.strip().splitlines()) == 1, out


@pytest.mark.parametrize("command", [("init",), ("db", "upgrade"), ("keys", "list")])
def test_the_cli_reports_an_unreachable_database_in_one_line(
    command: tuple[str, ...], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    env = {
        "TWOFOLD_DATABASE_URL": f"postgresql://postgres@127.0.0.1:{_closed_port()}/twofold",
        "TWOFOLD_DATA_DIR": str(tmp_path),
        "TWOFOLD_SECRET_KEY": SECRET_KEY,
    }
    code, out = _cli(env, monkeypatch, *command)
    assert code == 1 and "Database unavailable" in out and "Traceback" not in out, out
    assert len(out.strip().splitlines()) == 1, out
