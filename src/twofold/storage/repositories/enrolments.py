"""Pending enrolments, keyed by the SHA-256 of their enrollmentToken: a TOTP secret waiting for its
first code, or the phone/email an SMS/EMAIL enrolment sent its code to.  ``secret_ciphertext`` holds
the factor's material, encrypted: the TOTP secret, or the target (``services/enrolment_codes.py``);
``recovery_code_hash`` is empty for SMS and EMAIL.  ``take`` removes a live one with one statement,
so it is confirmed once."""

from __future__ import annotations

from dataclasses import dataclass

from twofold.storage.database import Connection


@dataclass(frozen=True)
class PendingEnrolment:
    token_digest: str
    pool_id: str
    user_id: str
    factor: str
    secret_ciphertext: str
    recovery_code_hash: str
    expires_at: int


async def insert(conn: Connection, pending: PendingEnrolment, at: int) -> None:
    await conn.execute(
        "INSERT INTO pending_enrolments (token_digest, pool_id, user_id, factor, secret_ciphertext,"
        " recovery_code_hash, created_at, expires_at)"
        " VALUES (:digest, :pool, :uid, :factor, :secret, :rhash, :at, :exp)",
        {
            "digest": pending.token_digest,
            "pool": pending.pool_id,
            "uid": pending.user_id,
            "factor": pending.factor,
            "secret": pending.secret_ciphertext,
            "rhash": pending.recovery_code_hash,
            "at": at,
            "exp": pending.expires_at,
        },
    )


async def find_live(conn: Connection, token_digest: str, now: int) -> PendingEnrolment | None:
    row = await conn.fetch_one(
        "SELECT token_digest, pool_id, user_id, factor, secret_ciphertext,"
        " recovery_code_hash, expires_at FROM pending_enrolments"
        " WHERE token_digest = :digest AND expires_at > :now",
        {"digest": token_digest, "now": now},
    )
    if row is None:
        return None
    return PendingEnrolment(
        str(row["token_digest"]),
        str(row["pool_id"]),
        str(row["user_id"]),
        str(row["factor"]),
        str(row["secret_ciphertext"]),
        str(row["recovery_code_hash"]),
        int(row["expires_at"]),
    )


async def take(conn: Connection, token_digest: str, now: int) -> bool:
    """Remove the live enrolment ``token_digest``; True iff this call did (the compare-and-set)."""
    changed = await conn.execute(
        "DELETE FROM pending_enrolments WHERE token_digest = :digest AND expires_at > :now",
        {"digest": token_digest, "now": now},
    )
    return changed == 1


async def purge_expired(conn: Connection, now: int) -> None:
    await conn.execute("DELETE FROM pending_enrolments WHERE expires_at <= :now", {"now": now})


async def find_latest_live(
    conn: Connection, pool_id: str, user_id: str, factor: str, now: int
) -> PendingEnrolment | None:
    """The user's newest live enrolment of ``factor`` (v2 ``associate/confirm`` names no token)."""
    row = await conn.fetch_one(
        "SELECT token_digest FROM pending_enrolments WHERE pool_id = :pool AND user_id = :uid"
        " AND factor = :factor AND expires_at > :now ORDER BY created_at DESC, expires_at DESC LIMIT 1",
        {"pool": pool_id, "uid": user_id, "factor": factor, "now": now},
    )
    return None if row is None else await find_live(conn, str(row["token_digest"]), now)
