"""SQLite: a second process's writer waits for the lock without blocking its event loop."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

from twofold.storage.database import SqliteDatabase
from twofold.storage.migrate import upgrade_to_head


async def test_a_second_writer_waits_asynchronously_then_writes(tmp_path: Path) -> None:
    path = tmp_path / "w.db"
    upgrade_to_head(f"sqlite:///{path}")
    first, second = SqliteDatabase(str(path)), SqliteDatabase(str(path))  # as two worker processes would
    insert = "INSERT INTO user_pools (id, name, mfa_enabled_factors, created_at) VALUES (:id, 'p', '[]', 0)"

    async def write_second() -> float:
        started = time.perf_counter()
        async with second.transaction() as conn:
            await conn.execute(insert, {"id": "second"})
        return time.perf_counter() - started

    try:
        async with first.transaction() as conn:
            await conn.execute(insert, {"id": "first"})
            waiting = asyncio.create_task(write_second())
            ticks = 0
            for _ in range(20):  # the loop stays free while the second writer waits
                await asyncio.sleep(0.005)
                ticks += 1
            assert not waiting.done() and ticks == 20
            async with second.read() as reader:  # readers are not blocked by a writer (WAL)
                assert await reader.fetch_value("SELECT COUNT(*) FROM user_pools") == 0
        waited = await waiting
        assert waited >= 0.09
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
