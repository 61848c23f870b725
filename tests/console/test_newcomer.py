"""The issue's "done when", end to end: a fresh ``twofold serve`` prints the console's URL and a first
access key; a browser opens that URL, signs in with that key, creates a user and sets their MFA status."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.compat.support import LiveServer, server_env, start_server, stop_server
from tests.conftest import BOOTSTRAP_KEY_ID, BOOTSTRAP_SECRET, SECRET_KEY
from tests.console.conftest import screenshot
from tests.console.support import mfa_status


@pytest.fixture
def fresh_server(tmp_path: Path) -> Iterator[tuple[str, str, str]]:
    """``twofold serve`` on a new SQLite database without a bootstrap key: (banner, key id, secret)."""
    env = server_env(f"sqlite:///{tmp_path / 'twofold.db'}", tmp_path / "data", BOOTSTRAP_KEY_ID,
                     BOOTSTRAP_SECRET, SECRET_KEY)
    del env["TWOFOLD_BOOTSTRAP_ACCESS_KEY_ID"], env["TWOFOLD_BOOTSTRAP_ACCESS_KEY_SECRET"]
    log = tmp_path / "server.log"
    process, _port = start_server(env, tmp_path, log)
    try:
        banner = log.read_text()
        key_id = re.search(r"access key id:\s+(\S+)", banner)
        secret = re.search(r"access key secret:\s+(\S+)", banner)
        assert key_id and secret, banner
        yield banner, key_id.group(1), secret.group(1)
    finally:
        stop_server(process)


def test_the_printed_url_and_key_sign_in_and_set_an_mfa_status(
    fresh_server: tuple[str, str, str], browser_context: Any
) -> None:
    banner, key_id, secret = fresh_server
    url = re.search(r"Admin console: (http://\S+/console/)", banner)
    assert url, banner
    page = browser_context.new_page()
    page.goto(url.group(1))
    page.get_by_label("Access key ID").fill(key_id)
    page.get_by_label("Access key secret").fill(secret)
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("link", name="Create a user").click()
    page.get_by_label("Email").fill("first.user@example.com")
    page.get_by_role("button", name="Create user").click()
    page.get_by_role("heading", level=1, name="first.user@example.com").wait_for()
    page.get_by_role("checkbox", name="On EMAIL").check()
    page.get_by_role("button", name="Save MFA status").click()
    page.get_by_role("status").filter(has_text="Saved").wait_for()
    base = url.group(1).removesuffix("/console/")
    server = LiveServer("sqlite", base, int(base.rsplit(":", 1)[1]), key_id, secret)
    user_id = page.url.split("/console/users/", 1)[1].split("?", 1)[0]
    status = mfa_status(server, user_id)
    assert [p["mfaPolicy"] for p in status["applicationMfa"] if p["status"] == 1] == ["EMAIL"]
    screenshot(page, "sqlite", "newcomer-user")
