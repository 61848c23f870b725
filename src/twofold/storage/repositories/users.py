"""Users, their external identities and sync relations.  Every query is scoped to one pool."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import orjson

from twofold.domain.identifiers import UserIdType, UserRef
from twofold.domain.user_queries import UserQuery
from twofold.domain.users import Identity, User, UserStatus
from twofold.storage.database import Connection
from twofold.storage.repositories.user_filters import conditions_of, order_by

_COLUMNS = (
    "id, pool_id, username, email, phone, phone_country_code, external_id, status, name, nickname,"
    " password_hash, profile, custom_data, logins_count, created_at, updated_at"
)
_INSERT = (
    f"INSERT INTO users ({_COLUMNS}) VALUES (:id, :pool_id, :username, :email, :phone, :phone_country_code,"
    " :external_id, :status, :name, :nickname, :password_hash, :profile, :custom_data, :logins_count,"
    " :created_at, :updated_at)"
)
_UPDATE = (
    "UPDATE users SET username = :username, email = :email, phone = :phone,"
    " phone_country_code = :phone_country_code, external_id = :external_id, status = :status, name = :name,"
    " nickname = :nickname, password_hash = :password_hash, profile = :profile, custom_data = :custom_data,"
    " logins_count = :logins_count, updated_at = :updated_at WHERE pool_id = :pool_id AND id = :id"
)
_SELECT = f"SELECT {_COLUMNS} FROM users"
_U = (
    "SELECT u.id, u.pool_id, u.username, u.email, u.phone, u.phone_country_code, u.external_id, u.status,"
    " u.name, u.nickname, u.password_hash, u.profile, u.custom_data, u.logins_count, u.created_at,"
    " u.updated_at FROM users u"
)

_LOOKUPS: dict[UserIdType, str] = {
    UserIdType.USER_ID: f"{_SELECT} WHERE pool_id = :pool AND id = :key",
    UserIdType.USERNAME: f"{_SELECT} WHERE pool_id = :pool AND username = :key",
    UserIdType.EMAIL: f"{_SELECT} WHERE pool_id = :pool AND email = :key",
    UserIdType.EXTERNAL_ID: f"{_SELECT} WHERE pool_id = :pool AND external_id = :key",
    UserIdType.IDENTITY: f"{_U} JOIN identities i ON i.user_id = u.id"
    " WHERE i.pool_id = :pool AND i.ext_idp_id = :key AND i.user_id_in_idp = :sub LIMIT 1",
    UserIdType.SYNC_RELATION: f"{_U} JOIN sync_relations s ON s.user_id = u.id"
    " WHERE s.pool_id = :pool AND s.provider = :key AND s.user_id_in_idp = :sub",
}
_PHONE_ANY = f"{_SELECT} WHERE pool_id = :pool AND phone = :key LIMIT 2"
_PHONE_CC = f"{_SELECT} WHERE pool_id = :pool AND phone = :key AND phone_country_code = :sub"


def _params(user: User) -> dict[str, Any]:
    return {
        "id": user.id,
        "pool_id": user.pool_id,
        "username": user.username,
        "email": user.email,
        "phone": user.phone,
        "phone_country_code": user.phone_country_code,
        "external_id": user.external_id,
        "status": str(user.status),
        "name": user.name,
        "nickname": user.nickname,
        "password_hash": user.password_hash,
        "profile": orjson.dumps(user.profile).decode(),
        "custom_data": orjson.dumps(user.custom_data).decode(),
        "logins_count": user.logins_count,
        "created_at": user.created_at,
        "updated_at": user.updated_at,
    }


def user_from_row(row: Mapping[str, Any]) -> User:
    return User(
        id=row["id"],
        pool_id=row["pool_id"],
        username=row["username"],
        email=row["email"],
        phone=row["phone"],
        phone_country_code=row["phone_country_code"],
        external_id=row["external_id"],
        status=UserStatus(row["status"]),
        name=row["name"],
        nickname=row["nickname"],
        password_hash=row["password_hash"],
        profile=orjson.loads(row["profile"]),
        custom_data=orjson.loads(row["custom_data"]),
        logins_count=row["logins_count"],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
    )


async def insert(conn: Connection, user: User) -> None:
    await conn.execute(_INSERT, _params(user))


async def insert_many(conn: Connection, users: Sequence[User]) -> None:
    await conn.execute_many(_INSERT, [_params(u) for u in users])


async def update(conn: Connection, user: User) -> None:
    await conn.execute(_UPDATE, _params(user))


async def find(conn: Connection, pool_id: str, ref: UserRef) -> list[User]:
    """Users matching ``ref`` (at most one, except a phone number without country code: up to two)."""
    rows = await conn.fetch_all(lookup_sql(ref), lookup_params(pool_id, ref))
    return [user_from_row(r) for r in rows]


def lookup_sql(ref: UserRef) -> str:
    """The SELECT of the users ``ref`` names (parameters: ``lookup_params``); usable as a subquery."""
    if ref.id_type is UserIdType.PHONE:
        return _PHONE_ANY if ref.sub_key is None else _PHONE_CC
    return _LOOKUPS[ref.id_type]


def lookup_params(pool_id: str, ref: UserRef) -> dict[str, Any]:
    return {"pool": pool_id, "key": ref.key, "sub": ref.sub_key}


async def delete(conn: Connection, pool_id: str, user_ids: Sequence[str]) -> int:
    """Delete users; their identities, sync relations, OTP and MFA status go with them (ON DELETE
    CASCADE, enforced on SQLite by ``PRAGMA foreign_keys=ON`` on every connection)."""
    deleted = 0
    for user_id in user_ids:
        deleted += await conn.execute(
            "DELETE FROM users WHERE pool_id = :pool AND id = :id", {"pool": pool_id, "id": user_id}
        )
    return deleted


# ------------------------------------------------------------------------------------------ listing
async def list_page(conn: Connection, pool_id: str, query: UserQuery) -> tuple[int, list[User]]:
    """The total number of users ``query`` matches, and its page of them."""
    conditions = conditions_of(query, conn.dialect)
    where = " AND ".join(["u.pool_id = :pool", *(c.sql for c in conditions)])
    params: dict[str, Any] = {"pool": pool_id, "offset": query.offset, "limit": query.limit}
    for condition in conditions:
        params.update(condition.params)
    total = int(await conn.fetch_value(f"SELECT COUNT(*) FROM users u WHERE {where}", params))
    rows = await conn.fetch_all(
        f"{_U} WHERE {where} ORDER BY {order_by(query.sort)} LIMIT :limit OFFSET :offset",
        params,
    )
    return total, [user_from_row(r) for r in rows]


@dataclass(frozen=True)
class MfaState:
    """The users list's filters on what is bound and locked (each None: any).  ``otp_enrolled``: a TOTP
    secret bound and the OTP flag on (no stored status counts as on: the default's flag says bound).
    ``locked``: a factor ("*" any) locked at ``now``, read from ``mfa_failures`` (rows only for factors
    with failures) rather than probed per user; ``otp_enrolled`` is a primary-key probe per user walked."""

    otp_enrolled: bool | None = None
    locked: str | None = None
    now: int = 0


_OTP_ENROLLED = (
    "EXISTS (SELECT 1 FROM otp_authenticators o WHERE o.user_id = u.id) AND NOT EXISTS (SELECT 1 FROM"
    " mfa_statuses m WHERE m.user_id = u.id AND m.totp_enabled = :false)"
)


def _mfa_state_clauses(state: MfaState, params: dict[str, Any]) -> list[str]:
    clauses = []
    if state.otp_enrolled is not None:
        params["false"] = False
        clauses.append(_OTP_ENROLLED if state.otp_enrolled else f"NOT ({_OTP_ENROLLED})")
    if state.locked is not None:
        params["locked_now"] = state.now
        factor = ""
        if state.locked != "*":
            factor = " AND f.factor = :locked_factor"
            params["locked_factor"] = state.locked
        clauses.append(  # driven by mfa_failures (its rows only: few), not a walk of the pool's users
            "u.id IN (SELECT f.user_id FROM mfa_failures f WHERE f.pool_id = :pool"
            f"{factor} AND f.locked_until > :locked_now)"
        )
    return clauses


async def list_newest(
    conn: Connection,
    pool_id: str,
    query: UserQuery,
    after: tuple[int, str] | None,
    limit: int,
    state: MfaState | None = None,
) -> list[User]:
    """Keyset paging, newest first: up to ``limit`` users matching ``query``'s filters (and ``state``)
    that come after ``after`` (the ``(created_at, id)`` of the last user of the previous page).  No
    count, no offset: each page walks the ``(pool_id, created_at, id)`` index from where the last one
    stopped."""
    conditions = conditions_of(query, conn.dialect)
    clauses = ["u.pool_id = :pool", *(c.sql for c in conditions)]
    params: dict[str, Any] = {"pool": pool_id, "limit": limit}
    for condition in conditions:
        params.update(condition.params)
    if state is not None:
        clauses.extend(_mfa_state_clauses(state, params))
    if after is not None:
        clauses.append("(u.created_at < :after_at OR (u.created_at = :after_at AND u.id < :after_id))")
        params.update(after_at=after[0], after_id=after[1])
    rows = await conn.fetch_all(
        f"{_U} WHERE {' AND '.join(clauses)} ORDER BY u.created_at DESC, u.id DESC LIMIT :limit", params
    )
    return [user_from_row(r) for r in rows]


# ---------------------------------------------------------------------------------------- identities
async def insert_identity(conn: Connection, pool_id: str, identity: Identity) -> None:
    await conn.execute(
        "INSERT INTO identities (id, pool_id, user_id, ext_idp_id, provider, type, user_id_in_idp,"
        " user_info_in_idp, origin_conn_ids, created_at) VALUES (:id, :pool, :user_id, :ext_idp_id, :provider,"
        " :type, :uid, :info, :conns, :at)",
        {
            "id": identity.id,
            "pool": pool_id,
            "user_id": identity.user_id,
            "ext_idp_id": identity.ext_idp_id,
            "provider": identity.provider,
            "type": identity.type,
            "uid": identity.user_id_in_idp,
            "info": orjson.dumps(identity.user_info_in_idp).decode(),
            "conns": orjson.dumps(identity.origin_conn_ids).decode(),
            "at": identity.created_at,
        },
    )


async def identity_owners(conn: Connection, pool_id: str, ext_idp_id: str, user_id_in_idp: str) -> set[str]:
    rows = await conn.fetch_all(
        "SELECT user_id FROM identities WHERE pool_id = :pool AND ext_idp_id = :idp AND user_id_in_idp = :uid",
        {"pool": pool_id, "idp": ext_idp_id, "uid": user_id_in_idp},
    )
    return {r["user_id"] for r in rows}


async def list_identities(
    conn: Connection, pool_id: str, user_ids: Sequence[str]
) -> dict[str, list[Identity]]:
    result: dict[str, list[Identity]] = {uid: [] for uid in user_ids}
    for user_id in user_ids:
        rows = await conn.fetch_all(
            "SELECT * FROM identities WHERE pool_id = :pool AND user_id = :uid ORDER BY created_at, id",
            {"pool": pool_id, "uid": user_id},
        )
        result[user_id] = [
            Identity(
                id=r["id"],
                user_id=r["user_id"],
                ext_idp_id=r["ext_idp_id"],
                provider=r["provider"],
                type=r["type"],
                user_id_in_idp=r["user_id_in_idp"],
                user_info_in_idp=orjson.loads(r["user_info_in_idp"]),
                origin_conn_ids=orjson.loads(r["origin_conn_ids"]),
                created_at=r["created_at"],
            )
            for r in rows
        ]
    return result


async def delete_identities(conn: Connection, pool_id: str, user_id: str, ext_idp_id: str) -> int:
    return await conn.execute(
        "DELETE FROM identities WHERE pool_id = :pool AND user_id = :uid AND ext_idp_id = :idp",
        {"pool": pool_id, "uid": user_id, "idp": ext_idp_id},
    )


async def upsert_sync_relation(
    conn: Connection, pool_id: str, provider: str, user_id_in_idp: str, user_id: str, at: int
) -> None:
    await conn.execute(
        "INSERT INTO sync_relations (pool_id, provider, user_id_in_idp, user_id, created_at)"
        " VALUES (:pool, :provider, :uid, :user_id, :at)",
        {"pool": pool_id, "provider": provider, "uid": user_id_in_idp, "user_id": user_id, "at": at},
    )
