"""The data layer the request path uses: hand-written SQL on the raw drivers, behind two protocols.

Why not the async ORM: on this project's machines one indexed UPDATE through SQLAlchemy's async ORM
cost 4-10x the same UPDATE on the stdlib driver (docs/architecture.md).  So:

* SQLite: stdlib ``sqlite3`` on the event loop, group commit for small writes (``storage/sqlite.py``).
* PostgreSQL: an ``asyncpg`` pool (``storage/postgres.py``).

SQL is written once with ``:name`` parameters.  Driver exceptions never leave ``storage/``: each
driver's wrapper turns them into the family of ``storage/errors.py`` (a unique violation becomes
``UniqueViolation``, a missing referenced row ``ForeignKeyViolation``, a lost server
``DatabaseUnavailable``, a write lock that never comes ``WriteLockTimeout``).

``atomic(fn)`` runs a small, self-contained write ``fn(connection)`` that its repository makes atomic
by itself.  On PostgreSQL ``fn`` gets a pooled connection in autocommit and writes one statement (no
BEGIN/COMMIT round trips).  On SQLite, whose single write lock is shared by all worker processes, the
writes that a process's concurrent requests submit meanwhile are committed together (group commit):
one ``BEGIN IMMEDIATE`` and one ``COMMIT`` for the batch, each ``fn`` in a savepoint of its own so
that one failing undoes only itself, and every caller answered only after the COMMIT.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any, Protocol, TypeVar

from twofold.storage.postgres import PostgresDatabase, Timeouts
from twofold.storage.sqlite import SqliteDatabase
from twofold.storage.urls import DatabaseUrl

__all__ = [
    "Connection",
    "Database",
    "Params",
    "PostgresDatabase",
    "Row",
    "SqliteDatabase",
    "Timeouts",
    "open_database",
]

T = TypeVar("T")
Row = Mapping[str, Any]
Params = Mapping[str, Any]


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
        self,
        channel: str,
        on_message: Callable[[str], None],
        on_lost: Callable[[], None],
        on_restored: Callable[[], None],
    ) -> bool:
        """Be told of ``notify(channel, payload)`` by any process; False where the database cannot.
        ``on_lost`` runs when the subscription stops (never for ``close``); it is renewed in the
        background then, and ``on_restored`` runs once it listens again.  Whatever was notified in
        between is missed."""
        ...

    def read(self) -> Any: ...  # async context manager yielding a Connection for reads
    async def close(self) -> None: ...
    async def ping(self) -> bool: ...


async def open_database(
    url: str,
    pool_size: int = 10,
    lock_wait_seconds: float | None = None,
    timeouts: Timeouts | None = None,
    wal_max_bytes: int | None = None,
) -> Database:
    """Open the database of ``url``.  ``lock_wait_seconds``: how long a SQLite write may wait for the
    write lock before it fails with ``WriteLockTimeout`` (default ``SqliteDatabase.LOCK_WAIT_SECONDS``).
    ``wal_max_bytes``: the size past which SQLite's WAL is checkpointed at once (``SqliteDatabase``).
    ``timeouts``: PostgreSQL's connect, statement and pool bounds (``postgres.Timeouts``).
    An unreachable PostgreSQL raises ``DatabaseUnavailable``."""
    parsed = DatabaseUrl.parse(url)
    if parsed.dialect == "sqlite":
        assert parsed.sqlite_path is not None
        parsed.sqlite_path.parent.mkdir(parents=True, exist_ok=True)
        database = SqliteDatabase(str(parsed.sqlite_path), lock_wait_seconds, wal_max_bytes)
        database.start_checkpoints()
        return database
    assert parsed.asyncpg_dsn is not None
    return await PostgresDatabase.connect(parsed.asyncpg_dsn, pool_size, timeouts)
