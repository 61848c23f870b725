"""PostgreSQL goes away under load, then comes back (docs/reliability.md#outages).

``twofold serve`` reaches PostgreSQL through a TCP relay in this process; cutting the relay closes
every connection and refuses new ones, as a stopped PostgreSQL does.  Under 8 concurrent clients:
every request gets an envelope within its timeout (a 503-class ``statusCode`` with apiCode 50301, never
a 500, never a hung request), ``/readyz`` says not ready, and once the relay is back every request
succeeds again without a restart."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import httpx
import pytest

from tests.compat.support import LiveServer, pump, server_env, start_server, stop_server
from tests.conftest import BOOTSTRAP_KEY_ID, BOOTSTRAP_SECRET, POSTGRES_URL, SECRET_KEY, wipe_postgres

CLIENTS = 8
REQUEST_TIMEOUT = 30.0  # a request still unanswered after this is a hung request
pytestmark = pytest.mark.skipif(not POSTGRES_URL, reason="TWOFOLD_TEST_POSTGRES_URL not set (PostgreSQL only)")


class Relay:
    """A TCP relay on a fixed local port to PostgreSQL that can be cut and restored."""

    def __init__(self, upstream_port: int) -> None:
        self._upstream_port = upstream_port
        self._listener: socket.socket | None = None
        self._sockets: list[socket.socket] = []
        self._lock = threading.Lock()
        self.port = 0
        self.restore()

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
            with self._lock:
                self._sockets += [client, upstream]
            for source, sink in ((client, upstream), (upstream, client)):
                threading.Thread(target=pump, args=(source, sink), daemon=True).start()


@dataclass(frozen=True)
class Answer:
    at: float
    outcome: str  # "200", "503/50301", ... or "error: <exception>"


@pytest.fixture
def relayed_server(postgres_ready: str, tmp_path: Path) -> Iterator[tuple[LiveServer, Relay]]:
    wipe_postgres(postgres_ready)
    parts = urlsplit(postgres_ready)
    relay = Relay(parts.port or 5432)
    url = urlunsplit(parts._replace(netloc=f"{parts.username or 'postgres'}@127.0.0.1:{relay.port}"))
    env = server_env(url, tmp_path / "data", BOOTSTRAP_KEY_ID, BOOTSTRAP_SECRET, SECRET_KEY)
    process, port = start_server(env, tmp_path, tmp_path / "server.log")
    try:
        yield LiveServer("postgresql", f"http://127.0.0.1:{port}", port, BOOTSTRAP_KEY_ID, BOOTSTRAP_SECRET, env), relay
    finally:
        stop_server(process)
        relay.cut()
        wipe_postgres(postgres_ready)


def test_an_outage_under_load_is_answered_and_recovered_from(relayed_server: tuple[LiveServer, Relay]) -> None:
    server, relay = relayed_server
    token = server.management_token()
    answers: list[Answer] = []
    lock = threading.Lock()
    stop = threading.Event()

    def client(index: int) -> None:
        headers = {"authorization": f"Bearer {token}"}
        with httpx.Client(base_url=f"{server.base_url}/api/v3", headers=headers, timeout=REQUEST_TIMEOUT) as http:
            n = 0
            while not stop.is_set():
                n += 1
                try:
                    body = http.post("create-user", json={"username": f"outage-{index}-{n}"}).json()
                    outcome = str(body["statusCode"]) + (f"/{body['apiCode']}" if body["statusCode"] != 200 else "")
                except (httpx.HTTPError, ValueError, KeyError) as exc:
                    outcome = f"error: {exc!r}"
                with lock:
                    answers.append(Answer(time.monotonic(), outcome))

    def readyz() -> int:
        return httpx.get(f"{server.base_url}/readyz", timeout=REQUEST_TIMEOUT).status_code

    threads = [threading.Thread(target=client, args=(i,), daemon=True) for i in range(CLIENTS)]
    for thread in threads:
        thread.start()
    time.sleep(2)
    assert readyz() == 200
    cut_at = time.monotonic()
    relay.cut()
    time.sleep(5)
    ready_during = readyz()
    restored_at = time.monotonic()
    relay.restore()
    deadline = restored_at + 120
    while time.monotonic() < deadline and readyz() != 200:
        time.sleep(0.2)
    time.sleep(5)  # load on the recovered server
    stop.set()
    for thread in threads:
        thread.join(timeout=REQUEST_TIMEOUT + 5)
    assert not any(thread.is_alive() for thread in threads), "a request hung"

    assert ready_during == 503
    during = [a.outcome for a in answers if cut_at + 1 < a.at < restored_at]
    assert during and set(during) <= {"503/50301"}, sorted(set(during))
    assert not [a for a in answers if a.outcome.startswith("error") or a.outcome.startswith("500")]
    after = [a for a in answers if a.at > restored_at]
    failing = [a for a in after if a.outcome != "200"]
    recovered_at = max((a.at for a in failing), default=restored_at)
    assert after[-1].outcome == "200" and recovered_at - restored_at < 60, (recovered_at - restored_at)
    assert all(a.outcome == "200" for a in after if a.at > recovered_at)
    print(f"outage {restored_at - cut_at:.1f} s: {len(during)} requests answered 503/50301, none hung; "
          f"every request succeeded {recovered_at - restored_at:.1f} s after PostgreSQL came back")
