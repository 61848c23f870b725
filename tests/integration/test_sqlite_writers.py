"""SQLite writers: waiting without blocking the event loop, group commit, checkpoints, fair turns."""

from __future__ import annotations

import asyncio
import sqlite3
import subprocess
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest

from twofold.storage.database import Connection, SqliteDatabase
from twofold.storage.errors import UniqueViolation, WriteLockTimeout
from twofold.storage.migrate import upgrade_to_head
from twofold.storage.writer_turn import WriterTurn


async def test_a_second_writer_waits_asynchronously_then_writes(tmp_path: Path) -> None:
    path = tmp_path / "w.db"
    upgrade_to_head(f"sqlite:///{path}")
    first, second = SqliteDatabase(str(path)), SqliteDatabase(str(path))  # as two worker processes would
    insert = "INSERT INTO user_pools (id, name, mfa_enabled_factors, created_at) VALUES (:id, 'p', '[]', 0)"
    events: list[str] = []

    async def write_second() -> None:
        events.append("second waits")
        async with second.transaction() as conn:
            await conn.execute(insert, {"id": "second"})
        events.append("second wrote")

    try:
        async with first.transaction() as conn:
            await conn.execute(insert, {"id": "first"})
            waiting = asyncio.create_task(write_second())
            for _ in range(20):  # other work on the loop, while the second writer waits
                await asyncio.sleep(0.005)
                events.append("tick")
            assert not waiting.done()
            async with second.read() as reader:  # readers are not blocked by a writer (WAL)
                assert await reader.fetch_value("SELECT COUNT(*) FROM user_pools") == 0
        await waiting
        # Had the second writer blocked the event loop while it waited (SQLite's own busy handler),
        # no tick could have run between its start and its write.
        start, end = events.index("second waits"), events.index("second wrote")
        assert events[start + 1 : end] == ["tick"] * 20
        async with first.read() as reader:
            assert await reader.fetch_value("SELECT COUNT(*) FROM user_pools") == 2
    finally:
        await first.close()
        await second.close()


async def _write_many(db: SqliteDatabase, count: int) -> None:
    for i in range(count):
        async with db.transaction() as conn:
            await conn.execute(
                "INSERT INTO user_pools (id, name, mfa_enabled_factors, created_at) VALUES (:id, 'p', '[]', 0)",
                {"id": f"p{i}"},
            )


async def test_commits_never_checkpoint_on_the_event_loop(tmp_path: Path) -> None:
    path = tmp_path / "c.db"
    upgrade_to_head(f"sqlite:///{path}")
    db = SqliteDatabase(str(path))
    try:
        before = path.stat().st_size
        await _write_many(db, 1500)  # > 1,000 WAL pages: SQLite's auto-checkpoint would have run
        assert path.stat().st_size == before
        db.checkpoint()
        assert path.stat().st_size > before
    finally:
        await db.close()


async def test_the_background_task_checkpoints(tmp_path: Path) -> None:
    path = tmp_path / "b.db"
    upgrade_to_head(f"sqlite:///{path}")
    db = SqliteDatabase(str(path))
    db.CHECKPOINT_INTERVAL_SECONDS = 0.01
    db.start_checkpoints()
    try:
        before = path.stat().st_size
        await _write_many(db, 1500)
        for _ in range(100):
            if path.stat().st_size > before:
                break
            await asyncio.sleep(0.02)
        assert path.stat().st_size > before
    finally:
        await db.close()


_POOL_INSERT = "INSERT INTO user_pools (id, name, mfa_enabled_factors, created_at) VALUES (:id, 'p', '[]', 0)"


async def test_concurrent_atomic_writes_commit_together_and_a_failure_undoes_only_itself(
    tmp_path: Path,
) -> None:
    path = tmp_path / "g.db"
    upgrade_to_head(f"sqlite:///{path}")
    db = SqliteDatabase(str(path))

    def write(pool_id: str, fail: bool = False) -> Callable[[Connection], Awaitable[str]]:
        async def run(conn: Connection) -> str:
            await conn.execute(_POOL_INSERT, {"id": pool_id})
            if fail:
                raise ValueError(pool_id)
            return pool_id

        return run

    try:
        results = await asyncio.gather(
            *(db.atomic(write(f"p{i}", fail=i == 3)) for i in range(8)), return_exceptions=True
        )
        assert [r if isinstance(r, str) else type(r) for r in results] == [
            "p0",
            "p1",
            "p2",
            ValueError,
            "p4",
            "p5",
            "p6",
            "p7",
        ]
        async with db.read() as reader:
            stored = [r["id"] for r in await reader.fetch_all("SELECT id FROM user_pools ORDER BY id")]
        assert stored == ["p0", "p1", "p2", "p4", "p5", "p6", "p7"]
        with pytest.raises(UniqueViolation):  # a driver error reaches its caller as ours
            await db.atomic(write("p0"))
    finally:
        await db.close()


def test_a_process_waiting_for_the_write_lock_is_seen_by_the_others(tmp_path: Path) -> None:
    turn_file = tmp_path / "t.db-writers"
    turn = WriterTurn(str(turn_file))
    waiter = subprocess.Popen(  # another process, claiming its turn as a waiting writer does
        [
            sys.executable,
            "-c",
            "import fcntl, os, sys, time; fd = os.open(sys.argv[1], os.O_RDWR);"
            " fcntl.lockf(fd, fcntl.LOCK_EX); print('waiting', flush=True); time.sleep(30)",
            str(turn_file),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert waiter.stdout is not None and waiter.stdout.readline().strip() == "waiting"
        assert turn.someone_else_waits()
    finally:
        waiter.kill()
        waiter.wait()
        if waiter.stdout is not None:
            waiter.stdout.close()
    assert not turn.someone_else_waits()
    turn.claim()  # our own claim is not "someone else"
    assert not turn.someone_else_waits()
    turn.release()
    turn.close()


async def test_an_atomic_write_that_never_gets_the_lock_fails_instead_of_hanging(tmp_path: Path) -> None:
    path = tmp_path / "h.db"
    upgrade_to_head(f"sqlite:///{path}")
    holder, waiter = SqliteDatabase(str(path)), SqliteDatabase(str(path))  # two worker processes
    waiter.LOCK_WAIT_SECONDS = 0.05

    async def insert(conn: Connection) -> None:
        await conn.execute(_POOL_INSERT, {"id": "late"})

    try:
        async with holder.transaction():
            with pytest.raises(WriteLockTimeout):  # ours (DatabaseBusy on the wire), not sqlite3's
                await asyncio.wait_for(waiter.atomic(insert), timeout=5)
        await waiter.atomic(insert)  # and the next write, once the lock is free, goes through
        async with waiter.read() as reader:
            assert await reader.fetch_value("SELECT COUNT(*) FROM user_pools") == 1
    finally:
        await holder.close()
        await waiter.close()


async def test_a_wal_past_its_bound_is_emptied_once_no_reader_holds_its_frames(tmp_path: Path) -> None:
    """docs/reliability.md#sqlite-wal: past ``wal_max_bytes`` the writer empties the WAL (TRUNCATE).  A
    reader holding an old snapshot makes that impossible: the writes go on meanwhile (the WAL grows, as
    it must), and once the reader lets go, the next write past the bound empties it."""
    path = tmp_path / "b.db"
    upgrade_to_head(f"sqlite:///{path}")
    bound = 1024 * 1024
    db = SqliteDatabase(str(path), wal_max_bytes=bound)
    db.TRUNCATE_WITHIN_SECONDS, db.BOUND_RETRY_SECONDS = 0.2, 0.2
    wal = Path(f"{path}-wal")
    reader = sqlite3.connect(path, isolation_level=None)
    insert = "INSERT INTO user_pools (id, name, mfa_enabled_factors, created_at) VALUES (:id, 'p', '[]', 0)"

    async def write(prefix: str, count: int) -> None:
        for i in range(count):
            await db.atomic(lambda conn, i=i: conn.execute(insert, {"id": f"{prefix}{i}"}))

    async def wal_emptied() -> bool:
        for _ in range(100):  # the checkpoint runs in the background; give it up to 10 s
            if wal.stat().st_size <= bound:
                return True
            await asyncio.sleep(0.1)
        return False

    try:
        await write("free", 600)  # ~2 pages a write: past the bound more than once
        assert await wal_emptied()
        reader.execute("BEGIN")
        reader.execute("SELECT COUNT(*) FROM user_pools").fetchone()  # holds a snapshot of old frames
        await write("held", 600)
        assert wal.stat().st_size > bound  # nothing could empty it
        reader.execute("COMMIT")
        await asyncio.sleep(db.BOUND_RETRY_SECONDS)
        await write("after", 1)
        assert await wal_emptied()
        async with db.read() as conn:
            assert await conn.fetch_value("SELECT COUNT(*) FROM user_pools") == 1201
    finally:
        reader.close()
        await db.close()
