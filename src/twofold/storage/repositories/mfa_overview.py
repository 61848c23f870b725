"""What the admin console's overview and users list read about MFA across a pool: locked factors,
and the rows the adoption chart is counted from.

``locked`` and ``count_locked`` read ``mfa_failures``, which holds a row only for a user and factor
with a failure since the last success (a small table next to ``users``).  ``adoption_groups``
reads the pool's users once, grouped by what decides their adoption (one row per distinct group)."""

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


async def adoption_groups(conn: Connection, pool_id: str) -> list[Mapping[str, Any]]:
    """The pool's users grouped by what decides their MFA adoption: the stored MFA document (None:
    never set), whether they have a phone, an email, a bound TOTP secret; ``n`` users each.  Users who
    share a policy share a document, so there are few groups however many users."""
    return await conn.fetch_all(
        "SELECT document, has_phone, has_email, has_otp, COUNT(*) AS n FROM (SELECT m.document,"
        " CASE WHEN u.phone IS NULL THEN 0 ELSE 1 END AS has_phone,"
        " CASE WHEN u.email IS NULL THEN 0 ELSE 1 END AS has_email,"
        " CASE WHEN EXISTS (SELECT 1 FROM otp_authenticators o WHERE o.user_id = u.id) THEN 1 ELSE 0 END"
        " AS has_otp FROM users u LEFT JOIN mfa_statuses m ON m.user_id = u.id WHERE u.pool_id = :pool) g"
        " GROUP BY document, has_phone, has_email, has_otp",
        {"pool": pool_id},
    )
