"""PostgreSQL goes away under load, then comes back (docs/reliability.md#outages).

``twofold serve`` reaches PostgreSQL through a TCP relay in this process.  Cutting the relay closes
every connection and refuses new ones, as a stopped PostgreSQL does.  Freezing it keeps every
connection open and accepts new ones but forwards nothing, as a network path that drops every packet
does: only Twofold's own timeouts end a request then.  Under load (8 clients for the cut, 16 for the
freeze): every request gets an envelope within its timeout (a 503-class ``statusCode`` with apiCode
50301, never a 500, never a hung request), ``/readyz`` says not ready, and once the relay is back
every request succeeds again without a restart.  The connection that listens for access-key changes,
ended by PostgreSQL, is opened again by itself, and a shutdown ends it without a word."""

from __future__ import annotations

import asyncio
import logging
import socket
import threading
import time
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg
import pytest

from tests.compat.support import LiveServer, pump, server_env, start_server, stop_server
from tests.conftest import BOOTSTRAP_KEY_ID, BOOTSTRAP_SECRET, POSTGRES_URL, SECRET_KEY, wipe_postgres
from tests.reliability.support import check, under_load
from twofold.config import Settings
from twofold.errors import AuthenticationFailed
from twofold.services.access_keys import NewAccessKey
from twofold.services.container import Services, build_services
from twofold.storage.database import Timeouts, open_database
from twofold.storage.errors import DatabaseUnavailable
from twofold.storage.repositories.access_keys import KEY_CHANGES_CHANNEL

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

    def refuse(self) -> None:
        """Refuse new connections; the open ones carry on."""
        assert self._listener is not None
        self._listener.shutdown(socket.SHUT_RDWR)  # wakes the accepting thread (close alone does not)
        self._listener.close()

    def cut(self) -> None:
        """Refuse new connections and close every open one."""
        self.refuse()
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
    listening connection, frozen too, is given up (its ``on_lost`` runs) instead of waiting silently,
    and opened again once the relay forwards again (its ``on_restored`` runs)."""
    relay, url = relayed(postgres_ready)
    lost, restored = asyncio.Event(), asyncio.Event()
    db = await open_database(url, pool_size=1, timeouts=Timeouts(connect=1, statement=1, pool=1))
    try:
        assert await db.subscribe("twofold_test_outage", lambda _payload: None, lost.set, restored.set)
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
        await asyncio.wait_for(restored.wait(), 60)  # listening again, on a new connection
    finally:
        relay.thaw()
        await db.close()
        relay.cut()


def listening_backends(url: str) -> list[int]:
    """The backends that listen for access-key changes (the last statement they ran was the LISTEN)."""
    with psycopg.connect(url, autocommit=True) as conn:
        rows = conn.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND query = %s",
            (f'LISTEN "{KEY_CHANGES_CHANNEL}"',),
        ).fetchall()
    return [pid for (pid,) in rows]


async def until(condition: Callable[[], bool], seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "not within the (generous) deadline"
        await asyncio.sleep(0.02)


async def refused(server: Services, token: str) -> bool:
    try:
        await server.keys.authenticate_bearer(token, {})
    except AuthenticationFailed:
        return True
    return False


@pytest.fixture
async def relayed_services(postgres_ready: str, tmp_path: Path) -> AsyncIterator[tuple[Services, Services, Relay]]:
    """The services of a server that reaches PostgreSQL through a relay, and of a CLI that does not."""
    wipe_postgres(postgres_ready)
    relay, url = relayed(postgres_ready)
    settings = Settings(database_url=postgres_ready, data_dir=tmp_path / "data", secret_key=SECRET_KEY)
    cli = await build_services(settings)
    server = await build_services(settings.model_copy(update={"database_url": url}))
    try:
        yield server, cli, relay
    finally:
        await server.close()
        await cli.close()
        relay.cut()
        wipe_postgres(postgres_ready)


async def test_a_lost_listener_is_renewed_and_keys_trusted_again(
    relayed_services: tuple[Services, Services, Relay], postgres_ready: str
) -> None:
    """PostgreSQL ends the server's listening connection (``pg_terminate_backend``, as a restart does)
    while the relay refuses new connections, so that it cannot listen again yet: keys are looked up on
    every request.  Once connections are let through it listens again by itself, forgetting the keys
    it looked up meanwhile (a revocation made meanwhile was announced to no one), and a revocation made
    after that reaches the keys it remembers again through the announcement."""
    server, cli, relay = relayed_services
    pool, _ = await cli.keys.ensure_default_pool()
    keys: list[NewAccessKey] = [await cli.keys.create_key(pool.id) for _ in range(3)]
    kept, revoked_while_lost, revoked_unseen = keys
    await server.keys.watch_for_changes()
    assert server.keys.told_of_changes
    tokens = [(await server.keys.issue_token(k.id, k.secret)).access_token for k in keys]  # each remembered
    [listener] = listening_backends(postgres_ready)

    relay.refuse()  # the server's pooled connection carries on; no new one gets through
    with psycopg.connect(postgres_ready, autocommit=True) as conn:
        assert conn.execute("SELECT pg_terminate_backend(%s)", (listener,)).fetchone() == (True,)
    await until(lambda: not server.keys.told_of_changes)
    await cli.keys.revoke_key(revoked_while_lost.id)
    assert await refused(server, tokens[1])  # at once: looked up, not remembered
    assert not await refused(server, tokens[2])  # looked up (and kept) while not listening...
    await cli.keys.revoke_key(revoked_unseen.id)  # ...then revoked: announced to no one
    assert not server.keys.told_of_changes  # it cannot listen again while the relay refuses

    relay.restore()
    await until(lambda: server.keys.told_of_changes)
    assert listening_backends(postgres_ready) not in ([], [listener])
    assert await refused(server, tokens[2])  # forgotten when listening again
    for _ in range(3):  # remembered again: no lookup on these
        assert (await server.keys.authenticate_bearer(tokens[0], {})).access_key_id == kept.id
    await cli.keys.revoke_key(kept.id)
    deadline = time.monotonic() + 60  # a NOTIFY arrives within milliseconds of the commit
    while not await refused(server, tokens[0]):
        assert time.monotonic() < deadline
        await asyncio.sleep(0.02)
    assert server.keys.told_of_changes


async def test_a_shutdown_ends_the_listener_without_a_warning_or_a_renewal(
    postgres_ready: str, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    settings = Settings(database_url=postgres_ready, data_dir=tmp_path / "data", secret_key=SECRET_KEY)
    server = await build_services(settings)
    await server.keys.watch_for_changes()
    assert listening_backends(postgres_ready)
    with caplog.at_level(logging.INFO, logger="twofold"):
        await server.close()
        await asyncio.sleep(0)  # asyncpg runs termination listeners on the next turn of the loop
    assert [r.getMessage() for r in caplog.records if r.name.startswith("twofold")] == []
    assert [t for t in asyncio.all_tasks() if t is not asyncio.current_task()] == []  # no renewal pending
