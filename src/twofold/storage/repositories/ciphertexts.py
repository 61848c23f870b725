"""Every column that holds a ciphertext of the keyring (``auth/vault.py``), and the scans the master-key
rotation needs: how many ciphertexts each data key protects, the ones not under the active key, and a
compare-and-set rewrite that never clobbers a concurrent write."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from twofold.auth.vault import CIPHERTEXT_PREFIX, KEY_ID_LENGTH, LEGACY_KEY_ID
from twofold.storage.database import Connection

_PREFIX_LENGTH = len(CIPHERTEXT_PREFIX)


@dataclass(frozen=True)
class CiphertextColumn:
    table: str
    key: str  # the single-column primary key
    column: str
    integer_key: bool = False

    @property
    def name(self) -> str:
        return f"{self.table}.{self.column}"


COLUMNS = (
    CiphertextColumn("access_keys", "id", "secret_ciphertext"),
    CiphertextColumn("otp_authenticators", "user_id", "secret_ciphertext"),
    CiphertextColumn("otp_authenticators", "user_id", "recovery_code_ciphertext"),
    CiphertextColumn("pending_enrolments", "token_digest", "secret_ciphertext"),
    CiphertextColumn("outbox_messages", "id", "ciphertext", integer_key=True),
    CiphertextColumn("signing_keys", "kid", "private_key_ciphertext"),
)


def _key_id_sql(column: str) -> str:
    return (
        f"CASE WHEN substr({column}, 1, {_PREFIX_LENGTH}) = '{CIPHERTEXT_PREFIX}'"
        f" THEN substr({column}, {_PREFIX_LENGTH + 1}, {KEY_ID_LENGTH}) ELSE '{LEGACY_KEY_ID}' END"
    )


async def count_by_key(conn: Connection, col: CiphertextColumn) -> dict[str, int]:
    """How many ciphertexts of ``col`` each data key protects (``LEGACY_KEY_ID``: unprefixed ones)."""
    rows = await conn.fetch_all(
        f"SELECT {_key_id_sql(col.column)} AS key_id, COUNT(*) AS n FROM {col.table}"  # noqa: S608 - names from COLUMNS
        f" WHERE {col.column} IS NOT NULL GROUP BY {_key_id_sql(col.column)}"
    )
    return {str(r["key_id"]): int(r["n"]) for r in rows}


async def not_under(conn: Connection, col: CiphertextColumn, key_id: str, after: Any, limit: int) -> list[tuple[Any, str]]:
    """Up to ``limit`` (primary key, ciphertext) of ``col`` not encrypted with ``key_id``, in primary-key
    order after ``after`` (None: from the start)."""
    params: dict[str, Any] = {"n": _PREFIX_LENGTH + KEY_ID_LENGTH + 1, "prefix": f"{CIPHERTEXT_PREFIX}{key_id}:",
                              "limit": limit}
    page = ""
    if after is not None:
        page, params["after"] = f" AND {col.key} > :after", after
    rows = await conn.fetch_all(
        f"SELECT {col.key} AS pk, {col.column} AS ct FROM {col.table}"  # noqa: S608 - names from COLUMNS
        f" WHERE {col.column} IS NOT NULL AND substr({col.column}, 1, :n) <> :prefix{page}"
        f" ORDER BY {col.key} LIMIT :limit",
        params,
    )
    return [(r["pk"], str(r["ct"])) for r in rows]


async def replace(conn: Connection, col: CiphertextColumn, rewrites: Sequence[tuple[Any, str, str]]) -> int:
    """Set each (primary key, old, new) only where the row still holds ``old``, in one statement; how
    many were set."""
    if not rewrites:
        return 0
    key = "CAST(:pk{0} AS BIGINT)" if col.integer_key else ":pk{0}"
    values = ", ".join(f"({key.format(i)}, :old{i}, :new{i})" for i in range(len(rewrites)))
    params: dict[str, Any] = {}
    for i, (pk, old, new) in enumerate(rewrites):
        params |= {f"pk{i}": pk, f"old{i}": old, f"new{i}": new}
    # SQLite names the columns of a VALUES list column1, column2...; PostgreSQL takes a list of names
    postgres = conn.dialect == "postgresql"
    key_of, old_of, new_of = ("pk", "old", "new") if postgres else ("column1", "column2", "column3")
    names = " (pk, old, new)" if postgres else ""
    return await conn.execute(
        f"UPDATE {col.table} SET {col.column} = v.{new_of} FROM (VALUES {values}) AS v{names}"  # noqa: S608 - names from COLUMNS
        f" WHERE {col.table}.{col.key} = v.{key_of} AND {col.table}.{col.column} = v.{old_of}",
        params,
    )
