"""The ``twofold`` command against the local database (both backends)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tests.conftest import SECRET_KEY
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
