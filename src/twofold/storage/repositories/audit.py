"""Append-only audit events."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from twofold.storage.database import Connection


async def insert(
    conn: Connection,
    *,
    pool_id: str,
    at: int,
    actor: str,
    request_id: str,
    client_ip: str,
    target_user_id: str | None,
    action: str,
    before: str | None,
    after: str | None,
) -> None:
    await conn.execute(
        "INSERT INTO audit_events (pool_id, at, actor, request_id, client_ip, target_user_id, action, before, after)"
        " VALUES (:pool, :at, :actor, :rid, :ip, :target, :action, :before, :after)",
        {
            "pool": pool_id,
            "at": at,
            "actor": actor,
            "rid": request_id,
            "ip": client_ip,
            "target": target_user_id,
            "action": action,
            "before": before,
            "after": after,
        },
    )


async def list_events(
    conn: Connection, pool_id: str, user_id: str | None, action: str | None, before_id: int | None, limit: int
) -> list[Mapping[str, Any]]:
    where = ["pool_id = :pool"]
    params: dict[str, Any] = {"pool": pool_id, "limit": limit}
    if user_id:
        where.append("target_user_id = :uid")
        params["uid"] = user_id
    if action:
        where.append("action = :action")
        params["action"] = action
    if before_id:
        where.append("id < :before")
        params["before"] = before_id
    sql = f"SELECT * FROM audit_events WHERE {' AND '.join(where)} ORDER BY id DESC LIMIT :limit"
    return await conn.fetch_all(sql, params)
