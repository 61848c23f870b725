"""Fixtures of the console's browser tests: Debian's Chromium driven by Playwright, against a live server.

The server is the root ``live_server`` (a real ``twofold serve`` per database backend, module scope).
Each test gets a fresh browser profile (its own user-data dir, so no cookie carries over) and a page
that records every browser console error, every uncaught page error and every request to another
host; the ``page`` fixture fails the test at teardown if there was any.  Screenshots go to
``.artifacts/console/`` (gitignored).
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest

CHROMIUM = Path(os.environ.get("TWOFOLD_TEST_CHROMIUM", "/usr/bin/chromium"))
LAUNCH_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
ARTIFACTS = Path(__file__).resolve().parents[2] / ".artifacts" / "console"
TIMEOUT_MS = 15_000


@dataclass
class Watch:
    """What a page did that no console page may do."""

    host: str
    console_errors: list[str] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)
    foreign_requests: list[str] = field(default_factory=list)
    dialogs: list[str] = field(default_factory=list)

    def problems(self) -> list[str]:
        return [
            *(f"console error: {e}" for e in self.console_errors),
            *(f"page error: {e}" for e in self.page_errors),
            *(f"request to another host: {u}" for u in self.foreign_requests),
            *(f"dialog opened: {d}" for d in self.dialogs),
        ]


@pytest.fixture(scope="session")
def chromium() -> Path:
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} not installed: the console's browser tests need Debian's chromium package")
    return CHROMIUM


@pytest.fixture(scope="module")
def playwright_driver(chromium: Path) -> Iterator[Any]:
    """Module scope, not session: while the sync driver runs, its event loop is the thread's running
    loop, so it must be gone before any asyncio test of another module starts."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as driver:
        yield driver


@pytest.fixture
def browser_context(playwright_driver: Any, chromium: Path, tmp_path: Path) -> Iterator[Any]:
    context = playwright_driver.chromium.launch_persistent_context(
        str(tmp_path / "profile"),
        executable_path=str(chromium),
        args=LAUNCH_FLAGS,
        headless=True,
        viewport={"width": 1280, "height": 900},
    )
    context.set_default_timeout(TIMEOUT_MS)
    try:
        yield context
    finally:
        context.close()


@pytest.fixture
def watch(live_server: Any) -> Watch:
    return Watch(urlsplit(live_server.base_url).netloc)


@pytest.fixture
def page(browser_context: Any, watch: Watch) -> Iterator[Any]:
    page = browser_context.pages[0] if browser_context.pages else browser_context.new_page()

    def on_console(message: Any) -> None:
        if message.type == "error":
            watch.console_errors.append(message.text)

    def on_request(request: Any) -> None:
        parts = urlsplit(request.url)
        if parts.scheme in ("http", "https", "ws", "wss") and parts.netloc != watch.host:
            watch.foreign_requests.append(request.url)

    def on_dialog(dialog: Any) -> None:
        watch.dialogs.append(dialog.message)
        dialog.dismiss()

    page.on("console", on_console)
    page.on("pageerror", lambda error: watch.page_errors.append(str(error)))
    page.on("request", on_request)
    page.on("dialog", on_dialog)
    yield page
    assert not watch.problems(), "\n".join(watch.problems())


def screenshot(page: Any, backend: str, name: str) -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{backend}-{re.sub(r'[^a-z0-9-]+', '-', name.lower())}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


# ------------------------------------------------------------------------------------- HTTP helpers
class Clients:
    """Plain HTTP clients of the live server (for the requests a browser would not send), closed at
    the end of the test."""

    def __init__(self, server: Any) -> None:
        self.server = server
        self.opened: list[httpx.Client] = []

    def anonymous(self) -> httpx.Client:
        client = httpx.Client(base_url=self.server.base_url, timeout=10)
        self.opened.append(client)
        return client

    def signed_in(self, key_id: str | None = None, secret: str | None = None) -> httpx.Client:
        client = self.anonymous()
        token = csrf_of(client.get("/console/signin").text)
        response = client.post(
            "/console/signin",
            data={
                "csrf": token,
                "access_key_id": key_id or self.server.access_key_id,
                "access_key_secret": secret or self.server.access_key_secret,
            },
        )
        assert response.status_code == 303, response.text
        return client


@pytest.fixture
def clients(live_server: Any) -> Iterator[Clients]:
    made = Clients(live_server)
    try:
        yield made
    finally:
        for client in made.opened:
            client.close()


def csrf_of(html: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', html)
    assert found, html
    return found.group(1)
