"""The development outbox: messages kept in the database when no transport is configured."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from twofold.storage.database import Connection


async def insert(conn: Connection, pool_id: str, medium: str, ciphertext: str, at: int) -> None:
    await conn.execute(
        "INSERT INTO outbox_messages (pool_id, medium, ciphertext, created_at)"
        " VALUES (:pool, :medium, :ciphertext, :at)",
        {"pool": pool_id, "medium": medium, "ciphertext": ciphertext, "at": at},
    )


async def list_messages(conn: Connection, pool_id: str | None, limit: int) -> list[Mapping[str, Any]]:
    """Newest first."""
    where = "WHERE pool_id = :pool " if pool_id else ""
    params: dict[str, Any] = {"limit": limit}
    if pool_id:
        params["pool"] = pool_id
    return await conn.fetch_all(
        f"SELECT id, pool_id, medium, ciphertext, created_at FROM outbox_messages {where}"
        "ORDER BY id DESC LIMIT :limit",
        params,
    )
