"""Fixed-window counters of password sign-in attempts, one row per (hashed) key."""

from __future__ import annotations

from twofold.storage.database import Connection

_TAKE = (
    "INSERT INTO signin_attempts (key, window_start, attempts) VALUES (:key, :now, 1)"
    " ON CONFLICT (key) DO UPDATE SET"
    " attempts = CASE WHEN signin_attempts.window_start <= :cutoff THEN 1 ELSE signin_attempts.attempts + 1 END,"
    " window_start = CASE WHEN signin_attempts.window_start <= :cutoff THEN :now"
    " ELSE signin_attempts.window_start END"
    " RETURNING attempts"
)


async def take(conn: Connection, key: str, now: int, window_ms: int) -> int:
    """Count one attempt atomically (a window older than ``window_ms`` starts again); the new count."""
    return int(await conn.fetch_value(_TAKE, {"key": key, "now": now, "cutoff": now - window_ms}))


async def give_back(conn: Connection, key: str) -> None:
    await conn.execute(
        "UPDATE signin_attempts SET attempts = attempts - 1 WHERE key = :key AND attempts > 0", {"key": key}
    )


async def forget(conn: Connection, key: str) -> None:
    await conn.execute("DELETE FROM signin_attempts WHERE key = :key", {"key": key})
