"""PostgreSQL through an ``asyncpg`` pool.

SQL is written once with ``:name`` parameters; for asyncpg they are rewritten to ``$n`` (cached).
``atomic(fn)`` gets a pooled connection in autocommit and writes one statement (no BEGIN/COMMIT
round trips).  Every asyncpg exception, and every failure to reach the server, is turned into a
``storage/errors.py`` one by ``translate_postgres``, here and only here.

A server that stops answering without closing anything (a network path that drops every packet)
would hold a request forever, so everything waits a bounded time (``Timeouts``): opening a
connection, one statement (asyncpg's client-side ``command_timeout``), getting a pooled connection
(and giving it back).  Each is ``DatabaseUnavailable``.  A connection that failed that way is
terminated, never handed to the next request, and the listening connections are checked, since a
silent one would miss every notification without being told it lost its server.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING, Any, TypeVar

import asyncpg

from twofold.storage.errors import (
    DatabaseUnavailable,
    ForeignKeyViolation,
    InvalidData,
    StorageError,
    UniqueViolation,
)

if TYPE_CHECKING:
    from twofold.storage.database import Connection, Params, Row

T = TypeVar("T")
_PARAM = re.compile(r"(?<![:\w]):([A-Za-z_][A-Za-z0-9_]*)")
_KEY_COLUMNS = re.compile(r"^Key \(([^)]*)\)=")
# What a lost or refused server looks like: refused / reset sockets, a connect timeout, the server
# shutting down or refusing connections, and a pooled connection that died under us.
_UNAVAILABLE: tuple[type[BaseException], ...] = (
    OSError,
    TimeoutError,
    asyncpg.PostgresConnectionError,
    asyncpg.CannotConnectNowError,
    asyncpg.AdminShutdownError,
    asyncpg.CrashShutdownError,
    asyncpg.TooManyConnectionsError,
    asyncpg.InterfaceError,  # "connection is closed", "pool is closing" (DataError is handled first)
)
DRIVER_ERRORS: tuple[type[BaseException], ...] = (asyncpg.PostgresError, asyncpg.InterfaceError, OSError, TimeoutError)


def translate_postgres(exc: BaseException) -> BaseException:
    """The storage error for an asyncpg or connection failure; anything else unchanged."""
    if isinstance(exc, StorageError) or not isinstance(exc, DRIVER_ERRORS):
        return exc
    if isinstance(exc, asyncpg.UniqueViolationError):
        match = _KEY_COLUMNS.match(getattr(exc, "detail", None) or "")
        columns = tuple(c.strip() for c in match.group(1).split(",")) if match else ()
        constraint = exc.constraint_name or ""
        return UniqueViolation(
            f"{constraint} {exc}", table=exc.table_name or "", columns=columns, constraint=constraint
        )
    if isinstance(exc, asyncpg.ForeignKeyViolationError):
        return ForeignKeyViolation(str(exc))
    # Class 22 (bad encoding, out of range, too long) and 23 (NOT NULL, CHECK) from the server; a value
    # asyncpg cannot encode for its column (asyncpg.exceptions._base.DataError) on the client side.
    if isinstance(
        exc, asyncpg.DataError | asyncpg.IntegrityConstraintViolationError | asyncpg.exceptions._base.DataError
    ):
        return InvalidData(f"{type(exc).__name__}: {exc}")
    if isinstance(exc, _UNAVAILABLE):
        return DatabaseUnavailable(f"{type(exc).__name__}: {exc}")
    return StorageError(f"{type(exc).__name__}: {exc}")


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


@dataclass(frozen=True)
class Timeouts:
    """Seconds; ``TWOFOLD_DATABASE_{CONNECT,STATEMENT,POOL}_TIMEOUT_SECONDS`` (docs/configuration.md)."""

    connect: float = 5.0
    statement: float = 10.0
    pool: float = 5.0  # waiting for a pooled connection (and for one to be given back)


class PostgresConnection:
    dialect = "postgresql"

    def __init__(self, conn: asyncpg.Connection, on_broken: Callable[[], None] = lambda: None) -> None:
        self._conn = conn
        self._on_broken = on_broken

    def _failed(self, exc: BaseException) -> BaseException:
        """``translate_postgres``; a connection that timed out or broke is terminated, so that the pool
        opens a new one instead of lending this one again."""
        error = translate_postgres(exc)
        if isinstance(error, DatabaseUnavailable) and not self._conn.is_closed():
            self._conn.terminate()
            self._on_broken()
        return error

    async def fetch_one(self, sql: str, params: Params | None = None) -> Row | None:
        text, args = _args(sql, params)
        try:
            row: Row | None = await self._conn.fetchrow(text, *args)
        except DRIVER_ERRORS as exc:
            raise self._failed(exc) from exc
        return row

    async def fetch_all(self, sql: str, params: Params | None = None) -> list[Row]:
        text, args = _args(sql, params)
        try:
            return list(await self._conn.fetch(text, *args))
        except DRIVER_ERRORS as exc:
            raise self._failed(exc) from exc

    async def fetch_value(self, sql: str, params: Params | None = None) -> Any:
        text, args = _args(sql, params)
        try:
            return await self._conn.fetchval(text, *args)
        except DRIVER_ERRORS as exc:
            raise self._failed(exc) from exc

    async def execute(self, sql: str, params: Params | None = None) -> int:
        text, args = _args(sql, params)
        try:
            status: str = await self._conn.execute(text, *args)
        except DRIVER_ERRORS as exc:
            raise self._failed(exc) from exc
        tail = status.rsplit(" ", 1)[-1]
        return int(tail) if tail.isdigit() else 0

    async def execute_many(self, sql: str, rows: Sequence[Params]) -> None:
        if not rows:
            return
        text, names = _to_positional(sql)
        try:
            await self._conn.executemany(text, [[row[name] for name in names] for row in rows])
        except DRIVER_ERRORS as exc:
            raise self._failed(exc) from exc


async def _keep_session(conn: asyncpg.Connection) -> None:
    """Pool release without asyncpg's default reset query (``RESET ALL; UNLISTEN *; ...``): a round trip
    per request, for session state Twofold never creates (no SET, LISTEN, cursors or advisory locks).
    asyncpg still rolls back a transaction left open before calling this."""


class PostgresDatabase:
    dialect = "postgresql"

    def __init__(self, pool: asyncpg.Pool, dsn: str, timeouts: Timeouts) -> None:
        self._pool = pool
        self._dsn = dsn
        self._timeouts = timeouts
        self._listeners: list[asyncpg.Connection] = []
        self._listener_check: asyncio.Task[None] | None = None

    @classmethod
    async def connect(cls, dsn: str, size: int, timeouts: Timeouts | None = None) -> PostgresDatabase:
        """Open the pool; a server that cannot be reached is ``DatabaseUnavailable`` right away."""
        timeouts = timeouts or Timeouts()
        try:
            pool = await asyncpg.create_pool(
                dsn, min_size=1, max_size=size, reset=_keep_session,
                timeout=timeouts.connect, command_timeout=timeouts.statement,
            )
        except DRIVER_ERRORS as exc:
            raise translate_postgres(exc) from exc
        return cls(pool, dsn, timeouts)

    async def subscribe(
        self, channel: str, on_message: Callable[[str], None], on_lost: Callable[[], None]
    ) -> bool:
        """LISTEN on a connection of its own; ``on_lost`` runs if that connection ends."""
        try:
            conn = await asyncpg.connect(
                self._dsn, timeout=self._timeouts.connect, command_timeout=self._timeouts.statement
            )
            await conn.add_listener(channel, lambda _conn, _pid, _channel, payload: on_message(payload))
        except DRIVER_ERRORS as exc:
            raise translate_postgres(exc) from exc
        conn.add_termination_listener(lambda _conn: on_lost())
        self._listeners.append(conn)
        return True

    def _connection_broken(self) -> None:
        if self._listeners and (self._listener_check is None or self._listener_check.done()):
            self._listener_check = asyncio.get_running_loop().create_task(self._check_listeners())

    async def _check_listeners(self) -> None:
        """A pooled connection stopped answering: a listening one that does not answer either is
        terminated (which runs its ``on_lost``) rather than left waiting for notifications."""
        for conn in list(self._listeners):
            try:
                await conn.fetchval("SELECT 1")
            except DRIVER_ERRORS:
                conn.terminate()
                self._listeners.remove(conn)

    def _acquire(self) -> Any:
        return self._pool.acquire(timeout=self._timeouts.pool)

    # The pool's acquire, BEGIN and COMMIT can fail too (a lost server): the three context managers
    # translate what escapes them; the caller's own errors pass through unchanged.
    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[PostgresConnection]:
        try:
            async with self._acquire() as conn, conn.transaction():
                yield PostgresConnection(conn, self._connection_broken)
        except DRIVER_ERRORS as exc:
            raise translate_postgres(exc) from exc

    @asynccontextmanager
    async def read(self) -> AsyncIterator[PostgresConnection]:
        try:
            async with self._acquire() as conn:
                yield PostgresConnection(conn, self._connection_broken)
        except DRIVER_ERRORS as exc:
            raise translate_postgres(exc) from exc

    async def atomic(self, fn: Callable[[Connection], Awaitable[T]]) -> T:
        try:
            async with self._acquire() as conn:
                return await fn(PostgresConnection(conn, self._connection_broken))
        except DRIVER_ERRORS as exc:
            raise translate_postgres(exc) from exc

    async def ping(self) -> bool:
        async with self.read() as conn:
            return bool(await conn.fetch_value("SELECT 1") == 1)

    async def close(self) -> None:
        if self._listener_check is not None:
            self._listener_check.cancel()
        for conn in self._listeners:
            conn.terminate()  # nothing to finish on a listening connection; close() could wait on a silent one
        try:
            await asyncio.wait_for(self._pool.close(), self._timeouts.statement)
        except TimeoutError:
            self._pool.terminate()
