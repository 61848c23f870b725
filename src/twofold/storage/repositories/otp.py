"""Bound TOTP authenticators; the secret and recovery code are stored encrypted."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from twofold.storage.database import Connection


async def upsert(
    conn: Connection,
    pool_id: str,
    user_id: str,
    secret_ciphertext: str,
    recovery_ciphertext: str | None,
    at: int,
) -> None:
    await conn.execute(
        "INSERT INTO otp_authenticators (user_id, pool_id, secret_ciphertext, recovery_code_ciphertext, created_at)"
        " VALUES (:uid, :pool, :secret, :recovery, :at) ON CONFLICT (user_id) DO UPDATE SET"
        " secret_ciphertext = excluded.secret_ciphertext,"
        " recovery_code_ciphertext = excluded.recovery_code_ciphertext, created_at = excluded.created_at",
        {
            "uid": user_id,
            "pool": pool_id,
            "secret": secret_ciphertext,
            "recovery": recovery_ciphertext,
            "at": at,
        },
    )


async def get(conn: Connection, pool_id: str, user_id: str) -> Mapping[str, Any] | None:
    return await conn.fetch_one(
        "SELECT * FROM otp_authenticators WHERE pool_id = :pool AND user_id = :uid",
        {"pool": pool_id, "uid": user_id},
    )


async def exists(conn: Connection, pool_id: str, user_id: str) -> bool:
    value = await conn.fetch_value(
        "SELECT 1 FROM otp_authenticators WHERE pool_id = :pool AND user_id = :uid",
        {"pool": pool_id, "uid": user_id},
    )
    return value is not None
