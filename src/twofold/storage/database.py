"""The data layer the request path uses: hand-written SQL on the raw drivers.

Why not the async ORM: on this project's machines one indexed UPDATE through SQLAlchemy's async ORM
cost 4-10x the same UPDATE on the stdlib driver (docs/architecture.md).  So:

* SQLite: stdlib ``sqlite3`` called directly on the event loop (an indexed statement takes ~15 us; a
  thread hand-off alone costs ~130 us).  WAL mode; per process one writer connection, used by one
  transaction at a time (an ``asyncio.Lock``: uncontended it costs nothing and never yields), with
  ``BEGIN IMMEDIATE`` retried asynchronously while another process writes; and one reader connection.
* PostgreSQL: an ``asyncpg`` pool.

SQL is written once with ``:name`` parameters; for asyncpg they are rewritten to ``$n`` (cached).
Driver exceptions never leave this module: a unique violation becomes ``UniqueViolation``, a missing
referenced row ``ForeignKeyViolation``.

``atomic(fn)`` runs a small, self-contained write ``fn(connection)`` that its repository makes atomic
by itself.  On PostgreSQL ``fn`` gets a pooled connection in autocommit and writes one statement (no
BEGIN/COMMIT round trips).  On SQLite, whose single write lock is shared by all worker processes, the
writes that a process's concurrent requests submit meanwhile are committed together (group commit):
one ``BEGIN IMMEDIATE`` and one ``COMMIT`` for the batch, each ``fn`` in a savepoint of its own so
that one failing undoes only itself, and every caller answered only after the COMMIT.
"""

from __future__ import annotations

import asyncio
import fcntl
import os
import re
import sqlite3
import threading
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from contextlib import asynccontextmanager, suppress
from functools import lru_cache
from typing import Any, Protocol, TypeVar

import asyncpg

from twofold.storage.urls import DatabaseUrl

T = TypeVar("T")
Row = Mapping[str, Any]
Params = Mapping[str, Any]


class UniqueViolation(Exception):
    """A unique constraint failed; ``detail`` holds the driver's text (constraint or column names)."""

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


class ForeignKeyViolation(Exception):
    """A row refers to one that does not exist (it was deleted meanwhile)."""


class Connection(Protocol):
    dialect: str

    async def fetch_one(self, sql: str, params: Params | None = None) -> Row | None: ...
    async def fetch_all(self, sql: str, params: Params | None = None) -> list[Row]: ...
    async def fetch_value(self, sql: str, params: Params | None = None) -> Any: ...
    async def execute(self, sql: str, params: Params | None = None) -> int: ...
    async def execute_many(self, sql: str, rows: Sequence[Params]) -> None: ...


class Database(Protocol):
    dialect: str

    def transaction(self) -> Any: ...  # async context manager yielding a Connection
    async def atomic(self, fn: Callable[[Connection], Awaitable[T]]) -> T: ...  # see the module docstring
    async def subscribe(
        self, channel: str, on_message: Callable[[str], None], on_lost: Callable[[], None]
    ) -> bool:
        """Be told of ``notify(channel, payload)`` by any process; False where the database cannot."""
        ...

    def read(self) -> Any: ...  # async context manager yielding a Connection for reads
    async def close(self) -> None: ...
    async def ping(self) -> bool: ...


# --------------------------------------------------------------------------------------- SQLite
class _SqliteConnection:
    dialect = "sqlite"

    def __init__(self, conn: sqlite3.Connection) -> None:
        self._conn = conn

    async def fetch_one(self, sql: str, params: Params | None = None) -> Row | None:
        row: Row | None = self._conn.execute(sql, params or {}).fetchone()
        return row

    async def fetch_all(self, sql: str, params: Params | None = None) -> list[Row]:
        return list(self._conn.execute(sql, params or {}).fetchall())

    async def fetch_value(self, sql: str, params: Params | None = None) -> Any:
        try:
            row = self._conn.execute(sql, params or {}).fetchone()
        except sqlite3.IntegrityError as exc:
            raise _translate_sqlite(exc) from None
        return None if row is None else row[0]

    async def execute(self, sql: str, params: Params | None = None) -> int:
        try:
            return self._conn.execute(sql, params or {}).rowcount
        except sqlite3.IntegrityError as exc:
            raise _translate_sqlite(exc) from None

    async def execute_many(self, sql: str, rows: Sequence[Params]) -> None:
        try:
            self._conn.executemany(sql, rows)
        except sqlite3.IntegrityError as exc:
            raise _translate_sqlite(exc) from None


def _translate_sqlite(exc: sqlite3.IntegrityError) -> Exception:
    text = str(exc)
    if "UNIQUE" in text or "PRIMARY KEY" in text:
        return UniqueViolation(text)
    if "FOREIGN KEY" in text:
        return ForeignKeyViolation(text)
    return exc


def _sqlite_connect(path: str, busy_timeout_ms: int) -> sqlite3.Connection:
    conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    conn.row_factory = sqlite3.Row
    for pragma in (
        "PRAGMA journal_mode=WAL",
        "PRAGMA synchronous=NORMAL",
        "PRAGMA foreign_keys=ON",
        f"PRAGMA busy_timeout={busy_timeout_ms}",
    ):
        conn.execute(pragma)
    return conn


def _settle(outcomes: list[tuple[asyncio.Future[Any], BaseException | None, Any]]) -> None:
    for future, error, result in outcomes:
        if future.done():  # the caller went away (cancelled)
            continue
        if error is not None:
            future.set_exception(error)
        else:
            future.set_result(result)


class _WriterTurn:
    """Fair hand-off of SQLite's write lock between worker processes.

    SQLite's lock is not fair: a process that commits batch after batch can take it again before a
    process that polls for it (from a busy event loop) tries again, which left some requests waiting
    over 80 ms.  So a process that finds the lock taken holds an exclusive POSIX lock on the side file
    ``<database>-writers`` while it waits, and a process about to start another batch first checks
    that nobody else holds it.  Both are non-blocking system calls (a few microseconds per batch).
    """

    def __init__(self, path: str) -> None:
        self._fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
        self._claimed = False

    def claim(self) -> None:
        if not self._claimed:
            try:
                fcntl.lockf(self._fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                self._claimed = True
            except OSError:
                pass  # another process already waits; it goes first, then us

    def release(self) -> None:
        if self._claimed:
            fcntl.lockf(self._fd, fcntl.LOCK_UN)
            self._claimed = False

    def someone_else_waits(self) -> bool:
        if self._claimed:
            return False
        try:
            fcntl.lockf(self._fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            return True
        fcntl.lockf(self._fd, fcntl.LOCK_UN)
        return False

    def close(self) -> None:
        os.close(self._fd)


class SqliteDatabase:
    """Two connections per process: a writer for transactions, a reader for everything else.

    WAL lets the reader run while any process writes.  SQLite allows one writer at a time across
    processes; when another process holds it, ``BEGIN IMMEDIATE`` is retried with ``asyncio.sleep``
    (steps of 0.1-1 ms), so a waiting worker keeps serving reads instead of blocking its event loop
    in SQLite's own busy handler, which sleeps in steps of 1 ms and more.

    WAL checkpoints (copying the log back into the database file, with an fsync) take milliseconds; left
    to SQLite they run inside whichever COMMIT crosses 1,000 pages, stalling that worker's event loop.
    So the writer does not checkpoint; a background task does it twice a second in a worker thread, on
    a connection of its own (``start_checkpoints``).  Each round first copies what it can without
    blocking anyone (PASSIVE), then finishes with a RESTART checkpoint, which holds off new writers for
    the moment it takes to copy the last frames, so that the next write starts the log from the
    beginning.  PASSIVE alone never gets there under a steady stream of writes from several processes
    (the log always has new frames by the time a checkpoint ends): the log then grew by ~50 MB/s
    under load, and every page lookup of every reader searched it, halving throughput within seconds.
    """

    dialect = "sqlite"
    LOCK_WAIT_SECONDS = 5.0
    CHECKPOINT_INTERVAL_SECONDS = 0.5
    MAX_BATCH = 64  # writes per group commit
    BATCH_PAUSE_SECONDS = 0.0003
    MAX_TURN_WAIT_SECONDS = 0.05
    RESTART_WAIT_MS = 200  # how long a RESTART checkpoint may wait for the current writer and readers

    def __init__(self, path: str) -> None:
        self._writer = _sqlite_connect(path, busy_timeout_ms=0)
        self._writer.execute("PRAGMA wal_autocheckpoint=0")
        self._reader = _sqlite_connect(path, busy_timeout_ms=5000)
        self._checkpointer = _sqlite_connect(path, busy_timeout_ms=self.RESTART_WAIT_MS)
        self._checkpoint_lock = threading.Lock()
        self._checkpoint_task: asyncio.Task[None] | None = None
        self._lock = asyncio.Lock()
        self._turn = _WriterTurn(f"{path}-writers")
        self._pending: list[tuple[Callable[[Connection], Awaitable[Any]], asyncio.Future[Any]]] = []
        self._committer: asyncio.Task[None] | None = None
        self._write = _SqliteConnection(self._writer)
        self._read = _SqliteConnection(self._reader)

    def start_checkpoints(self) -> None:
        """Checkpoint the WAL in the background (call from the event loop that uses this database)."""
        self._checkpoint_task = asyncio.get_running_loop().create_task(self._checkpoint_loop())

    async def _checkpoint_loop(self) -> None:
        while True:
            await asyncio.sleep(self.CHECKPOINT_INTERVAL_SECONDS)
            await asyncio.to_thread(self.checkpoint)

    def checkpoint(self) -> None:
        with self._checkpoint_lock:
            try:
                self._checkpointer.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
                self._checkpointer.execute("PRAGMA wal_checkpoint(RESTART)").fetchall()
            except sqlite3.OperationalError:
                pass  # another process is checkpointing right now; the next round will do

    async def _begin(self) -> None:
        # Another process holds the write lock for ~0.1-3 ms per batch: poll at that scale.  A process
        # that has to wait says so through the turn file, and the holder leaves it the next turn.
        delay, waited = 0.0001, 0.0
        try:
            while True:
                try:
                    self._writer.execute("BEGIN IMMEDIATE")
                    return
                except sqlite3.OperationalError as exc:
                    if (
                        "locked" not in str(exc)
                        and "busy" not in str(exc)
                        or waited >= self.LOCK_WAIT_SECONDS
                    ):
                        raise
                self._turn.claim()
                await asyncio.sleep(delay)
                waited += delay
                delay = min(delay * 1.5, 0.001)
        finally:
            self._turn.release()

    async def _leave_a_turn(self) -> None:
        """Between two batches: if another process waits for the write lock, let it have it first
        (its event loop may be busy for milliseconds before it polls again); else pause briefly."""
        paused = 0.0
        while self._turn.someone_else_waits() and paused < self.MAX_TURN_WAIT_SECONDS:
            await asyncio.sleep(0.0005)
            paused += 0.0005
        if paused == 0.0:
            await asyncio.sleep(self.BATCH_PAUSE_SECONDS)  # lets this process's next batch grow

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[_SqliteConnection]:
        async with self._lock:
            await self._begin()
            try:
                yield self._write
            except BaseException:
                self._writer.execute("ROLLBACK")
                raise
            else:
                self._writer.execute("COMMIT")

    async def atomic(self, fn: Callable[[Connection], Awaitable[T]]) -> T:
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._pending.append((fn, future))
        if self._committer is None or self._committer.done():
            self._committer = asyncio.get_running_loop().create_task(self._commit_pending())
        result: T = await future
        return result

    async def _commit_pending(self) -> None:
        first = True
        while self._pending:
            if not first:
                await self._leave_a_turn()
            first = False
            async with self._lock:
                try:
                    await self._begin()
                except sqlite3.OperationalError as exc:  # the lock never came: fail the waiting writes
                    batch = self._take_batch()
                    _settle([(future, exc, None) for _, future in batch])
                    continue
                batch = self._take_batch()
                outcomes: list[tuple[asyncio.Future[Any], BaseException | None, Any]] = []
                try:
                    for fn, future in batch:
                        self._writer.execute("SAVEPOINT atomic")
                        try:
                            result = await fn(self._write)
                        except Exception as exc:  # noqa: BLE001 - handed to its caller below
                            self._writer.execute("ROLLBACK TO atomic")
                            outcomes.append((future, exc, None))
                        else:
                            outcomes.append((future, None, result))
                        self._writer.execute("RELEASE atomic")
                    self._writer.execute("COMMIT")
                except BaseException as exc:
                    if self._writer.in_transaction:
                        self._writer.execute("ROLLBACK")
                    _settle([(future, exc, None) for _, future in batch])
                    if not isinstance(exc, Exception):
                        raise
                    continue
            _settle(outcomes)

    def _take_batch(self) -> list[tuple[Callable[[Connection], Awaitable[Any]], asyncio.Future[Any]]]:
        batch, self._pending = self._pending[: self.MAX_BATCH], self._pending[self.MAX_BATCH :]
        return batch

    async def subscribe(
        self, channel: str, on_message: Callable[[str], None], on_lost: Callable[[], None]
    ) -> bool:
        return False

    @asynccontextmanager
    async def read(self) -> AsyncIterator[_SqliteConnection]:
        # Statements run synchronously and each is its own snapshot (autocommit), so readers need no lock.
        yield self._read

    async def ping(self) -> bool:
        return self._reader.execute("SELECT 1").fetchone() is not None

    async def close(self) -> None:
        if self._checkpoint_task is not None:
            self._checkpoint_task.cancel()
            with suppress(asyncio.CancelledError):
                await self._checkpoint_task
        self.checkpoint()
        with self._checkpoint_lock:
            self._checkpointer.close()
        self._writer.close()
        self._reader.close()
        self._turn.close()


# ----------------------------------------------------------------------------------- PostgreSQL
_PARAM = re.compile(r"(?<![:\w]):([A-Za-z_][A-Za-z0-9_]*)")


@lru_cache(maxsize=1024)
def _to_positional(sql: str) -> tuple[str, tuple[str, ...]]:
    names: list[str] = []

    def repl(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in names:
            names.append(name)
        return f"${names.index(name) + 1}"

    return _PARAM.sub(repl, sql), tuple(names)


def _args(sql: str, params: Params | None) -> tuple[str, list[Any]]:
    text, names = _to_positional(sql)
    values = params or {}
    return text, [values[name] for name in names]


class _PostgresConnection:
    dialect = "postgresql"

    def __init__(self, conn: asyncpg.Connection) -> None:
        self._conn = conn

    async def fetch_one(self, sql: str, params: Params | None = None) -> Row | None:
        text, args = _args(sql, params)
        row: Row | None = await self._conn.fetchrow(text, *args)
        return row

    async def fetch_all(self, sql: str, params: Params | None = None) -> list[Row]:
        text, args = _args(sql, params)
        return list(await self._conn.fetch(text, *args))

    async def fetch_value(self, sql: str, params: Params | None = None) -> Any:
        text, args = _args(sql, params)
        try:
            return await self._conn.fetchval(text, *args)
        except asyncpg.UniqueViolationError as exc:
            raise UniqueViolation(f"{exc.constraint_name or ''} {exc}") from None
        except asyncpg.ForeignKeyViolationError as exc:
            raise ForeignKeyViolation(str(exc)) from None

    async def execute(self, sql: str, params: Params | None = None) -> int:
        text, args = _args(sql, params)
        try:
            status: str = await self._conn.execute(text, *args)
        except asyncpg.UniqueViolationError as exc:
            raise UniqueViolation(f"{exc.constraint_name or ''} {exc}") from None
        tail = status.rsplit(" ", 1)[-1]
        return int(tail) if tail.isdigit() else 0

    async def execute_many(self, sql: str, rows: Sequence[Params]) -> None:
        if not rows:
            return
        text, names = _to_positional(sql)
        try:
            await self._conn.executemany(text, [[row[name] for name in names] for row in rows])
        except asyncpg.UniqueViolationError as exc:
            raise UniqueViolation(f"{exc.constraint_name or ''} {exc}") from None


async def _keep_session(conn: asyncpg.Connection) -> None:
    """Pool release without asyncpg's default reset query (``RESET ALL; UNLISTEN *; ...``): a round trip
    per request, for session state Twofold never creates (no SET, LISTEN, cursors or advisory locks).
    asyncpg still rolls back a transaction left open before calling this."""


class PostgresDatabase:
    dialect = "postgresql"

    def __init__(self, pool: asyncpg.Pool, dsn: str) -> None:
        self._pool = pool
        self._dsn = dsn
        self._listeners: list[asyncpg.Connection] = []

    @classmethod
    async def connect(cls, dsn: str, size: int) -> PostgresDatabase:
        pool = await asyncpg.create_pool(dsn, min_size=1, max_size=size, reset=_keep_session)
        return cls(pool, dsn)

    async def subscribe(
        self, channel: str, on_message: Callable[[str], None], on_lost: Callable[[], None]
    ) -> bool:
        """LISTEN on a connection of its own; ``on_lost`` runs if that connection ends."""
        conn = await asyncpg.connect(self._dsn)
        await conn.add_listener(channel, lambda _conn, _pid, _channel, payload: on_message(payload))
        conn.add_termination_listener(lambda _conn: on_lost())
        self._listeners.append(conn)
        return True

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[_PostgresConnection]:
        async with self._pool.acquire() as conn, conn.transaction():
            yield _PostgresConnection(conn)

    @asynccontextmanager
    async def read(self) -> AsyncIterator[_PostgresConnection]:
        async with self._pool.acquire() as conn:
            yield _PostgresConnection(conn)

    async def atomic(self, fn: Callable[[Connection], Awaitable[T]]) -> T:
        async with self._pool.acquire() as conn:
            return await fn(_PostgresConnection(conn))

    async def ping(self) -> bool:
        async with self._pool.acquire() as conn:
            return bool(await conn.fetchval("SELECT 1") == 1)

    async def close(self) -> None:
        for conn in self._listeners:
            await conn.close()
        await self._pool.close()


async def open_database(url: str, pool_size: int = 10) -> Database:
    parsed = DatabaseUrl.parse(url)
    if parsed.dialect == "sqlite":
        assert parsed.sqlite_path is not None
        parsed.sqlite_path.parent.mkdir(parents=True, exist_ok=True)
        database = SqliteDatabase(str(parsed.sqlite_path))
        database.start_checkpoints()
        return database
    assert parsed.asyncpg_dsn is not None
    return await PostgresDatabase.connect(parsed.asyncpg_dsn, pool_size)
