"""PostgreSQL goes away under load, then comes back (docs/reliability.md#outages).

``twofold serve`` reaches PostgreSQL through a TCP relay in this process.  Cutting the relay closes
every connection and refuses new ones, as a stopped PostgreSQL does.  Freezing it keeps every
connection open and accepts new ones but forwards nothing, as a network path that drops every packet
does: only Twofold's own timeouts end a request then.  Under load (8 clients for the cut, 16 for the
freeze): every request gets an envelope within its timeout (a 503-class ``statusCode`` with apiCode
50301, never a 500, never a hung request), ``/readyz`` says not ready, and once the relay is back
every request succeeds again without a restart."""

from __future__ import annotations

import asyncio
import socket
import threading
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest

from tests.compat.support import LiveServer, pump, server_env, start_server, stop_server
from tests.conftest import BOOTSTRAP_KEY_ID, BOOTSTRAP_SECRET, POSTGRES_URL, SECRET_KEY, wipe_postgres
from tests.reliability.support import check, under_load
from twofold.storage.database import Timeouts, open_database
from twofold.storage.errors import DatabaseUnavailable

pytestmark = pytest.mark.skipif(not POSTGRES_URL, reason="TWOFOLD_TEST_POSTGRES_URL not set (PostgreSQL only)")


class Relay:
    """A TCP relay on a fixed local port to PostgreSQL that can be cut and restored, or frozen and thawed."""

    def __init__(self, upstream_port: int) -> None:
        self._upstream_port = upstream_port
        self._listener: socket.socket | None = None
        self._sockets: list[socket.socket] = []
        self._lock = threading.Lock()
        self._flowing = threading.Event()  # clear while frozen
        self._flowing.set()
        self.port = 0
        self.restore()

    def freeze(self) -> None:
        """Forward nothing, in either direction, on open or new connections; close nothing."""
        self._flowing.clear()

    def thaw(self) -> None:
        """Forward again (what was held back meanwhile goes through, as after a healed partition)."""
        self._flowing.set()

    def restore(self) -> None:
        self._listener = socket.create_server(("127.0.0.1", self.port))
        self.port = self._listener.getsockname()[1]
        threading.Thread(target=self._accept, args=(self._listener,), daemon=True).start()

    def cut(self) -> None:
        """Refuse new connections and close every open one."""
        assert self._listener is not None
        self._listener.shutdown(socket.SHUT_RDWR)  # wakes the accepting thread (close alone does not)
        self._listener.close()
        with self._lock:
            for sock in self._sockets:
                try:
                    sock.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
                sock.close()
            self._sockets.clear()

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return  # cut
            try:
                upstream = socket.create_connection(("127.0.0.1", self._upstream_port), timeout=10)
            except OSError:
                client.close()
                continue
            upstream.settimeout(None)  # an idle connection stays open, as PostgreSQL keeps it
            with self._lock:
                self._sockets += [client, upstream]
            for source, sink in ((client, upstream), (upstream, client)):
                threading.Thread(target=pump, args=(source, sink, None, self._flowing), daemon=True).start()


def relayed(url: str) -> tuple[Relay, str]:
    """A relay to the PostgreSQL of ``url``, and the URL that goes through it."""
    parts = urlsplit(url)
    relay = Relay(parts.port or 5432)
    return relay, urlunsplit(parts._replace(netloc=f"{parts.username or 'postgres'}@127.0.0.1:{relay.port}"))


@pytest.fixture
def relayed_server(postgres_ready: str, tmp_path: Path) -> Iterator[tuple[LiveServer, Relay]]:
    wipe_postgres(postgres_ready)
    relay, url = relayed(postgres_ready)
    env = server_env(url, tmp_path / "data", BOOTSTRAP_KEY_ID, BOOTSTRAP_SECRET, SECRET_KEY)
    process, port = start_server(env, tmp_path, tmp_path / "server.log")
    try:
        yield LiveServer("postgresql", f"http://127.0.0.1:{port}", port, BOOTSTRAP_KEY_ID, BOOTSTRAP_SECRET, env), relay
    finally:
        stop_server(process)
        relay.thaw()
        relay.cut()
        wipe_postgres(postgres_ready)


def test_an_outage_under_load_is_answered_and_recovered_from(relayed_server: tuple[LiveServer, Relay]) -> None:
    server, relay = relayed_server
    run = under_load(server, relay.cut, relay.restore)
    check(run, "50301", successes_during=False)  # a PostgreSQL that is gone lets nothing through
    print(run.summary("PostgreSQL cut", "50301"))


def test_a_hanging_database_under_load_is_answered_and_recovered_from(
    relayed_server: tuple[LiveServer, Relay],
) -> None:
    """With the default timeouts (connect 5 s, statement 10 s, pool 5 s), frozen for longer than any of them."""
    server, relay = relayed_server
    run = under_load(server, relay.freeze, relay.thaw, clients=16, trouble_seconds=12)
    check(run, "50301", successes_during=False)
    print(run.summary("PostgreSQL frozen", "50301"))


async def test_a_connection_that_stops_answering_is_dropped_and_the_listener_given_up(postgres_ready: str) -> None:
    """A statement on a frozen connection is ``DatabaseUnavailable`` after the statement timeout; that
    connection is not lent again (after the thaw the pool's one connection is a new backend); and the
    listening connection, frozen too, is given up (its ``on_lost`` runs) instead of waiting silently."""
    relay, url = relayed(postgres_ready)
    lost = asyncio.Event()
    db = await open_database(url, pool_size=1, timeouts=Timeouts(connect=1, statement=1, pool=1))
    try:
        assert await db.subscribe("twofold_test_outage", lambda _payload: None, lost.set)
        async with db.read() as conn:
            before = await conn.fetch_value("SELECT pg_backend_pid()")
        relay.freeze()
        with pytest.raises(DatabaseUnavailable):
            async with db.read() as conn:
                await conn.fetch_value("SELECT 1")
        await asyncio.wait_for(lost.wait(), 10)
        relay.thaw()
        async with db.read() as conn:
            assert await conn.fetch_value("SELECT pg_backend_pid()") != before
    finally:
        relay.thaw()
        await db.close()
        relay.cut()
