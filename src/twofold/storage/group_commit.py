"""Group commit for SQLite: the small writes of concurrent requests share one transaction.

SQLite's single write lock is shared by all worker processes, so ``Database.atomic(fn)`` does not
take it once per write: the writes that a process's concurrent requests submit meanwhile are
committed together, with one ``BEGIN IMMEDIATE`` and one ``COMMIT`` for the batch, each ``fn`` in a
savepoint of its own so that one failing undoes only itself, and every caller answered only after
the COMMIT.  When the write lock never comes, the waiting writes fail with ``WriteLockTimeout``.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any, TypeVar

from twofold.storage.errors import StorageError
from twofold.storage.writer_turn import WriterTurn

if TYPE_CHECKING:
    from twofold.storage.database import Connection

T = TypeVar("T")
_Write = tuple[Callable[["Connection"], Awaitable[Any]], asyncio.Future[Any]]
_Outcome = tuple[asyncio.Future[Any], BaseException | None, Any]


def _settle(outcomes: list[_Outcome]) -> None:
    for future, error, result in outcomes:
        if future.done():  # the caller went away (cancelled)
            continue
        if error is not None:
            future.set_exception(error)
        else:
            future.set_result(result)


class GroupCommit:
    MAX_BATCH = 64  # writes per group commit
    BATCH_PAUSE_SECONDS = 0.0003
    MAX_TURN_WAIT_SECONDS = 0.05

    def __init__(
        self,
        writer: sqlite3.Connection,
        write: Connection,
        lock: asyncio.Lock,
        begin: Callable[[], Awaitable[None]],
        turn: WriterTurn,
        translate: Callable[[BaseException], BaseException],
        after_commit: Callable[[], None],
    ) -> None:
        self._writer = writer  # the raw connection, for SAVEPOINT / COMMIT
        self._write = write  # the same connection as the repositories see it
        self._lock = lock  # the process's writer lock, shared with ``transaction()``
        self._begin = begin  # BEGIN IMMEDIATE, waiting for the lock; raises WriteLockTimeout
        self._turn = turn
        self._translate = translate
        self._after_commit = after_commit  # cheap and synchronous: bounds the WAL (SqliteDatabase)
        self._pending: list[_Write] = []
        self._committer: asyncio.Task[None] | None = None

    async def submit(self, fn: Callable[[Connection], Awaitable[T]]) -> T:
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._pending.append((fn, future))
        if self._committer is None or self._committer.done():
            self._committer = asyncio.get_running_loop().create_task(self._commit_pending())
        result: T = await future
        return result

    async def _leave_a_turn(self) -> None:
        """Between two batches: if another process waits for the write lock, let it have it first
        (its event loop may be busy for milliseconds before it polls again); else pause briefly."""
        paused = 0.0
        while self._turn.someone_else_waits() and paused < self.MAX_TURN_WAIT_SECONDS:
            await asyncio.sleep(0.0005)
            paused += 0.0005
        if paused == 0.0:
            await asyncio.sleep(self.BATCH_PAUSE_SECONDS)  # lets this process's next batch grow

    async def _commit_pending(self) -> None:
        first = True
        while self._pending:
            if not first:
                await self._leave_a_turn()
            first = False
            async with self._lock:
                try:
                    await self._begin()
                except StorageError as exc:  # the lock never came: fail the waiting writes
                    batch = self._take_batch()
                    _settle([(future, exc, None) for _, future in batch])
                    continue
                batch = self._take_batch()
                outcomes: list[_Outcome] = []
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
                    error = self._translate(exc)  # a driver error of COMMIT reaches callers as ours
                    _settle([(future, error, None) for _, future in batch])
                    if not isinstance(exc, Exception):
                        raise
                    continue
            _settle(outcomes)
            self._after_commit()

    def _take_batch(self) -> list[_Write]:
        batch, self._pending = self._pending[: self.MAX_BATCH], self._pending[self.MAX_BATCH :]
        return batch
