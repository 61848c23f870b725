"""WAL checkpoints for SQLite, off the event loop.

WAL checkpoints (copying the log back into the database file, with an fsync) take milliseconds; left
to SQLite they run inside whichever COMMIT crosses 1,000 pages, stalling that worker's event loop.
So the writer does not checkpoint (``wal_autocheckpoint=0``); a background task does it twice a
second in a worker thread, on a connection of its own.  Each round first copies what it can without
blocking anyone (PASSIVE), then finishes with a RESTART checkpoint, which holds off new writers for
the moment it takes to copy the last frames, so that the next write starts the log from the
beginning.  PASSIVE alone never gets there under a steady stream of writes from several processes
(the log always has new frames by the time a checkpoint ends): the log then grew by ~50 MB/s under
load, and every page lookup of every reader searched it, halving throughput within seconds.

The rounds alone do not bound the log's size: every COMMIT appends each page it changed (a user
creation touches a dozen pages of tables and indexes), so under sustained writes the log gained
several MB between two rounds, and the file never shrinks by itself (17 MiB within seconds,
docs/reliability.md#sqlite-wal).  So the writer also checks the file's size after each COMMIT, and
past ``sqlite_wal_max_bytes`` holds its writes for a TRUNCATE checkpoint at once
(``SqliteDatabase._bound_wal``, ``truncate``): the file is emptied.  ``journal_size_limit`` on the writer cuts a
file that the rounds restarted back to the bound as well.
"""

from __future__ import annotations

import asyncio
import sqlite3
import threading
import time
from contextlib import suppress


class Checkpointer:
    def __init__(self, conn: sqlite3.Connection) -> None:
        self._conn = conn  # its own connection, with a short busy_timeout for the RESTART step
        self._lock = threading.Lock()
        self._task: asyncio.Task[None] | None = None

    def start(self, interval_seconds: float) -> None:
        """Checkpoint every ``interval_seconds`` (call from the event loop that uses the database)."""
        self._task = asyncio.get_running_loop().create_task(self._loop(interval_seconds))

    async def _loop(self, interval_seconds: float) -> None:
        while True:
            await asyncio.sleep(interval_seconds)
            await asyncio.to_thread(self.checkpoint)

    def checkpoint(self) -> None:
        with self._lock:
            try:
                self._conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
                self._conn.execute("PRAGMA wal_checkpoint(RESTART)").fetchall()
            except sqlite3.OperationalError:
                pass  # another process is checkpointing right now; the next round will do

    def truncate(self, within_seconds: float) -> bool:
        """Copy the whole log into the database and empty the file, retrying while another connection
        writes or still reads old frames (each try waits the connection's busy_timeout), for at most
        ``within_seconds``; whether it was done."""
        deadline = time.monotonic() + within_seconds
        with self._lock:
            while True:
                try:
                    busy = self._conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()[0]
                except sqlite3.OperationalError:
                    busy = 1  # another process is checkpointing
                if not busy or time.monotonic() >= deadline:
                    return not busy
                time.sleep(0.001)

    async def close(self) -> None:
        """Stop the task, checkpoint one last time, close the connection."""
        if self._task is not None:
            self._task.cancel()
            with suppress(asyncio.CancelledError):
                await self._task
        self.checkpoint()
        with self._lock:
            self._conn.close()
