"""The admin console's sessions: one row per signed-in browser, keyed by the SHA-256 of its cookie."""

from __future__ import annotations

from twofold.storage.database import Connection

_TOUCH = (
    "UPDATE console_sessions SET last_seen_at = :now"
    " WHERE id_digest = :digest AND last_seen_at > :idle_cutoff AND created_at > :age_cutoff"
    " RETURNING pool_id, access_key_id"
)


async def insert(conn: Connection, digest: str, pool_id: str, access_key_id: str, now: int) -> None:
    await conn.execute(
        "INSERT INTO console_sessions (id_digest, pool_id, access_key_id, created_at, last_seen_at)"
        " VALUES (:digest, :pool_id, :key_id, :now, :now)",
        {"digest": digest, "pool_id": pool_id, "key_id": access_key_id, "now": now},
    )


async def touch(
    conn: Connection, digest: str, now: int, idle_cutoff: int, age_cutoff: int
) -> tuple[str, str] | None:
    """Mark the session used now, in the same statement that checks it is neither idle nor too old;
    its (pool id, access key id), or None when there is no such live session."""
    row = await conn.fetch_one(
        _TOUCH, {"digest": digest, "now": now, "idle_cutoff": idle_cutoff, "age_cutoff": age_cutoff}
    )
    return None if row is None else (row["pool_id"], row["access_key_id"])


async def delete(conn: Connection, digest: str) -> None:
    await conn.execute("DELETE FROM console_sessions WHERE id_digest = :digest", {"digest": digest})


async def delete_for_key(conn: Connection, access_key_id: str) -> int:
    return await conn.execute(
        "DELETE FROM console_sessions WHERE access_key_id = :key_id", {"key_id": access_key_id}
    )


async def forget_stale(conn: Connection, idle_cutoff: int, age_cutoff: int) -> int:
    return await conn.execute(
        "DELETE FROM console_sessions WHERE last_seen_at <= :idle_cutoff OR created_at <= :age_cutoff",
        {"idle_cutoff": idle_cutoff, "age_cutoff": age_cutoff},
    )
