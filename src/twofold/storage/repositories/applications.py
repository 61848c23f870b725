"""Applications: id, name, a config document and the app's MFA factors (NULL = inherit the pool's)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import orjson

from twofold.domain.applications import Application
from twofold.storage.database import Connection


def _record(row: Mapping[str, Any]) -> Application:
    factors = row["mfa_enabled_factors"]
    return Application(
        row["id"],
        row["pool_id"],
        row["name"],
        row["identifier"],
        row["app_type"],
        orjson.loads(row["config"]),
        None if factors is None else orjson.loads(factors),
        row["created_at"],
        row["updated_at"],
    )


async def insert(conn: Connection, app: Application) -> None:
    await conn.execute(
        "INSERT INTO applications (id, pool_id, name, identifier, app_type, config, mfa_enabled_factors,"
        " created_at, updated_at) VALUES (:id, :pool, :name, :identifier, :type, :config, :factors, :at, :at)",
        {
            "id": app.id,
            "pool": app.pool_id,
            "name": app.name,
            "identifier": app.identifier,
            "type": app.app_type,
            "config": orjson.dumps(app.config).decode(),
            "factors": None if app.mfa_enabled_factors is None else orjson.dumps(app.mfa_enabled_factors).decode(),
            "at": app.created_at,
        },
    )


async def get(conn: Connection, pool_id: str, app_id: str) -> Application | None:
    row = await conn.fetch_one(
        "SELECT * FROM applications WHERE pool_id = :pool AND id = :id", {"pool": pool_id, "id": app_id}
    )
    return None if row is None else _record(row)


async def mfa_factor_lists(
    conn: Connection, pool_id: str, app_id: str
) -> tuple[list[str] | None, list[str]] | None:
    """In one read, the application's own MFA factors (None: it inherits them) and its pool's; None
    when there is no such application."""
    row = await conn.fetch_one(
        "SELECT a.mfa_enabled_factors AS app_factors, p.mfa_enabled_factors AS pool_factors"
        " FROM applications a LEFT JOIN user_pools p ON p.id = a.pool_id WHERE a.pool_id = :pool AND a.id = :id",
        {"pool": pool_id, "id": app_id},
    )
    if row is None:
        return None
    own, pool = row["app_factors"], row["pool_factors"]
    return None if own is None else orjson.loads(own), [] if pool is None else orjson.loads(pool)


async def set_mfa_factors(conn: Connection, pool_id: str, app_id: str, factors: list[str], at: int) -> None:
    await conn.execute(
        "UPDATE applications SET mfa_enabled_factors = :f, updated_at = :at WHERE pool_id = :pool AND id = :id",
        {"f": orjson.dumps(factors).decode(), "at": at, "pool": pool_id, "id": app_id},
    )


async def list_page(
    conn: Connection, pool_id: str, keywords: str | None, offset: int, limit: int
) -> tuple[int, list[Application]]:
    where = "pool_id = :pool"
    params: dict[str, Any] = {"pool": pool_id, "limit": limit, "offset": offset}
    if keywords:
        where += " AND (LOWER(name) LIKE :kw OR LOWER(identifier) LIKE :kw)"
        params["kw"] = f"%{keywords.lower()}%"
    total = int(await conn.fetch_value(f"SELECT COUNT(*) FROM applications WHERE {where}", params))
    rows = await conn.fetch_all(
        f"SELECT * FROM applications WHERE {where} ORDER BY created_at DESC, id DESC"
        " LIMIT :limit OFFSET :offset",
        params,
    )
    return total, [_record(r) for r in rows]
