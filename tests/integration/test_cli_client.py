"""``twofold users|mfa|apps`` against a running server (uvicorn in a thread, real sockets)."""

from __future__ import annotations

import asyncio
import json
import socket
import threading
import time
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path

import pyotp
import pytest
import uvicorn
from typer.testing import CliRunner

from tests.conftest import BOOTSTRAP_KEY_ID, BOOTSTRAP_SECRET
from twofold.api.app import create_app
from twofold.cli.main import app
from twofold.config import Settings
from twofold.domain.commands import OtpImportInput, OtpInput
from twofold.services.container import Services, build_services
from twofold.services.context import Caller, Principal


@pytest.fixture
def server_url(settings: Settings) -> Iterator[str]:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    server = uvicorn.Server(
        uvicorn.Config(create_app(settings), host="127.0.0.1", port=port, log_config=None, lifespan="on")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert time.monotonic() < deadline, "server did not start"
        time.sleep(0.02)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(10)


@pytest.fixture
def cli(server_url: str, settings: Settings, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> CliRunner:
    for name, value in {
        "TWOFOLD_HOST": server_url,
        "TWOFOLD_ACCESS_KEY_ID": BOOTSTRAP_KEY_ID,
        "TWOFOLD_ACCESS_KEY_SECRET": BOOTSTRAP_SECRET,
        "TWOFOLD_PROFILE_FILE": str(tmp_path / "none.toml"),
    }.items():
        monkeypatch.setenv(name, value)
    return CliRunner()


def run(cli: CliRunner, *args: str) -> tuple[int, str]:
    result = cli.invoke(app, list(args))
    return result.exit_code, result.output


def ok_json(cli: CliRunner, *args: str) -> object:
    code, out = run(cli, *args, "--json")
    assert code == 0, out
    return json.loads(out)


@pytest.fixture
def bootstrapped(settings: Settings, services: object) -> None:
    """The `services` fixture runs bootstrap (creating the bootstrap key) on the same database."""


def test_users_and_mfa_round_trip(cli: CliRunner, bootstrapped: None) -> None:
    user = ok_json(cli, "users", "create", "--username", "carol", "--email", "Carol@Example.com")
    assert user["email"] == "carol@example.com"
    assert ok_json(
        cli,
        "mfa",
        "set",
        "carol@example.com",
        "--factor",
        "OTP",
        "--factor",
        "EMAIL:1:3",
        "--mfa-email",
        "otp@example.com",
    ) == {"success": True, "version": 1}
    status = ok_json(cli, "mfa", "get", "carol")
    assert status["applicationMfa"] == [
        {"mfaPolicy": "OTP", "status": 1, "sort": 0},
        {"mfaPolicy": "EMAIL", "status": 1, "sort": 3},
    ]
    assert ok_json(cli, "mfa", "info", user["userId"])["emailMfaStatus"] == "enabled"
    code, out = run(cli, "mfa", "set", "carol", "--version", "0")
    assert code == 1 and "version" in out and "request id" in out
    listed = ok_json(cli, "users", "list", "--mfa")
    assert [u["username"] for u in listed["list"]] == ["carol"]
    updated = ok_json(cli, "users", "update", "carol", "--set", "nickname=Caz")
    assert updated["nickname"] == "Caz"
    code, out = run(cli, "users", "delete", "carol", "--yes")
    assert code == 0
    code, out = run(cli, "users", "get", "carol")
    assert code == 1 and "User does not exist" in out and "Traceback" not in out


def test_apps_and_factor_switches(cli: CliRunner, bootstrapped: None) -> None:
    created = ok_json(cli, "apps", "create", "Portal", "--identifier", "portal")
    assert ok_json(cli, "apps", "mfa", created["appId"], "--enable", "OTP", "--enable", "SMS") == {
        "enabledFactors": ["OTP", "SMS"]
    }
    listed = ok_json(cli, "apps", "list")
    assert listed["totalCount"] == 1


def test_wrong_key_is_one_clear_line(
    cli: CliRunner, bootstrapped: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TWOFOLD_ACCESS_KEY_SECRET", "wrong-secret-0123456789")
    code, out = run(cli, "users", "list")
    assert code == 1 and "Authentication failed" in out and len(out.strip().splitlines()) <= 2


def test_profile_file_supplies_the_connection(
    cli: CliRunner, bootstrapped: None, server_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    profile = tmp_path / "profiles.toml"
    profile.write_text(
        f'[ops]\nhost = "{server_url}"\naccess_key_id = "{BOOTSTRAP_KEY_ID}"\n'
        f'access_key_secret = "{BOOTSTRAP_SECRET}"\n'
    )
    for name in ("TWOFOLD_HOST", "TWOFOLD_ACCESS_KEY_ID", "TWOFOLD_ACCESS_KEY_SECRET"):
        monkeypatch.delenv(name)
    monkeypatch.setenv("TWOFOLD_PROFILE_FILE", str(profile))
    assert ok_json(cli, "--profile", "ops", "users", "list")["totalCount"] == 0


def test_import_csv_reports_bad_rows_and_never_half_imports(
    cli: CliRunner, bootstrapped: None, tmp_path: Path
) -> None:
    source = tmp_path / "users.csv"
    lines = ["username,email,mfaPolicies,totpMfaEnabled,otpSecret,mfaEmail"]
    lines += [f"u{i},u{i}@example.com,OTP:1:0;EMAIL:1:1,true,JBSWY3DPEHPK3PXPJBSWY3DP," for i in range(30)]
    lines += ["bad-email,not-an-email,,,,", "u3,other@example.com,,,,", "bad-mfa,bm@example.com,PUSH,,,"]
    source.write_text("\n".join(lines) + "\n")
    code, out = run(cli, "users", "import", str(source), "--batch-size", "7", "--json")
    assert code == 2
    report = json.loads(out)
    assert report["created"] == 30
    assert [f["line"] for f in report["failed"]] == [32, 33, 34]
    # the row with a bad MFA policy did not leave a user behind
    code, _ = run(cli, "users", "get", "bad-mfa")
    assert code == 1
    status = ok_json(cli, "mfa", "get", "u29")
    assert status["totpMfaEnabled"] is True and len(status["applicationMfa"]) == 2


def test_import_of_many_bad_rows_in_one_batch_reports_each_exactly(
    cli: CliRunner, bootstrapped: None, tmp_path: Path
) -> None:
    """Every third row is bad, all in one batch: each is reported with its line and its own error,
    and every good row is created (the client isolates refused rows without losing any)."""
    source = tmp_path / "users.csv"
    lines, bad = ["username,email,mfaPolicies"], {}
    for i in range(60):
        if i % 6 == 2:
            lines.append(f"m{i},not-an-email,OTP")
            bad[i + 2] = (40001, "email")
        elif i % 6 == 5:
            lines.append(f"m{i},m{i}@example.com,PUSH")
            bad[i + 2] = (40003, "mfaPolicy")
        else:
            lines.append(f"m{i},m{i}@example.com,OTP:1:0")
    source.write_text("\n".join(lines) + "\n")
    code, out = run(cli, "users", "import", str(source), "--json")
    assert code == 2
    report = json.loads(out)
    assert report["created"] == 40
    assert [f["line"] for f in report["failed"]] == sorted(bad)
    for failure in report["failed"]:
        code, word = bad[failure["line"]]
        assert failure["apiCode"] == code and word in failure["message"], failure
        assert "list[" not in failure["message"]
    assert ok_json(cli, "users", "list", "--limit", "50")["totalCount"] == 40


def test_import_resumes_where_it_stopped(cli: CliRunner, bootstrapped: None, tmp_path: Path) -> None:
    source = tmp_path / "users.jsonl"
    rows = [{"username": f"j{i}", "email": f"j{i}@example.com", "mfaPolicies": "SMS"} for i in range(10)]
    source.write_text("\n".join(json.dumps(r) for r in rows[:4]) + "\n")
    assert ok_json(cli, "users", "import", str(source), "--batch-size", "2")["created"] == 4
    source.write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    # a finished import leaves no state; simulate an interrupted one
    (tmp_path / "users.jsonl.import-state.json").write_text(json.dumps({"nextLine": 5}))
    report = ok_json(cli, "users", "import", str(source), "--resume")
    assert (report["created"], report["failed"]) == (6, [])
    assert ok_json(cli, "users", "list", "--limit", "50")["totalCount"] == 10


def test_the_readme_csv_example_imports(cli: CliRunner, bootstrapped: None, tmp_path: Path, repo_root: Path) -> None:
    readme = (repo_root / "README.md").read_text()
    block = readme.split("```csv\n", 1)[1].split("```", 1)[0]
    source = tmp_path / "users.csv"
    source.write_text(block)
    assert ok_json(cli, "users", "import", str(source)) == {"total": 2, "created": 2, "skippedExisting": 0,
                                                            "failed": []}
    assert ok_json(cli, "mfa", "info", "alice@example.com")["totpStatus"] == "enabled"


def on_the_servers_database(settings: Settings, action: Callable[[Services, str], Awaitable[None]]) -> None:
    """Run ``action(services, pool_id)`` with services of this process on the server's database."""

    async def go() -> None:
        services = await build_services(settings)
        try:
            await action(services, (await services.keys.ensure_default_pool())[0].id)
        finally:
            await services.close()

    asyncio.run(go())


def test_mfa_locks_unlock_and_reset(cli: CliRunner, bootstrapped: None, settings: Settings) -> None:
    user = ok_json(cli, "users", "create", "--username", "dave", "--email", "dave@example.com")
    assert isinstance(user, dict)

    async def bind(services: Services, pool_id: str) -> None:
        caller = Caller(Principal(pool_id, "cli-test", frozenset()), "req-cli", "127.0.0.1")
        await services.mfa.import_otp(caller, [OtpImportInput(user["userId"], OtpInput(pyotp.random_base32(32)))])

    async def fail_five(services: Services, pool_id: str) -> None:
        for _ in range(5):
            assert not await services.mfa_check.check_totp(pool_id, user["userId"], "000000")

    code, out = run(cli, "mfa", "unlock", "dave")
    assert code == 0 and "nothing to unlock" in out
    on_the_servers_database(settings, bind)
    on_the_servers_database(settings, fail_five)
    locks = ok_json(cli, "mfa", "locks", "dave")
    assert isinstance(locks, list)
    assert [(f["factor"], f["failures"], f["locked"]) for f in locks] == [
        ("OTP", 5, True), ("SMS", 0, False), ("EMAIL", 0, False), ("FACE", 0, False),
    ]
    code, out = run(cli, "mfa", "locks", "dave")
    assert code == 0 and "OTP" in out and "true" in out
    assert ok_json(cli, "mfa", "unlock", "dave", "--factor", "otp") == {"success": True, "unlockedFactors": ["OTP"]}
    code, out = run(cli, "mfa", "unlock", "dave", "--factor", "PUSH")
    assert code == 1 and "factor" in out and "Traceback" not in out
    on_the_servers_database(settings, fail_five)
    code, out = run(cli, "mfa", "reset", "dave@example.com", "--factor", "OTP")
    assert code == 0 and "reset OTP for dave@example.com (authenticator removed)" in out
    assert ok_json(cli, "mfa", "info", "dave")["totpStatus"] == "disabled"
    result = ok_json(cli, "mfa", "reset", user["userId"])
    assert result == {"success": True, "userId": user["userId"], "factors": ["OTP", "SMS", "EMAIL", "FACE"],
                      "otpRemoved": False}
    assert all(f["failures"] == 0 for f in ok_json(cli, "mfa", "locks", "dave"))  # type: ignore[union-attr]
