"""The keyring's rows (table ``master_keys``): data keys, wrapped under the operator secret."""

from __future__ import annotations

from dataclasses import dataclass

from twofold.storage.database import Connection

ACTIVE = "active"
DECRYPT = "decrypt"
RETIRED = "retired"


@dataclass(frozen=True)
class MasterKeyRecord:
    id: str
    wrapped: str | None  # None once retired
    state: str
    created_at: int
    retired_at: int | None


async def list_all(conn: Connection) -> list[MasterKeyRecord]:
    """Oldest first."""
    rows = await conn.fetch_all(
        "SELECT id, wrapped, state, created_at, retired_at FROM master_keys ORDER BY created_at, id"
    )
    return [MasterKeyRecord(r["id"], r["wrapped"], r["state"], r["created_at"], r["retired_at"]) for r in rows]


async def add_active(conn: Connection, key_id: str, wrapped: str, at: int, replacing: str | None) -> bool:
    """Make the new key the active one; ``replacing`` (the active key read before, None for the first
    key) is kept for decryption.  False, writing nothing, when another process changed the active key
    meanwhile (the partial unique index refuses a second active key)."""
    if replacing is not None:
        demoted = await conn.execute(
            "UPDATE master_keys SET state = :decrypt WHERE id = :id AND state = :active",
            {"decrypt": DECRYPT, "id": replacing, "active": ACTIVE},
        )
        if demoted != 1:
            return False
    await conn.execute(
        "INSERT INTO master_keys (id, wrapped, state, created_at) VALUES (:id, :wrapped, :active, :at)",
        {"id": key_id, "wrapped": wrapped, "active": ACTIVE, "at": at},
    )
    return True


async def retire(conn: Connection, key_id: str, at: int) -> bool:
    """Retire a decrypt-only key and erase its material."""
    done = await conn.execute(
        "UPDATE master_keys SET state = :retired, wrapped = NULL, retired_at = :at WHERE id = :id AND state = :decrypt",
        {"retired": RETIRED, "at": at, "id": key_id, "decrypt": DECRYPT},
    )
    return done == 1
