"""SQLite through the stdlib ``sqlite3``, called directly on the event loop.

An indexed statement takes ~15 us; a thread hand-off alone costs ~130 us, so there is none.  WAL mode;
per process one writer connection, used by one transaction at a time (an ``asyncio.Lock``:
uncontended it costs nothing and never yields), with ``BEGIN IMMEDIATE`` retried asynchronously while
another process writes; and one reader connection.  Small writes go through group commit
(``storage/group_commit.py``), checkpoints run in the background (``storage/checkpoints.py``), and
waiting writers take turns fairly across processes (``storage/writer_turn.py``).

Every ``sqlite3`` exception is turned into a ``storage/errors.py`` one by ``translate_sqlite``, here
and only here.
"""

from __future__ import annotations

import asyncio
import logging
import os
import re
import sqlite3
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Any, TypeVar

from twofold.storage.checkpoints import Checkpointer
from twofold.storage.errors import (
    DatabaseFull,
    DatabaseUnavailable,
    ForeignKeyViolation,
    InvalidData,
    StorageError,
    UniqueViolation,
    WriteLockTimeout,
)
from twofold.storage.group_commit import GroupCommit
from twofold.storage.writer_turn import WriterTurn

if TYPE_CHECKING:
    from twofold.storage.database import Connection, Params, Row

T = TypeVar("T")
log = logging.getLogger("twofold.storage")
_UNIQUE_COLUMNS = re.compile(r"constraint failed: (.+)$")
_UNAVAILABLE = ("SQLITE_CANTOPEN", "SQLITE_IOERR", "SQLITE_NOTADB", "SQLITE_CORRUPT", "SQLITE_READONLY")


def translate_sqlite(exc: BaseException) -> BaseException:
    """The storage error for a ``sqlite3`` exception (or ``OverflowError``); anything else unchanged."""
    if isinstance(exc, OverflowError):  # a Python int beyond SQLite's 64 bits
        return InvalidData(str(exc))
    if not isinstance(exc, sqlite3.Error):
        return exc
    name = getattr(exc, "sqlite_errorname", "") or ""
    text = str(exc)
    if name in ("SQLITE_CONSTRAINT_UNIQUE", "SQLITE_CONSTRAINT_PRIMARYKEY"):
        table, columns = "", tuple[str, ...]()
        match = _UNIQUE_COLUMNS.search(text)  # "UNIQUE constraint failed: users.pool_id, users.email"
        if match:
            qualified = [part.strip() for part in match.group(1).split(",")]
            table = qualified[0].partition(".")[0]
            columns = tuple(part.partition(".")[2] for part in qualified)
        return UniqueViolation(text, table=table, columns=columns)
    if name == "SQLITE_CONSTRAINT_FOREIGNKEY":
        return ForeignKeyViolation(text)
    if isinstance(exc, sqlite3.DataError) or name in ("SQLITE_TOOBIG", "SQLITE_MISMATCH"):
        return InvalidData(text)
    if isinstance(exc, sqlite3.IntegrityError):  # NOT NULL, CHECK
        return InvalidData(text)
    if name == "SQLITE_FULL" or "database or disk is full" in text:
        return DatabaseFull(text)
    if name.startswith(("SQLITE_BUSY", "SQLITE_LOCKED")):
        return WriteLockTimeout(text)
    if name.startswith(_UNAVAILABLE):
        return DatabaseUnavailable(text)
    return StorageError(f"{type(exc).__name__}: {text}")


class SqliteConnection:
    dialect = "sqlite"

    def __init__(self, conn: sqlite3.Connection) -> None:
        self._conn = conn

    async def fetch_one(self, sql: str, params: Params | None = None) -> Row | None:
        try:
            row: Row | None = self._conn.execute(sql, params or {}).fetchone()
        except (sqlite3.Error, OverflowError) as exc:
            raise translate_sqlite(exc) from exc
        return row

    async def fetch_all(self, sql: str, params: Params | None = None) -> list[Row]:
        try:
            return list(self._conn.execute(sql, params or {}).fetchall())
        except (sqlite3.Error, OverflowError) as exc:
            raise translate_sqlite(exc) from exc

    async def fetch_value(self, sql: str, params: Params | None = None) -> Any:
        try:
            row = self._conn.execute(sql, params or {}).fetchone()
        except (sqlite3.Error, OverflowError) as exc:
            raise translate_sqlite(exc) from exc
        return None if row is None else row[0]

    async def execute(self, sql: str, params: Params | None = None) -> int:
        try:
            return self._conn.execute(sql, params or {}).rowcount
        except (sqlite3.Error, OverflowError) as exc:
            raise translate_sqlite(exc) from exc

    async def execute_many(self, sql: str, rows: Sequence[Params]) -> None:
        try:
            self._conn.executemany(sql, rows)
        except (sqlite3.Error, OverflowError) as exc:
            raise translate_sqlite(exc) from exc


def sqlite_connect(path: str, busy_timeout_ms: int) -> sqlite3.Connection:
    try:
        conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        conn.row_factory = sqlite3.Row
        for pragma in (
            "PRAGMA journal_mode=WAL",
            "PRAGMA synchronous=NORMAL",
            "PRAGMA foreign_keys=ON",  # ON DELETE CASCADE and references hold on every connection
            f"PRAGMA busy_timeout={busy_timeout_ms}",
        ):
            conn.execute(pragma)
    except sqlite3.Error as exc:
        raise translate_sqlite(exc) from exc
    return conn


class SqliteDatabase:
    """Two connections per process: a writer for transactions, a reader for everything else.

    WAL lets the reader run while any process writes.  SQLite allows one writer at a time across
    processes; when another process holds it, ``BEGIN IMMEDIATE`` is retried with ``asyncio.sleep``
    (steps of 0.1-1 ms), so a waiting worker keeps serving reads instead of blocking its event loop
    in SQLite's own busy handler, which sleeps in steps of 1 ms and more.  After ``lock_wait_seconds``
    the write fails with ``WriteLockTimeout``.
    """

    dialect = "sqlite"
    LOCK_WAIT_SECONDS = 5.0
    CHECKPOINT_INTERVAL_SECONDS = 0.5
    WRITE_TROUBLE_SECONDS = 2.0  # not ready for this long (plus the lock wait) after a failed write
    RESTART_WAIT_MS = 200  # how long a RESTART checkpoint may wait for the current writer and readers
    WAL_MAX_BYTES = 16 * 1024 * 1024  # past this, the writer holds its writes for a checkpoint at once
    TRUNCATE_WITHIN_SECONDS = 1.0  # how long that checkpoint may keep trying (holding this process's writes)
    BOUND_RETRY_SECONDS = 5.0  # after it could not be done (a reader holds old frames), the writes go on this long

    def __init__(self, path: str, lock_wait_seconds: float | None = None, wal_max_bytes: int | None = None) -> None:
        if lock_wait_seconds is not None:
            self.LOCK_WAIT_SECONDS = lock_wait_seconds
        if wal_max_bytes is not None:
            self.WAL_MAX_BYTES = wal_max_bytes
        self._wal = f"{path}-wal"
        self._writer = sqlite_connect(path, busy_timeout_ms=0)
        self._writer.execute("PRAGMA wal_autocheckpoint=0")
        self._writer.execute(f"PRAGMA journal_size_limit={self.WAL_MAX_BYTES}")
        self._reader = sqlite_connect(path, busy_timeout_ms=5000)
        self._checkpoints = Checkpointer(sqlite_connect(path, busy_timeout_ms=self.RESTART_WAIT_MS))
        self._lock = asyncio.Lock()
        self._turn = WriterTurn(f"{path}-writers")
        self._write = SqliteConnection(self._writer)
        self._read = SqliteConnection(self._reader)
        self._group = GroupCommit(
            self._writer, self._write, self._lock, self._begin, self._turn, self._translate, self._after_commit
        )
        self._bounding: asyncio.Task[None] | None = None
        self._bound_again_at = float("-inf")
        self._write_trouble_at = float("-inf")  # when a write last failed for the lock or for space

    def start_checkpoints(self) -> None:
        """Checkpoint the WAL in the background (call from the event loop that uses this database)."""
        self._checkpoints.start(self.CHECKPOINT_INTERVAL_SECONDS)

    def checkpoint(self) -> None:
        self._checkpoints.checkpoint()

    def _after_commit(self) -> None:
        """After each COMMIT (a ``stat``, microseconds): a log past ``WAL_MAX_BYTES`` is checkpointed now."""
        if (self._bounding is not None and not self._bounding.done()) or time.monotonic() < self._bound_again_at:
            return
        try:
            size = os.stat(self._wal).st_size
        except OSError:
            return
        if size > self.WAL_MAX_BYTES:
            self._bounding = asyncio.get_running_loop().create_task(self._bound_wal())

    async def _bound_wal(self) -> None:
        """Hold this process's writes and ask the other processes for the next turn of the write lock
        (``WriterTurn``; they also hold theirs once they see the file past the bound) while a TRUNCATE
        checkpoint copies the log into the database and empties the file.  Not a PASSIVE one first,
        while the writers go on: the log grew by up to 4 MB more meanwhile (docs/reliability.md#sqlite-wal)."""
        async with self._lock:
            self._turn.claim()
            try:
                done = await asyncio.to_thread(self._checkpoints.truncate, self.TRUNCATE_WITHIN_SECONDS)
            finally:
                self._turn.release()
        if not done:  # a reader still holds old frames (a long read transaction, a backup): let writes go on
            self._bound_again_at = time.monotonic() + self.BOUND_RETRY_SECONDS
            log.warning("the WAL is past %d bytes and could not be checkpointed: a reader holds old frames",
                        self.WAL_MAX_BYTES)

    async def _begin(self, asked_at: float | None = None) -> None:
        # Another process holds the write lock for ~0.1-3 ms per batch: poll at that scale.  A process
        # that has to wait says so through the turn file, and the holder leaves it the next turn.
        # ``asked_at``: when the caller asked for the transaction, so that the time spent queued behind
        # this process's other writers (each waiting for a lock another program holds) counts too.
        delay, waited = 0.0001, 0.0 if asked_at is None else time.monotonic() - asked_at
        try:
            while True:
                try:
                    self._writer.execute("BEGIN IMMEDIATE")
                    return
                except sqlite3.OperationalError as exc:
                    error = translate_sqlite(exc)
                    if not isinstance(error, WriteLockTimeout):
                        raise error from exc
                    if waited >= self.LOCK_WAIT_SECONDS:
                        self._write_trouble_at = time.monotonic()
                        raise WriteLockTimeout(f"no write lock after {waited:.3f} s: {exc}") from exc
                self._turn.claim()
                await asyncio.sleep(delay)
                waited += delay
                delay = min(delay * 1.5, 0.001)
        finally:
            self._turn.release()

    def _translate(self, exc: BaseException) -> BaseException:
        """``translate_sqlite``, noting a write that failed for the lock or for space (``ping``)."""
        error = translate_sqlite(exc)
        if isinstance(error, WriteLockTimeout | DatabaseFull):
            self._write_trouble_at = time.monotonic()
        return error

    def _end(self, statement: str) -> None:
        if statement == "ROLLBACK" and not self._writer.in_transaction:
            return  # SQLite rolled it back itself (after SQLITE_FULL, for one)
        try:
            self._writer.execute(statement)
        except sqlite3.Error as exc:
            raise self._translate(exc) from exc

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[SqliteConnection]:
        asked_at = time.monotonic()
        async with self._lock:
            await self._begin(asked_at)
            try:
                yield self._write
            except BaseException:
                self._end("ROLLBACK")
                raise
            else:
                self._end("COMMIT")
                self._after_commit()

    async def atomic(self, fn: Callable[[Connection], Awaitable[T]]) -> T:
        return await self._group.submit(fn)

    async def subscribe(
        self,
        channel: str,
        on_message: Callable[[str], None],
        on_lost: Callable[[], None],
        on_restored: Callable[[], None],
    ) -> bool:
        return False

    @asynccontextmanager
    async def read(self) -> AsyncIterator[SqliteConnection]:
        # Statements run synchronously and each is its own snapshot (autocommit), so readers need no lock.
        yield self._read

    async def ping(self) -> bool:
        """Not ready while writes fail: for a while after one could not get the write lock (another
        program holds it) or could not grow the file (disk full), as well as when reads fail."""
        if time.monotonic() - self._write_trouble_at < self.LOCK_WAIT_SECONDS + self.WRITE_TROUBLE_SECONDS:
            return False
        return bool(await self._read.fetch_value("SELECT 1") == 1)

    async def close(self) -> None:
        if self._bounding is not None:
            await self._bounding
        await self._checkpoints.close()
        self._writer.close()
        self._reader.close()
        self._turn.close()
