"""One-time codes and their send limits.  Every check-and-change is one statement (a compare-and-set
or an ``INSERT ... ON CONFLICT DO UPDATE ... WHERE ... RETURNING``), so it is exact however many
requests, processes or instances race on the same row, on SQLite and PostgreSQL alike."""

from __future__ import annotations

from dataclasses import dataclass

from twofold.storage.database import Connection


@dataclass(frozen=True)
class PasscodeKey:
    pool_id: str
    channel: str
    target: str

    def params(self) -> dict[str, str]:
        return {"pool": self.pool_id, "channel": self.channel, "target": self.target}


_WHERE_KEY = "pool_id = :pool AND channel = :channel AND target = :target"


async def store(conn: Connection, key: PasscodeKey, code_hash: str, issued_at: int, expires_at: int) -> None:
    """The new code of ``key``: it replaces the previous one, spent or not, with fresh attempts."""
    await conn.execute(
        "INSERT INTO passcodes (pool_id, channel, target, code_hash, issued_at, expires_at, attempts, consumed_at)"
        " VALUES (:pool, :channel, :target, :hash, :issued, :expires, 0, NULL)"
        " ON CONFLICT (pool_id, channel, target) DO UPDATE SET code_hash = excluded.code_hash,"
        " issued_at = excluded.issued_at, expires_at = excluded.expires_at, attempts = 0, consumed_at = NULL",
        {**key.params(), "hash": code_hash, "issued": issued_at, "expires": expires_at},
    )


@dataclass(frozen=True)
class Attempt:
    """An attempt reserved on a live code: the stored hash to compare with, and which code it was."""

    code_hash: str
    issued_at: int


async def reserve_attempt(conn: Connection, key: PasscodeKey, now: int, max_attempts: int) -> Attempt | None:
    """Count one attempt on the live code of ``key``; None when there is none (absent, spent, expired,
    or out of attempts).  The count goes up before the comparison, so parallel guesses cannot exceed
    ``max_attempts`` between them."""
    rows = await conn.fetch_all(  # fetch_all: a RETURNING statement is always run to its end
        "UPDATE passcodes SET attempts = attempts + 1"
        f" WHERE {_WHERE_KEY} AND consumed_at IS NULL AND expires_at > :now AND attempts < :max"
        " RETURNING code_hash, issued_at",
        {**key.params(), "now": now, "max": max_attempts},
    )
    return Attempt(rows[0]["code_hash"], rows[0]["issued_at"]) if rows else None


async def spend(conn: Connection, key: PasscodeKey, attempt: Attempt, now: int) -> bool:
    """Mark the code of ``attempt`` used if nobody has (compare-and-set); True for the one who did."""
    changed = await conn.execute(
        f"UPDATE passcodes SET consumed_at = :now WHERE {_WHERE_KEY}"
        " AND issued_at = :issued AND code_hash = :hash AND consumed_at IS NULL AND expires_at > :now",
        {**key.params(), "now": now, "issued": attempt.issued_at, "hash": attempt.code_hash},
    )
    return changed == 1


async def claim_interval(conn: Connection, scope: str, now: int, interval_ms: int) -> bool:
    """Record a send to ``scope`` unless the previous one is less than ``interval_ms`` old."""
    rows = await conn.fetch_all(
        "INSERT INTO passcode_throttles (scope, sent_at) VALUES (:scope, :now)"
        " ON CONFLICT (scope) DO UPDATE SET sent_at = excluded.sent_at"
        " WHERE passcode_throttles.sent_at <= :cutoff RETURNING sent_at",
        {"scope": scope, "now": now, "cutoff": now - interval_ms},
    )
    return bool(rows)


async def count_send(conn: Connection, scope: str, window_start: int, limit: int) -> bool:
    """Add one send to ``scope``'s counter of the window; False (and nothing added) at ``limit``."""
    rows = await conn.fetch_all(
        "INSERT INTO passcode_quotas (scope, window_start, count) VALUES (:scope, :window, 1)"
        " ON CONFLICT (scope, window_start) DO UPDATE SET count = passcode_quotas.count + 1"
        " WHERE passcode_quotas.count < :limit RETURNING count",
        {"scope": scope, "window": window_start, "limit": limit},
    )
    return bool(rows)


async def purge(conn: Connection, now: int, windows_before: int, sends_before: int) -> None:
    """Forget what no longer matters: expired codes, past windows, sends older than the interval."""
    await conn.execute("DELETE FROM passcodes WHERE expires_at < :now", {"now": now})
    await conn.execute("DELETE FROM passcode_quotas WHERE window_start < :before", {"before": windows_before})
    await conn.execute("DELETE FROM passcode_throttles WHERE sent_at < :before", {"before": sends_before})
