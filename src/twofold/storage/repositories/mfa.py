"""Stored MFA statuses: one document per user, with a version for optimistic concurrency.

There is one way to write a status, ``write``, used by set-mfa-status, by user creation with an initial
status and so by the CLI import: compare-and-set on the version the writer read, with the audit event
in the same atomic write.  The hot paths are one statement each way where the database allows it:

* ``find_with_status``: the user, their stored status and whether a TOTP secret is bound, in one query.
* ``write``: on PostgreSQL one data-modifying statement (which also takes the user's row lock, so
  writers of one user serialise), on SQLite two statements in the caller's transaction.

The columns beside the document serve the list-users filters: ``totp_enabled``/``face_enabled`` are
the enrolment flags as set, ``any_enabled`` whether the policy challenges anything.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import orjson

from twofold.domain.identifiers import UserRef
from twofold.domain.mfa import MfaStatus
from twofold.domain.users import User
from twofold.storage.database import Connection
from twofold.storage.repositories import audit as audit_repo
from twofold.storage.repositories import users as users_repo
from twofold.storage.repositories.audit import AuditRow

_COLUMNS = "user_id, pool_id, document, totp_enabled, face_enabled, any_enabled, version, updated_at"
_VALUES = ":uid, :pool, :doc, :totp, :face, :any, 1, :at"
_SET = (
    "document = :doc, totp_enabled = :totp, face_enabled = :face, any_enabled = :any,"
    " version = mfa_statuses.version + 1, updated_at = :at"
)
# Compare-and-set: insert when nothing is stored, update only the version that was read.
_CAS_INSERT = f"INSERT INTO mfa_statuses ({_COLUMNS}) VALUES ({_VALUES}) ON CONFLICT (user_id) DO NOTHING"
_CAS_UPDATE = f"UPDATE mfa_statuses SET {_SET} WHERE user_id = :uid AND version = :seen"
_LOCK_USER = "SELECT id FROM users WHERE pool_id = :pool AND id = :uid FOR UPDATE"
_PG_CAS_INSERT = (
    f"WITH lk AS ({_LOCK_USER}), up AS (INSERT INTO mfa_statuses ({_COLUMNS}) SELECT {_VALUES} FROM lk"
    " ON CONFLICT (user_id) DO NOTHING RETURNING version),"
    f" au AS ({audit_repo.INSERT_COLUMNS} SELECT {audit_repo.VALUES} FROM up) SELECT version FROM up"
)
_PG_CAS_UPDATE = (
    f"WITH lk AS ({_LOCK_USER}), up AS (UPDATE mfa_statuses SET {_SET}"
    " WHERE user_id = :uid AND version = :seen AND EXISTS (SELECT 1 FROM lk) RETURNING version),"
    f" au AS ({audit_repo.INSERT_COLUMNS} SELECT {audit_repo.VALUES} FROM up) SELECT version FROM up"
)
_WITH_STATUS = (
    "SELECT f.*, m.document AS mfa_document, m.version AS mfa_version, EXISTS (SELECT 1 FROM"
    " otp_authenticators o WHERE o.pool_id = f.pool_id AND o.user_id = f.id) AS has_otp"
    " FROM ({lookup}) f LEFT JOIN mfa_statuses m ON m.user_id = f.id"
)


@dataclass(frozen=True)
class StoredStatus:
    """A status as stored: its JSON document (kept as text for the audit trail) and version."""

    document: str
    version: int

    def status(self) -> MfaStatus:
        return MfaStatus.from_document(orjson.loads(self.document), self.version)


@dataclass(frozen=True)
class UserWithStatus:
    user: User
    stored: StoredStatus | None  # None: never set
    has_totp_secret: bool


def _stored(document: str | None, version: int | None) -> StoredStatus | None:
    return None if document is None or version is None else StoredStatus(document, version)


async def find_with_status(conn: Connection, pool_id: str, ref: UserRef) -> list[UserWithStatus]:
    """The users ``ref`` names (see ``users.find``), each with the status and TOTP binding."""
    rows = await conn.fetch_all(
        _WITH_STATUS.format(lookup=users_repo.lookup_sql(ref)), users_repo.lookup_params(pool_id, ref)
    )
    return [
        UserWithStatus(
            users_repo.user_from_row(r), _stored(r["mfa_document"], r["mfa_version"]), bool(r["has_otp"])
        )
        for r in rows
    ]


async def lock_current(conn: Connection, pool_id: str, user_id: str) -> tuple[bool, StoredStatus | None]:
    """Inside a transaction: lock the user against other status writers; (user exists, stored status)."""
    params = {"pool": pool_id, "uid": user_id}
    lock = _LOCK_USER if conn.dialect == "postgresql" else _LOCK_USER.removesuffix(" FOR UPDATE")
    if await conn.fetch_value(lock, params) is None:
        return False, None
    row = await conn.fetch_one("SELECT document, version FROM mfa_statuses WHERE user_id = :uid", params)
    return True, None if row is None else _stored(row["document"], row["version"])


def encode(status: MfaStatus) -> str:
    """The stored document of ``status`` (also what the audit trail records as its ``after``)."""
    return orjson.dumps(status.to_document()).decode()


def _params(pool_id: str, user_id: str, status: MfaStatus, at: int, document: str) -> dict[str, Any]:
    return {
        "uid": user_id,
        "pool": pool_id,
        "doc": document,
        "totp": status.totp_enabled,
        "face": status.face_enabled,
        "any": status.requires_mfa,
        "at": at,
    }


async def write(
    conn: Connection,
    pool_id: str,
    user_id: str,
    status: MfaStatus,
    document: str,
    seen_version: int | None,
    audit: AuditRow,
) -> int | None:
    """The one way to write a status: ``status`` (``document`` is its ``encode``) and its ``audit``
    event (stamped with the event's time), only if the stored version is still ``seen_version`` (None:
    nothing stored).  Returns the new version, or None (nothing written) when another write came first.

    Run it through ``Database.atomic`` or in a transaction.  Raises ``ForeignKeyViolation`` on
    SQLite when the user was deleted meanwhile (on PostgreSQL nothing is written and None returned).
    """
    params = _params(pool_id, user_id, status, audit.at, document)
    if seen_version is not None:
        params["seen"] = seen_version
    if conn.dialect == "postgresql":
        sql = _PG_CAS_INSERT if seen_version is None else _PG_CAS_UPDATE
        version = await conn.fetch_value(sql, {**params, **audit.params()})
    else:
        sql = _CAS_INSERT if seen_version is None else _CAS_UPDATE
        version = await conn.fetch_value(sql + " RETURNING version", params)
        if version is not None:
            await audit_repo.insert(conn, audit)
    return None if version is None else int(version)
