"""Login history: one row per sign-in outcome, read back as a user's newest-first page."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from twofold.storage.database import Connection


@dataclass(frozen=True)
class LoginRow:
    pool_id: str
    user_id: str
    app_id: str
    at: int
    outcome: str
    connection: str
    factor: str | None
    client_ip: str
    user_agent: str
    reason: str | None
    request_id: str


@dataclass(frozen=True)
class LoginFilter:
    """Which entries of one user to page through; ``None`` is "any"."""

    pool_id: str
    user_id: str
    app_id: str | None = None
    client_ip: str | None = None
    success: bool | None = None
    start: int | None = None  # ms, inclusive
    end: int | None = None  # ms, inclusive


INSERT = (
    "INSERT INTO login_history (pool_id, user_id, app_id, at, outcome, connection, factor, client_ip,"
    " user_agent, reason, request_id) VALUES (:l_pool, :l_user, :l_app, :l_at, :l_outcome, :l_connection,"
    " :l_factor, :l_ip, :l_ua, :l_reason, :l_rid)"
)


def params(row: LoginRow) -> dict[str, Any]:
    """The parameters of ``INSERT`` (prefixed ``l_``: it is also a CTE of a sign-in's one write)."""
    return {
        "l_pool": row.pool_id,
        "l_user": row.user_id,
        "l_app": row.app_id,
        "l_at": row.at,
        "l_outcome": row.outcome,
        "l_connection": row.connection,
        "l_factor": row.factor,
        "l_ip": row.client_ip,
        "l_ua": row.user_agent,
        "l_reason": row.reason,
        "l_rid": row.request_id,
    }


async def insert(conn: Connection, row: LoginRow) -> None:
    await conn.execute(INSERT, params(row))


def _where(f: LoginFilter) -> tuple[str, dict[str, Any]]:
    where = ["h.user_id = :user", "h.pool_id = :pool"]
    params: dict[str, Any] = {"user": f.user_id, "pool": f.pool_id}
    if f.app_id:
        where.append("h.app_id = :app")
        params["app"] = f.app_id
    if f.client_ip:
        where.append("h.client_ip = :ip")
        params["ip"] = f.client_ip
    if f.success is not None:
        where.append("h.outcome = 'success'" if f.success else "h.outcome <> 'success'")
    if f.start is not None:
        where.append("h.at >= :start")
        params["start"] = f.start
    if f.end is not None:
        where.append("h.at <= :end")
        params["end"] = f.end
    return " AND ".join(where), params


async def page(conn: Connection, f: LoginFilter, offset: int, limit: int) -> tuple[list[Mapping[str, Any]], int]:
    """One page, newest first, with the application's name and config; and the count of all matches."""
    where, params = _where(f)
    total = await conn.fetch_value(f"SELECT COUNT(*) FROM login_history h WHERE {where}", params)
    rows = await conn.fetch_all(
        "SELECT h.*, a.name AS app_name, a.config AS app_config FROM login_history h"
        " LEFT JOIN applications a ON a.id = h.app_id"
        f" WHERE {where} ORDER BY h.at DESC, h.id DESC LIMIT :limit OFFSET :offset",
        {**params, "limit": limit, "offset": offset},
    )
    return rows, int(total or 0)
