"""SQLite's outages under load: the database file locked by another program, and a full disk
(docs/reliability.md#sqlite-outages).

The same treatment as PostgreSQL's outage (tests/reliability/test_outage.py): a real ``twofold serve``,
8 clients creating users without pause; while the trouble lasts every request is answered within its
timeout with a 503-class envelope of its own apiCode (50302 lock, 50304 disk full), never a 500,
never a hung request; ``/readyz`` says not ready; once the trouble is gone every request succeeds again,
with no restart.
"""

from __future__ import annotations

import errno
import sqlite3
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from tests.compat.support import LiveServer, server_env, start_server, stop_server
from tests.conftest import BOOTSTRAP_KEY_ID, BOOTSTRAP_SECRET, SECRET_KEY

CLIENTS = 8
REQUEST_TIMEOUT = 30.0  # a request still unanswered after this is a hung request
TROUBLE_SECONDS = 5.0


@dataclass(frozen=True)
class Answer:
    at: float
    outcome: str  # "200", "503/50302", ... or "error: <exception>"


def serve(database: Path, tmp_path: Path, **extra: str) -> tuple[subprocess.Popen[bytes], LiveServer]:
    env = server_env(f"sqlite:///{database}", tmp_path / "data", BOOTSTRAP_KEY_ID, BOOTSTRAP_SECRET, SECRET_KEY)
    env.update(extra)
    process, port = start_server(env, tmp_path, tmp_path / "server.log")
    return process, LiveServer("sqlite", f"http://127.0.0.1:{port}", port, BOOTSTRAP_KEY_ID, BOOTSTRAP_SECRET, env)


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
        return (f"{what} in {self.began - self.asked:.1f} s, for {self.ended - self.began:.1f} s: "
                f"{during.count(f'503/{api_code}')} requests answered 503/{api_code}, {during.count('200')} 200, "
                f"none hung, no 500; every request succeeded {self.recovered_at - self.ended:.1f} s after")


def under_load(server: LiveServer, start: Callable[[], None], end: Callable[[], None]) -> Run:
    """Load, ``start()`` the trouble, wait, ``end()`` it, load on; what was answered when."""
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
                    body = http.post("create-user", json={"username": f"trouble-{index}-{n}"}).json()
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
    ready_before = readyz()
    asked = time.monotonic()
    start()  # returns once the lock is held / the disk is full
    began = time.monotonic()
    time.sleep(TROUBLE_SECONDS)
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


def check(run: Run, api_code: str) -> None:
    assert run.ready == (200, 503, 200), run.ready
    assert not [a for a in run.answers if a.outcome.startswith(("error", "500"))], sorted({a.outcome for a in run.answers})
    during = run.during()
    assert f"503/{api_code}" in during and set(during) <= {"200", f"503/{api_code}"}, sorted(set(during))
    after = [a for a in run.answers if a.at > run.ended]
    assert after[-1].outcome == "200" and run.recovered_at - run.ended < 30, run.recovered_at - run.ended
    assert all(a.outcome == "200" for a in after if a.at > run.recovered_at)


def test_a_database_file_locked_by_another_program(tmp_path: Path) -> None:
    database = tmp_path / "twofold.db"
    process, server = serve(database, tmp_path, TWOFOLD_SQLITE_LOCK_WAIT_SECONDS="1")
    holder = sqlite3.connect(database, isolation_level=None, timeout=30)
    try:
        def take() -> None:
            holder.execute("BEGIN EXCLUSIVE")  # another program's write transaction, held open
            holder.execute("CREATE TABLE IF NOT EXISTS other_program (x)")

        run = under_load(server, take, lambda: holder.execute("ROLLBACK"))
    finally:
        holder.close()
        stop_server(process)
    check(run, "50302")
    print(run.summary("lock taken", "50302"))


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A 128 MiB tmpfs (root only; skipped elsewhere): room for the WAL of the run, not for the filler too."""
    mount = tmp_path / "disk"
    mount.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=128m", "tmpfs", str(mount)],
                          capture_output=True, check=False)
    if done.returncode != 0:
        pytest.skip(f"cannot mount a small tmpfs: {done.stderr.decode(errors='replace').strip()}")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


def fill(path: Path) -> None:
    """Write ``path`` until the disk is full."""
    with path.open("wb", buffering=0) as out:
        chunk = b"\0" * 65536
        try:
            while True:
                out.write(chunk)
        except OSError as exc:
            assert exc.errno == errno.ENOSPC, exc
        try:
            while True:
                out.write(b"\0" * 512)
        except OSError as exc:
            assert exc.errno == errno.ENOSPC, exc


def test_a_full_disk(small_disk: Path, tmp_path: Path) -> None:
    filler = small_disk / "filler"
    process, server = serve(small_disk / "twofold.db", tmp_path)
    try:
        run = under_load(server, lambda: fill(filler), filler.unlink)
    finally:
        stop_server(process)
    check(run, "50304")
    print(run.summary("disk filled", "50304"))
