"""What the admin console's overview and users list read about MFA across a pool: locked factors,
and the rows the adoption chart is counted from.

``locked`` and ``count_locked`` read ``mfa_failures``, which holds a row only for a user and factor
with a failure since the last success (a small table next to ``users``).  ``adoption_batch`` walks
the pool's users by the ``(pool_id, created_at, id)`` index, a batch at a time, each with its stored
MFA document and whether a TOTP secret is bound."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from twofold.storage.database import Connection


async def locked(conn: Connection, pool_id: str, now: int, limit: int) -> list[Mapping[str, Any]]:
    """The factors locked at ``now``, the latest lock to end first: user id, factor, failures, until."""
    return await conn.fetch_all(
        "SELECT f.user_id, f.factor, f.failures, f.locked_until, u.email FROM mfa_failures f"
        " JOIN users u ON u.id = f.user_id"
        " WHERE f.pool_id = :pool AND f.locked_until > :now ORDER BY f.locked_until DESC, f.user_id LIMIT :limit",
        {"pool": pool_id, "now": now, "limit": limit},
    )


async def count_locked(conn: Connection, pool_id: str, now: int) -> int:
    """How many users have a factor locked at ``now``."""
    value = await conn.fetch_value(
        "SELECT COUNT(DISTINCT user_id) FROM mfa_failures WHERE pool_id = :pool AND locked_until > :now",
        {"pool": pool_id, "now": now},
    )
    return int(value or 0)


async def adoption_batch(
    conn: Connection, pool_id: str, after: tuple[int, str] | None, limit: int
) -> list[Mapping[str, Any]]:
    """Up to ``limit`` users after ``after`` (newest first): id, created_at, phone, phone country code,
    email, the stored MFA document (None: never set) and ``has_otp``."""
    params: dict[str, Any] = {"pool": pool_id, "limit": limit}
    where = "u.pool_id = :pool"
    if after is not None:
        where += " AND (u.created_at < :after_at OR (u.created_at = :after_at AND u.id < :after_id))"
        params.update(after_at=after[0], after_id=after[1])
    return await conn.fetch_all(
        "SELECT u.id, u.created_at, u.phone, u.phone_country_code, u.email, m.document,"
        " EXISTS (SELECT 1 FROM otp_authenticators o WHERE o.user_id = u.id) AS has_otp"
        f" FROM users u LEFT JOIN mfa_statuses m ON m.user_id = u.id WHERE {where}"
        " ORDER BY u.created_at DESC, u.id DESC LIMIT :limit",
        params,
    )
