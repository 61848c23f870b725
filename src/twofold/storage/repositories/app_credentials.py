"""An application's client credentials: the digest of its secret and how it authenticates."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from twofold.storage.database import Connection


async def upsert(conn: Connection, pool_id: str, app_id: str, secret_hash: str, auth_method: str, at: int) -> None:
    await conn.execute(
        "INSERT INTO application_credentials (app_id, pool_id, secret_hash, auth_method, updated_at)"
        " VALUES (:app, :pool, :hash, :method, :at) ON CONFLICT (app_id) DO UPDATE SET"
        " secret_hash = excluded.secret_hash, updated_at = excluded.updated_at",
        {"app": app_id, "pool": pool_id, "hash": secret_hash, "method": auth_method, "at": at},
    )


async def set_auth_method(conn: Connection, pool_id: str, app_id: str, auth_method: str, at: int) -> int:
    return await conn.execute(
        "UPDATE application_credentials SET auth_method = :method, updated_at = :at"
        " WHERE pool_id = :pool AND app_id = :app",
        {"method": auth_method, "at": at, "pool": pool_id, "app": app_id},
    )


async def get(conn: Connection, app_id: str) -> Mapping[str, Any] | None:
    """By app id alone: a sign-in names its application before it names its pool."""
    return await conn.fetch_one(
        "SELECT a.id AS app_id, a.pool_id, c.secret_hash, c.auth_method FROM applications a"
        " LEFT JOIN application_credentials c ON c.app_id = a.id WHERE a.id = :app",
        {"app": app_id},
    )
