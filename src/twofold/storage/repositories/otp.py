"""Bound TOTP authenticators; the secret and recovery code are stored encrypted.

``last_used_step`` is the last accepted TOTP time step: ``accept_step`` moves it forward with a
compare-and-set in the database, so a step is accepted at most once across processes and instances.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from twofold.storage.database import Connection
from twofold.storage.repositories.mfa_failures import AFTER_ACCEPT_CTES, OnAccept, after_accept
from twofold.storage.repositories.refresh_tokens import FAMILY_STATE_COLUMNS


@dataclass(frozen=True)
class StoredAuthenticator:
    secret_ciphertext: str
    recovery_code_ciphertext: str | None
    last_used_step: int | None


_UPSERT = (
    "INSERT INTO otp_authenticators (user_id, pool_id, secret_ciphertext, recovery_code_ciphertext, created_at)"
    " VALUES (:uid, :pool, :secret, :recovery, :at) ON CONFLICT (user_id) DO UPDATE SET"
    " secret_ciphertext = excluded.secret_ciphertext,"
    " recovery_code_ciphertext = excluded.recovery_code_ciphertext, created_at = excluded.created_at,"
    " last_used_step = NULL"  # a new secret: the old one's steps say nothing about it
)


async def upsert(
    conn: Connection,
    pool_id: str,
    user_id: str,
    secret_ciphertext: str,
    recovery_ciphertext: str | None,
    at: int,
) -> None:
    await upsert_many(conn, pool_id, [(user_id, secret_ciphertext, recovery_ciphertext)], at)


async def upsert_many(
    conn: Connection, pool_id: str, rows: Sequence[tuple[str, str, str | None]], at: int
) -> None:
    """(user id, secret ciphertext, recovery-code ciphertext) of each row, in one pipelined batch."""
    await conn.execute_many(
        _UPSERT,
        [{"uid": uid, "pool": pool_id, "secret": secret, "recovery": recovery, "at": at} for uid, secret, recovery in rows],
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
    return None if row is None else _stored(row)


_FIND_WITH_LOCK = (
    "SELECT a.secret_ciphertext, a.recovery_code_ciphertext, a.last_used_step,"
    " (SELECT f.locked_until FROM mfa_failures f WHERE f.pool_id = :pool AND f.user_id = :uid"
    " AND f.factor = :factor) AS locked_until"
    " FROM (SELECT 1 AS one) AS o"
    " LEFT JOIN otp_authenticators a ON a.pool_id = :pool AND a.user_id = :uid"
)


async def find_with_lock(
    conn: Connection, pool_id: str, user_id: str, factor: str
) -> tuple[StoredAuthenticator | None, int | None]:
    """``find`` and ``mfa_failures.locked_until`` of ``factor`` in one query (one round trip)."""
    row = await conn.fetch_one(_FIND_WITH_LOCK, {"pool": pool_id, "uid": user_id, "factor": factor})
    assert row is not None  # the LEFT JOIN from one row always answers one
    until = row["locked_until"]
    return _stored(row), None if until is None else int(until)


_FIND_WITH_LOCK_BY_FAMILY = (
    "SELECT " + ", ".join(f"t.{c}" for c in FAMILY_STATE_COLUMNS) + ","
    " a.secret_ciphertext, a.recovery_code_ciphertext, a.last_used_step,"
    " (SELECT f.locked_until FROM mfa_failures f WHERE f.pool_id = t.pool_id AND f.user_id = t.user_id"
    " AND f.factor = :factor) AS locked_until"
    " FROM token_families t"
    " LEFT JOIN otp_authenticators a ON a.pool_id = t.pool_id AND a.user_id = t.user_id"
    " WHERE t.id = :family AND t.user_id = :uid"
)


@dataclass(frozen=True)
class SignedInAuthenticator:
    """What ``find_with_lock_by_family`` read: the token family, and for its user the authenticator
    and the lock; all None when the family does not exist or is another user's."""

    family: Mapping[str, Any] | None  # ``refresh_tokens.family_state``'s columns
    stored: StoredAuthenticator | None
    locked_until: int | None


async def find_with_lock_by_family(
    conn: Connection, family_id: str, user_id: str, factor: str
) -> SignedInAuthenticator:
    """``refresh_tokens.family_state`` of an access token's sign-in and, for its user, ``find_with_lock``,
    in one query: the user's pool is the family's."""
    row = await conn.fetch_one(_FIND_WITH_LOCK_BY_FAMILY, {"family": family_id, "uid": user_id, "factor": factor})
    if row is None:
        return SignedInAuthenticator(None, None, None)
    family = {k: row[k] for k in FAMILY_STATE_COLUMNS}
    until = row["locked_until"]
    return SignedInAuthenticator(family, _stored(row), None if until is None else int(until))


def _stored(row: Mapping[str, Any]) -> StoredAuthenticator | None:
    if row["secret_ciphertext"] is None:
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


_ACCEPT_STEP = (
    "UPDATE otp_authenticators SET last_used_step = :step WHERE pool_id = :pool AND user_id = :uid"
    " AND (last_used_step IS NULL OR last_used_step < :step)"
)


async def accept_step(conn: Connection, pool_id: str, user_id: str, step: int, then: OnAccept | None = None) -> bool:
    """Record ``step`` as used if it is newer than the last one; True iff this call did (one row changed).
    ``then``: the failure count to clear and the audit event to append when it did, in the same write.

    One statement: on PostgreSQL a concurrent UPDATE of the row waits for the first one and re-checks
    the condition on the committed row; on SQLite writes are serialised by the write lock.  With
    ``then`` on PostgreSQL, still one statement (the clear and the event are CTEs that act only if the
    UPDATE changed the row), so one round trip and one commit; on SQLite, where the request's writes
    share the group commit's transaction, they follow as separate statements.
    """
    params = {"pool": pool_id, "uid": user_id, "step": step}
    if then is not None and conn.dialect == "postgresql":
        sql = f"WITH won AS ({_ACCEPT_STEP} RETURNING 1), {AFTER_ACCEPT_CTES} SELECT count(*) FROM won"
        return bool(await conn.fetch_value(sql, {**params, **then.params()}) == 1)
    changed = await conn.execute(_ACCEPT_STEP, params)
    if changed == 1 and then is not None:
        await after_accept(conn, then)
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
