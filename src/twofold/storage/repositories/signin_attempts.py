"""Fixed-window counters of password sign-in attempts, one row per (hashed) key."""

from __future__ import annotations

from collections.abc import Sequence

from twofold.storage.database import Connection

_SET = (
    " ON CONFLICT (key) DO UPDATE SET"
    " attempts = CASE WHEN signin_attempts.window_start <= :cutoff THEN 1 ELSE signin_attempts.attempts + 1 END,"
    " window_start = CASE WHEN signin_attempts.window_start <= :cutoff THEN :now"
    " ELSE signin_attempts.window_start END"
)
_INSERT = "INSERT INTO signin_attempts (key, window_start, attempts) VALUES "
_FORGET = "DELETE FROM signin_attempts WHERE key = :key"
_GIVE_BACK = "UPDATE signin_attempts SET attempts = attempts - 1 WHERE key = :key AND attempts > 0"
# ``settle`` as CTEs of one data-modifying statement on PostgreSQL (parameters: ``settle_params``).
SETTLE_CTES = (
    "forgot AS (DELETE FROM signin_attempts WHERE key = ANY(CAST(:s_forget AS text[]))),"
    " gave AS (UPDATE signin_attempts SET attempts = attempts - 1"
    " WHERE key = ANY(CAST(:s_give AS text[])) AND attempts > 0)"
)


async def take(conn: Connection, keys: Sequence[str], now: int, window_ms: int) -> list[int]:
    """Count one attempt on each key atomically (a window older than ``window_ms`` starts again); the
    new counts, in order.  One statement for distinct keys: an upsert of every key, each row counted
    under its own row lock (PostgreSQL) or the write lock (SQLite)."""
    if not keys:
        return []
    params: dict[str, object] = {"now": now, "cutoff": now - window_ms}
    if len(set(keys)) < len(keys):  # one statement may not update a row twice
        one = f"{_INSERT}(:key, :now, 1){_SET} RETURNING attempts"
        return [int(await conn.fetch_value(one, {**params, "key": key})) for key in keys]
    params.update({f"k{i}": key for i, key in enumerate(keys)})
    values = ", ".join(f"(:k{i}, :now, 1)" for i in range(len(keys)))
    rows = await conn.fetch_all(f"{_INSERT}{values}{_SET} RETURNING key, attempts", params)
    counts = {row["key"]: int(row["attempts"]) for row in rows}
    return [counts[key] for key in keys]


def settle_params(forget: Sequence[str], give_back: Sequence[str]) -> dict[str, object]:
    return {"s_forget": list(forget), "s_give": list(give_back)}


async def settle(conn: Connection, forget: Sequence[str], give_back: Sequence[str]) -> None:
    """Delete the counters of ``forget``; take one attempt back from each of ``give_back`` (keys
    distinct): one statement on PostgreSQL, one per key on SQLite (inside the caller's transaction)."""
    if conn.dialect == "postgresql":
        await conn.execute(f"WITH {SETTLE_CTES} SELECT 1", settle_params(forget, give_back))
        return
    for key in forget:
        await conn.execute(_FORGET, {"key": key})
    for key in give_back:
        await conn.execute(_GIVE_BACK, {"key": key})
