"""The audit page's integrity line, against a real ``twofold serve`` (its own, since these tests tamper
with its database): the server's seal loop seals the events within seconds, the page says the chain is
intact, and after a raw SQL edit of a sealed event it names that event; the edit undone, intact again.
Over plain HTTP and in the browser (Debian's Chromium through Playwright), on both databases."""

from __future__ import annotations

import re
import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx
import psycopg
from playwright.sync_api import expect

from tests.compat.support import LiveServer
from tests.console.conftest import Clients, screenshot
from tests.console.support import create_user
from tests.console.test_browser import sign_in

INTACT = re.compile(r"intact \((\d+) sealed, 0 pending\)")
MISMATCH = "the mac does not match (edited or reordered)"


def raw_sql(server: LiveServer, statement: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """``statement`` on the server's database, through the driver (``?`` placeholders)."""
    url = server.env["TWOFOLD_DATABASE_URL"]
    if url.startswith("sqlite:///"):
        with sqlite3.connect(url.removeprefix("sqlite:///")) as conn:
            return list(conn.execute(statement, params).fetchall())
    with psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://"), autocommit=True) as conn:
        cursor = conn.execute(statement.replace("?", "%s"), params)  # type: ignore[arg-type]
        return list(cursor.fetchall()) if cursor.description else []


@contextmanager
def first_event_edited(server: LiveServer) -> Iterator[int]:
    """Edit the action of the event at chain_seq 1 (its id), and put it back afterwards."""
    ((event_id, action),) = raw_sql(server, "SELECT id, action FROM audit_events WHERE chain_seq = 1")
    raw_sql(server, "UPDATE audit_events SET action = ? WHERE id = ?", ("mfa.unlock", event_id))
    try:
        yield event_id
    finally:
        raw_sql(server, "UPDATE audit_events SET action = ? WHERE id = ?", (action, event_id))


def sealed_page(client: httpx.Client) -> str:
    """The audit page once nothing is pending (the server seals every second)."""
    deadline = time.monotonic() + 20
    while True:
        text = client.get("/console/audit?check=1").text
        if INTACT.search(text) or time.monotonic() > deadline:
            return text
        time.sleep(0.2)


def test_the_audit_page_says_intact_then_names_the_edited_event(
    live_server: LiveServer, clients: Clients
) -> None:
    create_user(live_server)
    client = clients.signed_in()
    found = INTACT.search(sealed_page(client))
    assert found and int(found.group(1)) >= 1
    with first_event_edited(live_server) as event_id:
        assert INTACT.search(client.get("/console/audit").text)  # the result is reused for its max age
        page = client.get("/console/audit?check=1").text
        assert f"tampered at event #{event_id} ({MISMATCH})" in page
        assert 'role="alert"' in page
    assert INTACT.search(client.get("/console/audit?check=1").text)


def test_the_browser_shows_the_integrity_line(page: Any, live_server: LiveServer, clients: Clients) -> None:
    create_user(live_server)
    sealed_page(clients.signed_in())
    sign_in(page, live_server)
    page.get_by_role("link", name="Audit trail").click()
    page.get_by_role("button", name="Check now").click()
    expect(page.get_by_role("status")).to_contain_text(
        re.compile(r"Chain integrity: intact \(\d+ sealed, \d+ pending\)")
    )
    with first_event_edited(live_server) as event_id:
        page.get_by_role("button", name="Check now").click()
        expect(page.get_by_role("alert")).to_have_text(
            f"Chain integrity: tampered at event #{event_id} ({MISMATCH})"
        )
        screenshot(page, live_server.backend, "audit-tampered")
    page.get_by_role("button", name="Check now").click()
    expect(page.get_by_role("status")).to_contain_text("Chain integrity: intact")
