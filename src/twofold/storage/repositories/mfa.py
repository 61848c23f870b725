"""Stored MFA statuses: one document per user, with a version for optimistic concurrency.

There is one way to write a status, ``write``, used by set-mfa-status, by user creation with an initial
status and so by the CLI import: compare-and-set on the version the writer read, with the audit event
in the same atomic write.  The hot paths are one statement each way where the database allows it:

* ``find_with_status``: the user, their stored status and whether a TOTP secret is bound, in one query.
* ``write``: on PostgreSQL one data-modifying statement (which also takes the user's row lock, so
  writers of one user serialise), on SQLite two statements in the caller's transaction.
* ``insert_new``: the first statuses of users created in the same transaction (a batch), with their
  events, in two pipelined batches.
* ``write_direct``: the write of a caller that needs nothing read first (set-mfa-status without a
  ``version`` or a profile field to check, by a unique key): on PostgreSQL one statement resolves the
  user and locks it, reads the stored status under its lock (what the audit event records as its
  ``before``), writes the new one and appends the event; on SQLite the same steps inside the write
  transaction, where no other writer can come between them.

The columns beside the document serve the list-users filters: ``totp_enabled``/``face_enabled`` are
the enrolment flags as set, ``any_enabled`` whether the policy challenges anything.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

import orjson

from twofold.domain.identifiers import UserIdType, UserRef
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


# The unique keys ``write_direct`` resolves a user by (users.py ``_LOOKUPS``: one column, one row at most).
DIRECT_KEYS = {
    UserIdType.USER_ID: "id",
    UserIdType.USERNAME: "username",
    UserIdType.EMAIL: "email",
    UserIdType.EXTERNAL_ID: "external_id",
}
_DIRECT_USER = "SELECT id FROM users WHERE pool_id = :pool AND {key} = :key"
_DIRECT_SQLITE = (
    "SELECT u.id, m.document, m.version FROM users u LEFT JOIN mfa_statuses m ON m.user_id = u.id"
    " WHERE u.pool_id = :pool AND u.{key} = :key"
)
# READ COMMITTED: the statement's snapshot may predate a writer that committed while this one waited
# for the user's lock, so the stored row is read FOR UPDATE (which reads its newest version) and the
# write is conditional on it; the event's ``before`` is that row's document.  Only a first status
# inserted meanwhile (invisible to the snapshot) makes ``ins`` do nothing: version NULL, user found.
_PG_DIRECT = (
    "WITH u AS (" + _DIRECT_USER + " FOR UPDATE),"
    " old AS (SELECT user_id, document, version FROM mfa_statuses"
    " WHERE user_id = (SELECT id FROM u) FOR UPDATE),"
    f" ins AS (INSERT INTO mfa_statuses ({_COLUMNS}) SELECT u.id, :pool, :doc, :totp, :face, :any, 1, :at"
    " FROM u WHERE NOT EXISTS (SELECT 1 FROM old) ON CONFLICT (user_id) DO NOTHING RETURNING user_id, version),"
    f" upd AS (UPDATE mfa_statuses SET {_SET} FROM old WHERE mfa_statuses.user_id = old.user_id"
    " AND mfa_statuses.version = old.version RETURNING mfa_statuses.user_id, mfa_statuses.version),"
    " w AS (SELECT user_id, version FROM ins UNION ALL SELECT user_id, version FROM upd),"
    f" au AS ({audit_repo.INSERT_COLUMNS} SELECT :a_pool, :a_at, :a_actor, :a_rid, :a_ip, w.user_id,"
    " :a_action, (SELECT document FROM old), :a_after FROM w)"
    " SELECT (SELECT id FROM u) AS user_id, (SELECT version FROM w) AS version"
)
_DIRECT = {
    dialect: {id_type: sql.format(key=key) for id_type, key in DIRECT_KEYS.items()}
    for dialect, sql in (("postgresql", _PG_DIRECT), ("sqlite", _DIRECT_SQLITE))
}


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


def _params(pool_id: str, status: MfaStatus, at: int, document: str) -> dict[str, Any]:
    return {
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
    params = {**_params(pool_id, status, audit.at, document), "uid": user_id}
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


async def insert_new(
    conn: Connection, pool_id: str, rows: Sequence[tuple[str, MfaStatus, str]], audit: Sequence[AuditRow]
) -> None:
    """``write`` for users inserted in this same transaction: the first status of each (user id,
    status, its ``encode``), stamped with its event's time, and ``audit[i]`` the event of ``rows[i]``.
    No other writer can have stored a status for them, so there is nothing to compare: the statuses
    are one pipelined batch of INSERTs, the events another."""
    if len(rows) != len(audit):
        raise ValueError("one audit event per status")
    await conn.execute_many(
        f"INSERT INTO mfa_statuses ({_COLUMNS}) VALUES ({_VALUES})",
        [
            {**_params(pool_id, status, event.at, document), "uid": uid}
            for (uid, status, document), event in zip(rows, audit, strict=True)
        ],
    )
    await audit_repo.insert_many(conn, audit)


async def write_direct(
    conn: Connection, pool_id: str, ref: UserRef, status: MfaStatus, document: str, audit: AuditRow
) -> tuple[str | None, int | None]:
    """``write`` with nothing read first: the user ``ref`` names (by a key of ``DIRECT_KEYS``), the
    status stored now, whatever it is, replaced by ``status``, and ``audit`` (its target and ``before``
    left empty) appended with the user's id and the stored document as its ``before``.

    Returns (the user's id, the new version): (None, None) when no user matches; (id, None) when the
    write lost a race that only a retry under the user's lock settles (``lock_current``).  Run it
    through ``Database.atomic``.  A stored document is an ``encode``d status, which names no secret:
    it is recorded as it is.
    """
    sql = _DIRECT[conn.dialect][ref.id_type]
    if conn.dialect == "postgresql":
        params = {**_params(pool_id, status, audit.at, document), "key": ref.key, **audit.params()}
        row = await conn.fetch_one(sql, params)
        assert row is not None  # the statement's SELECT always answers one row
        version = row["version"]
        return row["user_id"], None if version is None else int(version)
    found = await conn.fetch_one(sql, {"pool": pool_id, "key": ref.key})
    if found is None:
        return None, None
    user_id: str = found["id"]
    event = replace(audit, target_user_id=user_id, before=found["document"])
    return user_id, await write(conn, pool_id, user_id, status, document, found["version"], event)
