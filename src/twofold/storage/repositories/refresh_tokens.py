"""Refresh tokens (stored as digests) and their families: one family per sign-in, revoked as a whole."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from twofold.storage.database import Connection


@dataclass(frozen=True)
class NewFamily:
    """A sign-in's family and its first refresh token (``token_hash``), to be written together."""

    id: str
    pool_id: str
    app_id: str
    user_id: str
    scope: str
    created_at: int
    token_hash: str
    expires_at: int

    def params(self) -> dict[str, Any]:
        """The parameters of ``INSERT_FAMILY`` and ``INSERT_FIRST_REFRESH``."""
        return {
            "f_id": self.id,
            "f_pool": self.pool_id,
            "f_app": self.app_id,
            "f_user": self.user_id,
            "f_scope": self.scope,
            "f_at": self.created_at,
            "f_hash": self.token_hash,
            "f_exp": self.expires_at,
        }


INSERT_FAMILY = (
    "INSERT INTO token_families (id, pool_id, app_id, user_id, scope, created_at)"
    " VALUES (:f_id, :f_pool, :f_app, :f_user, :f_scope, :f_at)"
)
INSERT_FIRST_REFRESH = (
    "INSERT INTO refresh_tokens (token_hash, family_id, created_at, expires_at)"
    " VALUES (:f_hash, :f_id, :f_at, :f_exp)"
)


async def insert_family(conn: Connection, family: NewFamily) -> None:
    """The family and its first token (two statements; as CTEs of one in ``signin_outcomes``)."""
    await conn.execute(INSERT_FAMILY, family.params())
    await conn.execute(INSERT_FIRST_REFRESH, family.params())


async def insert_token(conn: Connection, token_hash: str, family_id: str, at: int, expires_at: int) -> None:
    await conn.execute(
        "INSERT INTO refresh_tokens (token_hash, family_id, created_at, expires_at)"
        " VALUES (:hash, :family, :at, :exp)",
        {"hash": token_hash, "family": family_id, "at": at, "exp": expires_at},
    )


async def find(conn: Connection, token_hash: str) -> Mapping[str, Any] | None:
    return await conn.fetch_one(
        "SELECT t.token_hash, t.family_id, t.expires_at, t.used_at, f.pool_id, f.app_id, f.user_id, f.scope,"
        " f.revoked_at FROM refresh_tokens t JOIN token_families f ON f.id = t.family_id"
        " WHERE t.token_hash = :hash",
        {"hash": token_hash},
    )


async def mark_used(conn: Connection, token_hash: str, at: int) -> bool:
    """Compare-and-set: True for the one caller that turns an unused token into a used one."""
    changed = await conn.execute(
        "UPDATE refresh_tokens SET used_at = :at WHERE token_hash = :hash AND used_at IS NULL",
        {"at": at, "hash": token_hash},
    )
    return changed == 1


async def revoke_family(conn: Connection, family_id: str, at: int) -> None:
    await conn.execute(
        "UPDATE token_families SET revoked_at = :at WHERE id = :id AND revoked_at IS NULL",
        {"at": at, "id": family_id},
    )


async def revoke_user(conn: Connection, pool_id: str, user_id: str, at: int) -> int:
    return await conn.execute(
        "UPDATE token_families SET revoked_at = :at"
        " WHERE pool_id = :pool AND user_id = :user AND revoked_at IS NULL",
        {"at": at, "pool": pool_id, "user": user_id},
    )


FAMILY_STATE_COLUMNS = ("id", "pool_id", "app_id", "user_id", "revoked_at")  # what ``family_state`` answers


async def family_state(conn: Connection, family_id: str) -> Mapping[str, Any] | None:
    return await conn.fetch_one(
        f"SELECT {', '.join(FAMILY_STATE_COLUMNS)} FROM token_families WHERE id = :id", {"id": family_id}
    )
