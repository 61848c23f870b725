"""Stored MFA statuses: one document per user, with a version for optimistic concurrency."""

from __future__ import annotations

import json
from typing import Any

from twofold.domain.mfa import Factor, MfaStatus
from twofold.storage.database import Connection

_UPSERT = (
    "INSERT INTO mfa_statuses (user_id, pool_id, document, totp_enabled, face_enabled, any_enabled, version,"
    " updated_at) VALUES (:uid, :pool, :doc, :totp, :face, :any, 1, :at)"
    " ON CONFLICT (user_id) DO UPDATE SET document = excluded.document, totp_enabled = excluded.totp_enabled,"
    " face_enabled = excluded.face_enabled, any_enabled = excluded.any_enabled,"
    " version = mfa_statuses.version + 1, updated_at = excluded.updated_at"
)


async def get(conn: Connection, pool_id: str, user_id: str) -> MfaStatus | None:
    row = await conn.fetch_one(
        "SELECT document, version FROM mfa_statuses WHERE pool_id = :pool AND user_id = :uid",
        {"pool": pool_id, "uid": user_id},
    )
    return None if row is None else MfaStatus.from_document(json.loads(row["document"]), row["version"])


async def get_with_otp_flag(conn: Connection, pool_id: str, user_id: str) -> tuple[MfaStatus | None, bool]:
    """The stored status (None if never set) and whether a TOTP secret is bound, in one round trip."""
    row = await conn.fetch_one(
        "SELECT m.document, m.version, EXISTS (SELECT 1 FROM otp_authenticators o"
        " WHERE o.pool_id = :pool AND o.user_id = :uid) AS has_otp"
        " FROM (SELECT 1 AS one) AS one LEFT JOIN mfa_statuses m ON m.pool_id = :pool AND m.user_id = :uid",
        {"pool": pool_id, "uid": user_id},
    )
    assert row is not None
    status = (
        None
        if row["document"] is None
        else MfaStatus.from_document(json.loads(row["document"]), row["version"])
    )
    return status, bool(row["has_otp"])


async def put(
    conn: Connection,
    pool_id: str,
    user_id: str,
    status: MfaStatus,
    at: int,
    expected_version: int | None = None,
) -> int | None:
    """Replace the status; returns the new version, or None when ``expected_version`` is stale."""
    params: dict[str, Any] = {
        "uid": user_id,
        "pool": pool_id,
        "doc": json.dumps(status.to_document(), ensure_ascii=False),
        "totp": status.is_enabled(Factor.OTP),
        "face": status.is_enabled(Factor.FACE),
        "any": status.any_enabled,
        "at": at,
    }
    sql = _UPSERT
    if expected_version is not None:
        if expected_version == 0:
            sql = sql.split(" ON CONFLICT")[0] + " ON CONFLICT (user_id) DO NOTHING"
        else:
            sql += " WHERE mfa_statuses.version = :expected"
            params["expected"] = expected_version
    version = await conn.fetch_value(sql + " RETURNING version", params)
    return None if version is None else int(version)
