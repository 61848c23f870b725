"""The audit trail's hash chain: the sealer's reads and writes, and the verifier's walk
(services/audit_chain.py).  Events are inserted by ``repositories/audit.py`` with ``chain_seq`` and
``mac`` NULL; only the sealer sets them, in a transaction that holds the pool's chain lock."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from twofold.storage.database import Connection

# The class key of the pool locks (pg_advisory_xact_lock(class, hashtext(pool_id))): the two-int4 key
# space of advisory locks does not overlap the bigint one of migrations_lock.py.
CHAIN_LOCK_CLASS = 0x7466_6163  # "tfac": Twofold audit chain

_EVENT = (
    "SELECT id, pool_id, chain_seq, at, actor, request_id, client_ip, target_user_id, action, before, after, mac"
    " FROM audit_events"
)


async def lock_pool(conn: Connection, pool_id: str) -> None:
    """Hold the pool's chain until the transaction ends.  SQLite: the write transaction already
    excludes every other writer (BEGIN IMMEDIATE), in this process and in the others."""
    if conn.dialect == "postgresql":
        await conn.execute(
            "SELECT pg_advisory_xact_lock(:cls, hashtext(:pool))", {"cls": CHAIN_LOCK_CLASS, "pool": pool_id}
        )


async def head(conn: Connection, pool_id: str) -> Mapping[str, Any] | None:
    return await conn.fetch_one(
        "SELECT pool_id, seq, mac, sealed_at, head_mac FROM audit_chain_heads WHERE pool_id = :pool",
        {"pool": pool_id},
    )


async def write_head(
    conn: Connection, pool_id: str, seq: int, mac: str, sealed_at: int, head_mac: str
) -> None:
    await conn.execute(
        "INSERT INTO audit_chain_heads (pool_id, seq, mac, sealed_at, head_mac)"
        " VALUES (:pool, :seq, :mac, :at, :head_mac)"
        " ON CONFLICT (pool_id) DO UPDATE SET seq = excluded.seq, mac = excluded.mac,"
        " sealed_at = excluded.sealed_at, head_mac = excluded.head_mac",
        {"pool": pool_id, "seq": seq, "mac": mac, "at": sealed_at, "head_mac": head_mac},
    )


async def pools_with_unsealed(conn: Connection) -> list[str]:
    rows = await conn.fetch_all("SELECT DISTINCT pool_id FROM audit_events WHERE chain_seq IS NULL")
    return sorted(r["pool_id"] for r in rows)


async def unsealed(conn: Connection, pool_id: str, limit: int) -> list[Mapping[str, Any]]:
    """The oldest unsealed events of the pool, by id (read from the partial index of unsealed events)."""
    return await conn.fetch_all(
        f"{_EVENT} WHERE pool_id = :pool AND chain_seq IS NULL ORDER BY id LIMIT :limit",
        {"pool": pool_id, "limit": limit},
    )


async def seal(conn: Connection, sealed: Sequence[Mapping[str, Any]]) -> None:
    """Set ``chain_seq`` and ``mac`` of each ``{"id", "seq", "mac"}``: on PostgreSQL in one statement
    (one round trip for the batch), on SQLite one statement each (no round trips there)."""
    if conn.dialect == "postgresql":
        await conn.execute(
            "UPDATE audit_events AS e SET chain_seq = v.seq, mac = v.mac"
            " FROM unnest(:ids::int[], :seqs::bigint[], :macs::text[]) AS v(id, seq, mac)"
            " WHERE e.id = v.id AND e.chain_seq IS NULL",
            {
                "ids": [s["id"] for s in sealed],
                "seqs": [s["seq"] for s in sealed],
                "macs": [s["mac"] for s in sealed],
            },
        )
        return
    await conn.execute_many(
        "UPDATE audit_events SET chain_seq = :seq, mac = :mac WHERE id = :id AND chain_seq IS NULL", sealed
    )


async def count_unsealed(conn: Connection, pool_id: str) -> int:
    return int(
        await conn.fetch_value(
            "SELECT COUNT(*) FROM audit_events WHERE pool_id = :pool AND chain_seq IS NULL", {"pool": pool_id}
        )
    )


async def chain_pools(conn: Connection) -> list[str]:
    """Every pool with an audit event or a chain head."""
    rows = await conn.fetch_all(
        "SELECT DISTINCT pool_id FROM audit_events UNION SELECT pool_id FROM audit_chain_heads"
    )
    return sorted(r["pool_id"] for r in rows)


async def chain_page(conn: Connection, pool_id: str, after_seq: int, limit: int) -> list[Mapping[str, Any]]:
    """The pool's sealed events after ``after_seq``, in chain order."""
    return await conn.fetch_all(
        f"{_EVENT} WHERE pool_id = :pool AND chain_seq > :after ORDER BY chain_seq LIMIT :limit",
        {"pool": pool_id, "after": after_seq, "limit": limit},
    )
