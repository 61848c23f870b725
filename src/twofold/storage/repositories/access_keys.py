"""Access keys: the secret is stored encrypted (Fernet with the master key), never in plaintext."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import orjson

from twofold.storage.database import Connection

KEY_CHANGES_CHANNEL = "twofold_access_keys"


@dataclass(frozen=True)
class AccessKeyRecord:
    id: str
    pool_id: str
    secret_ciphertext: str
    description: str
    permissions: list[str]
    created_at: int
    revoked_at: int | None


async def insert(conn: Connection, key: AccessKeyRecord) -> None:
    await conn.execute(
        "INSERT INTO access_keys (id, pool_id, secret_ciphertext, description, permissions, created_at, revoked_at)"
        " VALUES (:id, :pool_id, :secret, :description, :permissions, :created_at, NULL)",
        {
            "id": key.id,
            "pool_id": key.pool_id,
            "secret": key.secret_ciphertext,
            "description": key.description,
            "permissions": orjson.dumps(key.permissions).decode(),
            "created_at": key.created_at,
        },
    )


async def get(conn: Connection, key_id: str) -> AccessKeyRecord | None:
    row = await conn.fetch_one("SELECT * FROM access_keys WHERE id = :id", {"id": key_id})
    return None if row is None else _record(row)


async def get_active_row(conn: Connection, key_id: str) -> tuple[str, str, str] | None:
    """(pool id, secret ciphertext, permissions JSON) of a key that is not revoked."""
    row = await conn.fetch_one(
        "SELECT pool_id, secret_ciphertext, permissions FROM access_keys WHERE id = :id AND revoked_at IS NULL",
        {"id": key_id},
    )
    return None if row is None else (row["pool_id"], row["secret_ciphertext"], row["permissions"])


async def list_all(conn: Connection, pool_id: str | None = None) -> list[AccessKeyRecord]:
    if pool_id is None:
        rows = await conn.fetch_all("SELECT * FROM access_keys ORDER BY created_at, id")
    else:
        rows = await conn.fetch_all(
            "SELECT * FROM access_keys WHERE pool_id = :p ORDER BY created_at, id", {"p": pool_id}
        )
    return [_record(r) for r in rows]


async def any_secret_ciphertext(conn: Connection) -> str | None:
    """One stored secret (the oldest key's), to check that the master key still decrypts them."""
    value = await conn.fetch_value("SELECT secret_ciphertext FROM access_keys ORDER BY created_at, id LIMIT 1")
    return None if value is None else str(value)


async def count(conn: Connection) -> int:
    return int(await conn.fetch_value("SELECT COUNT(*) FROM access_keys"))


async def revoke(conn: Connection, key_id: str, at: int) -> bool:
    changed = await conn.execute(
        "UPDATE access_keys SET revoked_at = :at WHERE id = :id AND revoked_at IS NULL",
        {"at": at, "id": key_id},
    )
    await _announce(conn, key_id)
    return changed > 0


async def set_secret(conn: Connection, key_id: str, secret_ciphertext: str) -> None:
    await conn.execute(
        "UPDATE access_keys SET secret_ciphertext = :s WHERE id = :id", {"s": secret_ciphertext, "id": key_id}
    )
    await _announce(conn, key_id)


async def _announce(conn: Connection, key_id: str) -> None:
    """Tell every process that remembers ``key_id`` to look it up again (PostgreSQL NOTIFY, sent on
    commit; services/access_keys.py listens).  SQLite has no such channel: there, keys are read per request."""
    if conn.dialect == "postgresql":
        await conn.fetch_value(
            "SELECT pg_notify(:channel, :id)", {"channel": KEY_CHANGES_CHANNEL, "id": key_id}
        )


async def remember_nonce(conn: Connection, key_id: str, nonce: str, expires_at: int) -> bool:
    """Record a signature nonce; False when it was already seen (a replay)."""
    inserted = await conn.execute(
        "INSERT INTO signature_nonces (access_key_id, nonce, expires_at) VALUES (:k, :n, :e)"
        " ON CONFLICT (access_key_id, nonce) DO NOTHING",
        {"k": key_id, "n": nonce, "e": expires_at},
    )
    return inserted > 0


async def forget_expired_nonces(conn: Connection, now: int) -> int:
    return await conn.execute("DELETE FROM signature_nonces WHERE expires_at < :now", {"now": now})


def _record(row: Mapping[str, Any]) -> AccessKeyRecord:
    return AccessKeyRecord(
        id=row["id"],
        pool_id=row["pool_id"],
        secret_ciphertext=row["secret_ciphertext"],
        description=row["description"],
        permissions=orjson.loads(row["permissions"]),
        created_at=row["created_at"],
        revoked_at=row["revoked_at"],
    )
