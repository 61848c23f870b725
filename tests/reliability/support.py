"""Load on a live server while the database is in trouble, and what was answered when
(the outage tests: tests/reliability/test_outage.py, test_sqlite_outage.py)."""

from __future__ import annotations

import subprocess
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import httpx

from tests.compat.support import LiveServer, server_env, start_server
from tests.conftest import BOOTSTRAP_KEY_ID, BOOTSTRAP_SECRET, SECRET_KEY

CLIENTS = 8
REQUEST_TIMEOUT = 30.0  # a request still unanswered after this is a hung request
TROUBLE_SECONDS = 5.0


def serve_sqlite(database: Path, tmp_path: Path, **extra: str) -> tuple[subprocess.Popen[bytes], LiveServer]:
    """``twofold serve`` on the SQLite file ``database``, with the ``TWOFOLD_`` settings ``extra``."""
    env = server_env(f"sqlite:///{database}", tmp_path / "data", BOOTSTRAP_KEY_ID, BOOTSTRAP_SECRET, SECRET_KEY)
    env.update(extra)
    process, port = start_server(env, tmp_path, tmp_path / "server.log")
    return process, LiveServer("sqlite", f"http://127.0.0.1:{port}", port, BOOTSTRAP_KEY_ID, BOOTSTRAP_SECRET, env)


@dataclass(frozen=True)
class Answer:
    at: float
    outcome: str  # "200", "503/50302", ... or "error: <exception>"
    took: float  # seconds from sending the request


@dataclass(frozen=True)
class Run:
    answers: list[Answer]
    asked: float  # the trouble was asked for
    began: float  # it is there (the lock held, the disk full)
    ended: float  # it is gone
    recovered_at: float  # the last answer that was not a 200
    ready: tuple[int, int, int]  # /readyz before, during, after

    def during(self) -> list[str]:
        return [a.outcome for a in self.answers if self.began + 1 < a.at < self.ended]

    def summary(self, what: str, api_code: str) -> str:
        during = self.during()
        first_success = min((a.at for a in self.answers if a.at > self.ended and a.outcome == "200"), default=0.0)
        all_success = min((a.at for a in self.answers if a.at > self.recovered_at and a.outcome == "200"), default=0.0)
        return (f"{what} in {self.began - self.asked:.1f} s, for {self.ended - self.began:.1f} s: "
                f"{during.count(f'503/{api_code}')} requests answered 503/{api_code}, {during.count('200')} 200, "
                f"none hung, no 500, the slowest answer took {max(a.took for a in self.answers):.1f} s; "
                f"a request succeeded {first_success - self.ended:.1f} s after, "
                f"every request from {all_success - self.ended:.1f} s after")


def under_load(server: LiveServer, start: Callable[[], None], end: Callable[[], None], *,
               clients: int = CLIENTS, trouble_seconds: float = TROUBLE_SECONDS) -> Run:
    """Load from ``clients`` threads, ``start()`` the trouble, wait ``trouble_seconds``, ``end()`` it,
    load on; what was answered when."""
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
                sent = time.monotonic()
                try:
                    body = http.post("create-user", json={"username": f"trouble-{index}-{n}"}).json()
                    outcome = str(body["statusCode"]) + (f"/{body['apiCode']}" if body["statusCode"] != 200 else "")
                except (httpx.HTTPError, ValueError, KeyError) as exc:
                    outcome = f"error: {exc!r}"
                now = time.monotonic()
                with lock:
                    answers.append(Answer(now, outcome, now - sent))

    def readyz() -> int:
        return httpx.get(f"{server.base_url}/readyz", timeout=REQUEST_TIMEOUT).status_code

    threads = [threading.Thread(target=client, args=(i,), daemon=True) for i in range(clients)]
    for thread in threads:
        thread.start()
    time.sleep(2)
    ready_before = readyz()
    asked = time.monotonic()
    start()  # returns once the lock is held / the disk is full
    began = time.monotonic()
    time.sleep(trouble_seconds)
    ready_during = readyz()
    ended = time.monotonic()
    end()
    deadline = ended + 60
    while time.monotonic() < deadline and readyz() != 200:
        time.sleep(0.2)
    time.sleep(5)  # load on the recovered server
    stop.set()
    for thread in threads:
        thread.join(timeout=REQUEST_TIMEOUT + 5)
    assert not any(thread.is_alive() for thread in threads), "a request hung"
    failing = [a for a in answers if a.at > ended and a.outcome != "200"]
    recovered_at = max((a.at for a in failing), default=ended)
    return Run(answers, asked, began, ended, recovered_at, (ready_before, ready_during, readyz()))


def check(run: Run, api_code: str, *, successes_during: bool = True) -> None:
    """No error, no 500, ``/readyz`` 200 -> 503 -> 200; during the trouble only ``503/<api_code>`` (and
    200s when ``successes_during``: a lock lets some writes through); after it, recovery within 30 s."""
    assert run.ready == (200, 503, 200), run.ready
    assert not [a for a in run.answers if a.outcome.startswith(("error", "500"))], sorted({a.outcome for a in run.answers})
    during = run.during()
    allowed = {f"503/{api_code}", "200"} if successes_during else {f"503/{api_code}"}
    assert f"503/{api_code}" in during and set(during) <= allowed, sorted(set(during))
    after = [a for a in run.answers if a.at > run.ended]
    assert after[-1].outcome == "200" and run.recovered_at - run.ended < 30, run.recovered_at - run.ended
    assert all(a.outcome == "200" for a in after if a.at > run.recovered_at)


