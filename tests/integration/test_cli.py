"""The ``twofold`` command against the local database (both backends)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg
import pytest
from psycopg import sql
from typer.testing import CliRunner

from tests.conftest import POSTGRES_URL, SECRET_KEY
from twofold.cli.main import app


@pytest.fixture
def cli_env(database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    env = {
        "TWOFOLD_DATABASE_URL": database_url,
        "TWOFOLD_DATA_DIR": str(tmp_path / "data"),
        "TWOFOLD_SECRET_KEY": SECRET_KEY,
    }
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("TWOFOLD_BOOTSTRAP_ACCESS_KEY_ID", raising=False)
    return env


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, list(args))
    return result.exit_code, result.output


def test_init_prints_the_first_key_once(cli_env: dict[str, str]) -> None:
    code, out = run("init", "--json")
    assert code == 0
    first = json.loads(out)
    assert set(first) == {"userPoolId", "accessKeyId", "accessKeySecret"}
    code, out = run("init", "--json")
    assert code == 0 and json.loads(out) == {}


def test_keys_create_list_revoke(cli_env: dict[str, str]) -> None:
    run("init", "--json")
    code, out = run("keys", "create", "--description", "ci", "--json")
    assert code == 0
    key = json.loads(out)
    assert key["permissions"] == []
    code, out = run("keys", "list", "--json")
    listed = {k["accessKeyId"]: k for k in json.loads(out)}
    assert key["accessKeyId"] in listed and "accessKeySecret" not in listed[key["accessKeyId"]]
    assert key["accessKeySecret"] not in out
    assert run("keys", "revoke", key["accessKeyId"])[0] == 0
    code, out = run("keys", "list", "--json")
    assert {k["accessKeyId"]: k for k in json.loads(out)}[key["accessKeyId"]]["revokedAt"] is not None


def test_user_mistakes_print_one_line_and_exit_non_zero(cli_env: dict[str, str]) -> None:
    code, out = run("keys", "revoke", "no-such-key")
    assert code == 1 and "Access key does not exist" in out and "Traceback" not in out


def test_placeholder_master_key_is_refused(cli_env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TWOFOLD_SECRET_KEY", "changeme")
    code, out = run("init")
    assert code == 1 and "placeholder" in out


def test_audit_list_and_db_upgrade(cli_env: dict[str, str]) -> None:
    assert run("db", "upgrade")[0] == 0
    code, out = run("audit", "list", "--json")
    assert code == 0 and json.loads(out) == []


@pytest.fixture
def role_without_create() -> Iterator[str]:
    """The URL of a fresh database, beside the test one and named after it, whose role may connect but
    not create anything in its schema.  Made and dropped here (idempotently: a run that died left them)."""
    assert POSTGRES_URL
    parts = urlsplit(POSTGRES_URL)
    name = f"{parts.path.lstrip('/')}_nocreate"  # the database and the role
    database, role = sql.Identifier(name), sql.Identifier(name)

    def drop(conn: psycopg.Connection) -> None:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(database))
        conn.execute(sql.SQL("DROP ROLE IF EXISTS {}").format(role))

    with psycopg.connect(POSTGRES_URL, autocommit=True) as conn:
        drop(conn)
        conn.execute(sql.SQL("CREATE DATABASE {}").format(database))
        conn.execute(sql.SQL("CREATE ROLE {} LOGIN").format(role))
    with psycopg.connect(urlunsplit(parts._replace(path=f"/{name}")), autocommit=True) as conn:
        conn.execute("REVOKE CREATE ON SCHEMA public FROM PUBLIC")  # the default from PostgreSQL 15 on
    try:
        yield urlunsplit(parts._replace(netloc=f"{name}@{parts.hostname}:{parts.port or 5432}", path=f"/{name}"))
    finally:
        with psycopg.connect(POSTGRES_URL, autocommit=True) as conn:
            drop(conn)


@pytest.mark.skipif(not POSTGRES_URL, reason="TWOFOLD_TEST_POSTGRES_URL not set (PostgreSQL only)")
def test_db_upgrade_without_create_permission_prints_one_line(
    role_without_create: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TWOFOLD_DATABASE_URL", role_without_create)
    monkeypatch.setenv("TWOFOLD_DATA_DIR", str(tmp_path / "data"))
    code, out = run("db", "upgrade")
    assert code == 1 and "Traceback" not in out, out
    [line] = out.strip().splitlines()
    assert line.startswith("error: cannot migrate the database: permission denied for schema public")
    assert "needs CREATE on the schema" in line
