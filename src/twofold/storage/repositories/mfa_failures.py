"""Consecutive failed MFA verifications per user and factor, and the lock they lead to.

``record_failure`` is one statement on both databases (``INSERT ... ON CONFLICT DO UPDATE ... WHERE
... RETURNING``): it counts a failure only while the factor is not locked, and sets the lock in the
same statement when the count reaches a multiple of the limit.  So parallel failures cannot push the
count past a lock: on PostgreSQL a concurrent upsert of the row waits for the first and re-checks the
condition on the committed row; on SQLite writes are serialised.  The lock time is the rule of
``domain/lockout.py``, written in SQL (a shift for the power of two, capped).
"""

from __future__ import annotations

from dataclasses import dataclass

from twofold.domain.lockout import MAX_SHIFT, LockoutPolicy
from twofold.storage.database import Connection
from twofold.storage.repositories import audit as audit_repo


@dataclass(frozen=True)
class OnAccept:
    """What a right code's compare-and-set brings with it, in the same write: the factor's failure
    count set back to zero and ``event`` appended to the audit trail (``after_accept``)."""

    pool_id: str
    user_id: str
    factor: str
    event: audit_repo.AuditRow

    def params(self) -> dict[str, object]:
        return {"f_pool": self.pool_id, "f_uid": self.user_id, "f_factor": self.factor, **self.event.params()}


# The two writes of ``after_accept``, as CTEs for a data-modifying statement on PostgreSQL whose
# compare-and-set is the CTE ``won`` (``otp.accept_step``): one statement, one commit.
AFTER_ACCEPT_CTES = (
    "cleared AS (DELETE FROM mfa_failures WHERE pool_id = :f_pool AND user_id = :f_uid"
    " AND factor = :f_factor AND EXISTS (SELECT 1 FROM won)),"
    f" logged AS ({audit_repo.INSERT_COLUMNS} SELECT {audit_repo.VALUES} FROM won)"
)


async def after_accept(conn: Connection, then: OnAccept) -> None:
    """The writes of ``then`` as separate statements, for a compare-and-set that has just won."""
    await clear(conn, then.pool_id, then.user_id, then.factor)
    await audit_repo.insert(conn, then.event)


@dataclass(frozen=True)
class FailureCount:
    factor: str
    failures: int
    locked_until: int | None
    last_failure_at: int | None


_NEXT = "(mfa_failures.failures + 1)"
_SHIFT = f"({_NEXT} / :limit - 1)"
_BASE = "CAST(:base AS BIGINT)"
_LOCK_TIME = (
    f"CASE WHEN {_SHIFT} >= {MAX_SHIFT} THEN :cap"
    f" WHEN ({_BASE} << {_SHIFT}) >= :cap THEN :cap ELSE ({_BASE} << {_SHIFT}) END"
)
_RECORD_FAILURE = (
    "INSERT INTO mfa_failures (pool_id, user_id, factor, failures, locked_until, last_failure_at)"
    " VALUES (:pool, :uid, :factor, 1, :first_lock, :now)"
    " ON CONFLICT (user_id, factor) DO UPDATE SET"
    " failures = mfa_failures.failures + 1,"
    f" locked_until = CASE WHEN {_NEXT} % :limit = 0 THEN :now + {_LOCK_TIME}"
    " ELSE mfa_failures.locked_until END,"
    " last_failure_at = :now"
    " WHERE mfa_failures.locked_until IS NULL OR mfa_failures.locked_until <= :now"
    " RETURNING failures, locked_until"
)


async def record_failure(
    conn: Connection, pool_id: str, user_id: str, factor: str, now: int, policy: LockoutPolicy
) -> FailureCount | None:
    """Count one failure; the new count, or None if the factor was locked (nothing counted)."""
    first = policy.lock_ms(1)
    row = await conn.fetch_one(
        _RECORD_FAILURE,
        {
            "pool": pool_id,
            "uid": user_id,
            "factor": factor,
            "now": now,
            "first_lock": None if first is None else now + first,
            "limit": policy.max_failures,
            "base": policy.base_ms,
            "cap": policy.cap_ms,
        },
    )
    if row is None:
        return None
    return FailureCount(factor, int(row["failures"]), row["locked_until"], now)


async def locked_until(conn: Connection, pool_id: str, user_id: str, factor: str) -> int | None:
    value = await conn.fetch_value(
        "SELECT locked_until FROM mfa_failures WHERE pool_id = :pool AND user_id = :uid AND factor = :factor",
        {"pool": pool_id, "uid": user_id, "factor": factor},
    )
    return None if value is None else int(value)


async def list_for_user(conn: Connection, pool_id: str, user_id: str) -> list[FailureCount]:
    rows = await conn.fetch_all(
        "SELECT factor, failures, locked_until, last_failure_at FROM mfa_failures"
        " WHERE pool_id = :pool AND user_id = :uid ORDER BY factor",
        {"pool": pool_id, "uid": user_id},
    )
    return [
        FailureCount(r["factor"], int(r["failures"]), r["locked_until"], r["last_failure_at"]) for r in rows
    ]


async def clear(conn: Connection, pool_id: str, user_id: str, factor: str) -> bool:
    """Set the count of one factor back to zero (no row); True if there was one."""
    changed = await conn.execute(
        "DELETE FROM mfa_failures WHERE pool_id = :pool AND user_id = :uid AND factor = :factor",
        {"pool": pool_id, "uid": user_id, "factor": factor},
    )
    return changed > 0
