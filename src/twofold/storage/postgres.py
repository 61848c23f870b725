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

A listening connection that ends (other than by ``close``) is opened again in the background, at
doubling intervals with jitter (``_RENEW_FIRST_DELAY`` to ``_RENEW_MAX_DELAY``), until it listens.
"""

from __future__ import annotations

import asyncio
import random
import re
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
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
_RENEW_FIRST_DELAY = 0.5  # seconds after a listening connection is lost; doubled after each failure
_RENEW_MAX_DELAY = 30.0


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


@dataclass(eq=False)
class _Subscription:
    channel: str
    on_message: Callable[[str], None]
    on_lost: Callable[[], None]
    on_restored: Callable[[], None]
    conn: asyncpg.Connection | None = field(default=None, repr=False)  # None while not listening


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
        self._subscriptions: list[_Subscription] = []
        self._renewals: set[asyncio.Task[None]] = set()
        self._listener_check: asyncio.Task[None] | None = None
        self._closed = False

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
        self,
        channel: str,
        on_message: Callable[[str], None],
        on_lost: Callable[[], None],
        on_restored: Callable[[], None],
    ) -> bool:
        """LISTEN on a connection of its own.  If it ends other than by ``close``, ``on_lost`` runs and
        a new one is opened in the background until it listens; then ``on_restored`` runs."""
        subscription = _Subscription(channel, on_message, on_lost, on_restored)
        try:
            await self._listen(subscription)
        except DRIVER_ERRORS as exc:
            raise translate_postgres(exc) from exc
        self._subscriptions.append(subscription)
        return True

    async def _listen(self, subscription: _Subscription) -> None:
        conn = await asyncpg.connect(
            self._dsn, timeout=self._timeouts.connect, command_timeout=self._timeouts.statement
        )
        try:
            await conn.add_listener(
                subscription.channel, lambda _conn, _pid, _channel, payload: subscription.on_message(payload)
            )
        except BaseException:
            conn.terminate()
            raise
        conn.add_termination_listener(lambda _conn: self._lost(subscription, conn))
        if conn.is_closed():  # it ended before the termination listener was added: it would never run
            raise ConnectionResetError("the listening connection closed as it opened")
        subscription.conn = conn

    def _lost(self, subscription: _Subscription, conn: asyncpg.Connection) -> None:
        if self._closed or subscription.conn is not conn:
            return
        subscription.conn = None
        subscription.on_lost()
        task = asyncio.get_running_loop().create_task(self._renew(subscription))
        self._renewals.add(task)
        task.add_done_callback(self._renewals.discard)

    async def _renew(self, subscription: _Subscription) -> None:
        delay = _RENEW_FIRST_DELAY
        while True:
            await asyncio.sleep(delay * random.uniform(0.5, 1.0))  # noqa: S311 - jitter, not security
            try:
                await self._listen(subscription)
            except DRIVER_ERRORS:
                delay = min(delay * 2, _RENEW_MAX_DELAY)
                continue
            subscription.on_restored()
            return

    def _connection_broken(self) -> None:
        if self._subscriptions and (self._listener_check is None or self._listener_check.done()):
            self._listener_check = asyncio.get_running_loop().create_task(self._check_listeners())

    async def _check_listeners(self) -> None:
        """A pooled connection stopped answering: a listening one that does not answer either is
        terminated (which runs its ``on_lost``) rather than left waiting for notifications."""
        for conn in [s.conn for s in self._subscriptions if s.conn is not None]:
            try:
                await conn.fetchval("SELECT 1")
            except DRIVER_ERRORS:
                conn.terminate()

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
        self._closed = True  # what ends now is not lost: no on_lost, no renewal
        tasks = [*self._renewals, *([self._listener_check] if self._listener_check is not None else [])]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        for subscription in self._subscriptions:
            if subscription.conn is not None:
                subscription.conn.terminate()  # nothing to finish; close() could wait on a silent one
        try:
            await asyncio.wait_for(self._pool.close(), self._timeouts.statement)
        except TimeoutError:
            self._pool.terminate()
