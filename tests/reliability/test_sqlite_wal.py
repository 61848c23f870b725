"""SQLite's WAL stays bounded under sustained writes with concurrent readers
(docs/reliability.md#sqlite-wal).

A real ``twofold serve`` with 2 worker processes on SQLite; 8 clients create users without pause until
5,000 are acknowledged (``TWOFOLD_WAL_WRITES``; 20,000 with ``make chaos``), while 4 clients list users
(each list counts the whole table: a read that holds its snapshot longer as the table grows).  A thread
polls the size of the ``-wal`` file every 5 ms.  Its largest size must stay under
``TWOFOLD_SQLITE_WAL_MAX_BYTES`` plus one checkpoint's worth of writes (what the writers add between
the moment the WAL crosses the bound and the checkpoint that empties it).
"""

from __future__ import annotations

import itertools
import os
import threading
import time
from pathlib import Path

import httpx

from tests.compat.support import stop_server
from tests.reliability.support import serve_sqlite

WRITES = int(os.environ.get("TWOFOLD_WAL_WRITES", "5000"))  # 20,000 with `make chaos`
WRITERS, READERS = 8, 4
WAL_MAX_BYTES = 4 * 1024 * 1024  # set for the run (the default is 16 MiB): small, so the bound is crossed often
# One checkpoint's worth: what the writers already under way append after the file crossed the bound,
# before each process holds its writes (measured: at most 0.4 MiB; without the bound the file reached 11-19 MiB).
SLACK_BYTES = 2 * 1024 * 1024


def test_the_wal_stays_bounded_under_sustained_writes_and_readers(tmp_path: Path) -> None:
    database = tmp_path / "twofold.db"
    process, server = serve_sqlite(
        database, tmp_path, TWOFOLD_WORKERS="2", TWOFOLD_SQLITE_WAL_MAX_BYTES=str(WAL_MAX_BYTES)
    )
    wal = Path(f"{database}-wal")
    numbers = itertools.count()
    written: list[int] = []
    failures: list[str] = []
    sizes: list[int] = []
    done = threading.Event()
    try:
        headers = {"authorization": f"Bearer {server.management_token()}"}

        def writer() -> None:
            with httpx.Client(base_url=f"{server.base_url}/api/v3", headers=headers, timeout=30) as http:
                while (n := next(numbers)) < WRITES:
                    body = http.post("create-user", json={"username": f"wal-{n}"}).json()
                    if body["statusCode"] == 200:
                        written.append(n)
                    else:
                        failures.append(str(body))

        def reader() -> None:
            with httpx.Client(base_url=f"{server.base_url}/api/v3", headers=headers, timeout=30) as http:
                while not done.is_set():
                    body = http.get("list-users", params={"page": 1, "limit": 10}).json()
                    if body["statusCode"] != 200:
                        failures.append(str(body))

        def poll() -> None:
            while not done.is_set():
                try:
                    sizes.append(wal.stat().st_size)
                except FileNotFoundError:
                    pass
                time.sleep(0.005)

        pollers = [threading.Thread(target=poll, daemon=True)]
        readers = [threading.Thread(target=reader, daemon=True) for _ in range(READERS)]
        writers = [threading.Thread(target=writer, daemon=True) for _ in range(WRITERS)]
        started = time.monotonic()
        for thread in pollers + readers + writers:
            thread.start()
        for thread in writers:
            thread.join(timeout=600)
        seconds = time.monotonic() - started
        done.set()
        for thread in pollers + readers:
            thread.join(timeout=60)
    finally:
        done.set()
        stop_server(process)
    assert not failures, failures[:5]
    assert len(written) == WRITES
    largest = max(sizes)
    print(f"{WRITES} users created in {seconds:.1f} s ({WRITES / seconds:.0f}/s) with {READERS} readers: "
          f"the WAL was at most {largest / 2**20:.2f} MiB (bound {WAL_MAX_BYTES / 2**20:.0f} MiB), "
          f"{len(sizes)} samples")
    assert largest <= WAL_MAX_BYTES + SLACK_BYTES, largest
