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
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.compat.support import stop_server
from tests.reliability.support import check, serve_sqlite, under_load


def test_a_database_file_locked_by_another_program(tmp_path: Path) -> None:
    database = tmp_path / "twofold.db"
    process, server = serve_sqlite(database, tmp_path, TWOFOLD_SQLITE_LOCK_WAIT_SECONDS="1")
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
    process, server = serve_sqlite(small_disk / "twofold.db", tmp_path)
    try:
        run = under_load(server, lambda: fill(filler), filler.unlink)
    finally:
        stop_server(process)
    check(run, "50304")
    print(run.summary("disk filled", "50304"))
