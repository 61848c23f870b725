"""Spent mfaTokens: a ``jti`` inserted once; the primary key makes the second insert fail."""

from __future__ import annotations

from twofold.storage.database import Connection


async def spend(conn: Connection, jti: str, user_id: str, at: int, expires_at: int) -> bool:
    """True for the one caller whose INSERT lands; every other gets False (``ON CONFLICT DO NOTHING``)."""
    changed = await conn.execute(
        "INSERT INTO spent_mfa_tokens (jti, user_id, spent_at, expires_at) VALUES (:jti, :user, :at, :exp)"
        " ON CONFLICT (jti) DO NOTHING",
        {"jti": jti, "user": user_id, "at": at, "exp": expires_at},
    )
    return changed == 1


async def is_spent(conn: Connection, jti: str) -> bool:
    return await conn.fetch_one("SELECT jti FROM spent_mfa_tokens WHERE jti = :jti", {"jti": jti}) is not None


async def purge_expired(conn: Connection, before: int) -> int:
    return await conn.execute("DELETE FROM spent_mfa_tokens WHERE expires_at < :before", {"before": before})
