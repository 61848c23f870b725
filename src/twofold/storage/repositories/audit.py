"""Append-only audit events."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from twofold.storage.database import Connection


@dataclass(frozen=True)
class AuditRow:
    """One event as stored; ``before``/``after`` are JSON text, already redacted (services/audit.py)."""

    pool_id: str
    at: int
    actor: str
    request_id: str
    client_ip: str
    target_user_id: str | None
    action: str
    before: str | None
    after: str | None

    def params(self) -> dict[str, Any]:
        return {
            "a_pool": self.pool_id,
            "a_at": self.at,
            "a_actor": self.actor,
            "a_rid": self.request_id,
            "a_ip": self.client_ip,
            "a_target": self.target_user_id,
            "a_action": self.action,
            "a_before": self.before,
            "a_after": self.after,
        }


INSERT_COLUMNS = "INSERT INTO audit_events (pool_id, at, actor, request_id, client_ip, target_user_id, action, before, after)"
# The values of ``AuditRow.params``, for an INSERT ... SELECT that writes the event with another row.
VALUES = ":a_pool, :a_at, :a_actor, :a_rid, :a_ip, :a_target, :a_action, :a_before, :a_after"


async def insert(conn: Connection, row: AuditRow) -> None:
    await conn.execute(f"{INSERT_COLUMNS} VALUES ({VALUES})", row.params())


async def insert_many(conn: Connection, rows: Sequence[AuditRow]) -> None:
    """``rows`` in this order, in one round trip (a batch of created users: one event each)."""
    await conn.execute_many(f"{INSERT_COLUMNS} VALUES ({VALUES})", [row.params() for row in rows])


async def list_events(
    conn: Connection,
    pool_id: str,
    user_id: str | None,
    action: str | None,
    before_id: int | None,
    limit: int,
    since: int | None = None,
    until: int | None = None,
) -> list[Mapping[str, Any]]:
    """Newest first; ``since``/``until`` bound ``at`` (ms, inclusive).  The walk is by id, which grows
    with ``at``, so a time window is read from the pool's id index."""
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
    if since is not None:
        where.append("at >= :since")
        params["since"] = since
    if until is not None:
        where.append("at <= :until")
        params["until"] = until
    sql = f"SELECT * FROM audit_events WHERE {' AND '.join(where)} ORDER BY id DESC LIMIT :limit"
    return await conn.fetch_all(sql, params)
