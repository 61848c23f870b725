"""The server package does not depend on the SDK (README, "Development"): without ``twofold_client``
the local commands work, and a client command says how to install it instead of a traceback.

Each case runs the real ``twofold`` command in a fresh interpreter in which importing ``twofold_client``
fails, as it does where only the server package is installed.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import SECRET_KEY

WITHOUT_SDK = (
    "import sys\n"
    "sys.modules['twofold_client'] = None  # import twofold_client now raises ModuleNotFoundError\n"
    "from twofold.cli.main import app\n"
    "app(sys.argv[1:], prog_name='twofold')\n"
)


def twofold_without_sdk(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "TWOFOLD_DATA_DIR": str(tmp_path / "data"),
        "TWOFOLD_DATABASE_URL": f"sqlite:///{tmp_path / 'twofold.db'}",
        "TWOFOLD_SECRET_KEY": SECRET_KEY,
        "TWOFOLD_ACCESS_KEY_ID": "somekey",
        "TWOFOLD_ACCESS_KEY_SECRET": "somesecret",
        "TWOFOLD_PROFILE_FILE": str(tmp_path / "none.toml"),
        "COLUMNS": "200",
    }
    return subprocess.run(
        [sys.executable, "-c", WITHOUT_SDK, *args],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_local_commands_work_without_the_sdk(tmp_path: Path) -> None:
    done = twofold_without_sdk(tmp_path, "db", "upgrade")
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "twofold.db").exists()
    done = twofold_without_sdk(tmp_path, "--help")
    assert done.returncode == 0, done.stderr
    assert "serve" in done.stdout and "users" in done.stdout


@pytest.mark.parametrize(
    "args",
    [
        ("users", "list"),
        ("mfa", "get", "alice@example.com"),
        ("mfa", "set", "alice", "--factor", "OTP"),
        ("apps", "list"),
    ],
    ids=lambda args: " ".join(args),
)
def test_client_commands_without_the_sdk_say_how_to_install_it(tmp_path: Path, args: tuple[str, ...]) -> None:
    done = twofold_without_sdk(tmp_path, *args)
    assert done.returncode == 1
    assert "Traceback" not in done.stderr
    assert "need the Twofold SDK" in done.stderr and "clients/python" in done.stderr
