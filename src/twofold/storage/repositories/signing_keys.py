"""Keys that sign end-user tokens; the private half is stored encrypted."""

from __future__ import annotations

from typing import Any

from twofold.storage.database import Connection


async def insert(conn: Connection, kid: str, algorithm: str, private_ct: str, public_jwk: str, at: int) -> None:
    await conn.execute(
        "INSERT INTO signing_keys (kid, algorithm, private_key_ciphertext, public_jwk, created_at)"
        " VALUES (:kid, :alg, :ct, :jwk, :at)",
        {"kid": kid, "alg": algorithm, "ct": private_ct, "jwk": public_jwk, "at": at},
    )


async def list_all(conn: Connection) -> list[Any]:
    """Oldest first: every process signs with the first, so two processes that both generated a key on
    their first start agree on one."""
    return await conn.fetch_all("SELECT * FROM signing_keys ORDER BY created_at, kid")
