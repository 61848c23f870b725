"""User pools (tenants) and their global MFA settings."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import orjson

from twofold.storage.database import Connection


@dataclass(frozen=True)
class PoolRecord:
    id: str
    name: str
    mfa_enabled_factors: list[str]
    created_at: int


async def insert(conn: Connection, pool: PoolRecord) -> None:
    await conn.execute(
        "INSERT INTO user_pools (id, name, mfa_enabled_factors, created_at) VALUES (:id, :name, :f, :at)",
        {"id": pool.id, "name": pool.name, "f": orjson.dumps(pool.mfa_enabled_factors).decode(), "at": pool.created_at},
    )


async def get(conn: Connection, pool_id: str) -> PoolRecord | None:
    row = await conn.fetch_one("SELECT * FROM user_pools WHERE id = :id", {"id": pool_id})
    return None if row is None else _record(row)


async def first(conn: Connection) -> PoolRecord | None:
    row = await conn.fetch_one("SELECT * FROM user_pools ORDER BY created_at, id LIMIT 1")
    return None if row is None else _record(row)


async def set_mfa_factors(conn: Connection, pool_id: str, factors: list[str]) -> None:
    await conn.execute(
        "UPDATE user_pools SET mfa_enabled_factors = :f WHERE id = :id",
        {"f": orjson.dumps(factors).decode(), "id": pool_id},
    )


def _record(row: Mapping[str, Any]) -> PoolRecord:
    return PoolRecord(row["id"], row["name"], orjson.loads(row["mfa_enabled_factors"]), row["created_at"])
