"""Bound TOTP authenticators; the secret and recovery code are stored encrypted.

``last_used_step`` is the last accepted TOTP time step: ``accept_step`` moves it forward with a
compare-and-set in the database, so a step is accepted at most once across processes and instances.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from twofold.storage.database import Connection


@dataclass(frozen=True)
class StoredAuthenticator:
    secret_ciphertext: str
    recovery_code_ciphertext: str | None
    last_used_step: int | None


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
        " recovery_code_ciphertext = excluded.recovery_code_ciphertext, created_at = excluded.created_at,"
        " last_used_step = NULL",  # a new secret: the old one's steps say nothing about it
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


async def find(conn: Connection, pool_id: str, user_id: str) -> StoredAuthenticator | None:
    row = await conn.fetch_one(
        "SELECT secret_ciphertext, recovery_code_ciphertext, last_used_step FROM otp_authenticators"
        " WHERE pool_id = :pool AND user_id = :uid",
        {"pool": pool_id, "uid": user_id},
    )
    if row is None:
        return None
    step = row["last_used_step"]
    return StoredAuthenticator(
        row["secret_ciphertext"], row["recovery_code_ciphertext"], None if step is None else int(step)
    )


async def exists(conn: Connection, pool_id: str, user_id: str) -> bool:
    value = await conn.fetch_value(
        "SELECT 1 FROM otp_authenticators WHERE pool_id = :pool AND user_id = :uid",
        {"pool": pool_id, "uid": user_id},
    )
    return value is not None


async def accept_step(conn: Connection, pool_id: str, user_id: str, step: int) -> bool:
    """Record ``step`` as used if it is newer than the last one; True iff this call did (one row changed).

    One statement: on PostgreSQL a concurrent UPDATE of the row waits for the first one and re-checks
    the condition on the committed row; on SQLite writes are serialised by the write lock.
    """
    changed = await conn.execute(
        "UPDATE otp_authenticators SET last_used_step = :step WHERE pool_id = :pool AND user_id = :uid"
        " AND (last_used_step IS NULL OR last_used_step < :step)",
        {"pool": pool_id, "uid": user_id, "step": step},
    )
    return changed == 1


async def spend_recovery_code(
    conn: Connection, pool_id: str, user_id: str, ciphertext: str, replacement: str | None = None
) -> bool:
    """Replace the recovery code by ``replacement`` (None: remove it) if it is still ``ciphertext``;
    True iff this call did (a compare-and-set: of concurrent spenders exactly one wins)."""
    changed = await conn.execute(
        "UPDATE otp_authenticators SET recovery_code_ciphertext = :new WHERE pool_id = :pool"
        " AND user_id = :uid AND recovery_code_ciphertext = :ct",
        {"pool": pool_id, "uid": user_id, "ct": ciphertext, "new": replacement},
    )
    return changed == 1


async def delete(conn: Connection, pool_id: str, user_id: str) -> bool:
    changed = await conn.execute(
        "DELETE FROM otp_authenticators WHERE pool_id = :pool AND user_id = :uid",
        {"pool": pool_id, "uid": user_id},
    )
    return changed > 0
