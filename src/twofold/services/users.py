"""The user directory: create, find, list, update, delete users and link external identities."""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, TypeVar

from twofold.auth.vault import SecretBox
from twofold.domain.contacts import normalize_email, normalize_phone
from twofold.domain.identifiers import UserIdType, UserRef, parse_user_id_type, parse_user_ref
from twofold.domain.mfa import MfaStatus
from twofold.domain.otp import normalize_totp_secret
from twofold.domain.users import DEFAULT_PHOTO, PROFILE_FIELDS, Identity, User, UserStatus
from twofold.errors import (
    IdentityAlreadyLinked,
    InvalidParameter,
    MissingUserIdentifier,
    UserAlreadyExists,
    UserNotFound,
)
from twofold.schemas.users import (
    CreateUserInfo,
    CreateUserOptions,
    IdentityInput,
    ListUsersRequest,
    SyncRelationInput,
    UpdateUserInfo,
)
from twofold.services import audit, mfa_writes
from twofold.services.context import Caller, Clock, new_id
from twofold.services.mfa_input import parse_trigger_data
from twofold.services.passwords import hash_password, is_argon2_hash
from twofold.storage.database import Connection, Database, UniqueViolation
from twofold.storage.repositories import otp as otp_repo
from twofold.storage.repositories import users as users_repo
from twofold.storage.repositories.user_filters import (
    COLUMNS,
    FUZZY_DEFAULT,
    MFA_FLAGS,
    NUMERIC,
    SORTABLE,
    Builder,
)

_UNIQUE_FIELDS = (
    ("external_id", "externalId"),
    ("username", "username"),
    ("email", "email"),
    ("phone", "phone"),
)


def conflict_from(exc: UniqueViolation) -> Exception:
    if "identities" in exc.detail:
        return IdentityAlreadyLinked()
    if "sync_relations" in exc.detail:
        return InvalidParameter("syncRelations", "this sync relation already belongs to a user")
    for column, wire in _UNIQUE_FIELDS:
        if column in exc.detail:
            return UserAlreadyExists(wire)
    return UserAlreadyExists("userId")


@dataclass
class UserView:
    """A user with the optional parts a response asked for."""

    user: User
    identities: list[Identity] | None = None


@dataclass
class _Prepared:
    user: User
    identities: list[IdentityInput] = field(default_factory=list)
    sync_relations: list[SyncRelationInput] = field(default_factory=list)
    otp: tuple[str, str | None] | None = None
    mfa: MfaStatus | None = None


T = TypeVar("T")


def the_one(found: list[T]) -> T:
    """The single match of a user lookup: none is 404, two (a phone without country code) is 400."""
    if not found:
        raise UserNotFound()
    if len(found) > 1:
        raise InvalidParameter(
            "userId", "several users have this phone number; write it as +<country><number>"
        )
    return found[0]


class UserService:
    def __init__(self, db: Database, box: SecretBox, clock: Clock) -> None:
        self._db = db
        self._box = box
        self._clock = clock

    # ---------------------------------------------------------------------------------- lookups
    async def resolve(self, conn: Connection, pool_id: str, ref: UserRef) -> User:
        return the_one(await users_repo.find(conn, pool_id, ref))

    async def get_user(
        self, pool_id: str, user_id: str | None, user_id_type: str | None, with_identities: bool = False
    ) -> UserView:
        ref = parse_user_ref(user_id, parse_user_id_type(user_id_type))
        async with self._db.read() as conn:
            user = await self.resolve(conn, pool_id, ref)
            identities = (
                (await users_repo.list_identities(conn, pool_id, [user.id]))[user.id]
                if with_identities
                else None
            )
        return UserView(user, identities)

    async def get_users(
        self,
        pool_id: str,
        user_ids: Sequence[str] | None,
        user_id_type: str | None,
        with_identities: bool = False,
    ) -> list[UserView]:
        if not user_ids:
            raise InvalidParameter("userIds")
        if len(user_ids) > 100:
            raise InvalidParameter("userIds", "at most 100 ids per call")
        id_type = parse_user_id_type(user_id_type)
        refs = [parse_user_ref(uid, id_type, "userIds") for uid in user_ids]
        views: list[UserView] = []
        async with self._db.read() as conn:
            for ref in refs:
                found = await users_repo.find(conn, pool_id, ref)
                if len(found) == 1:
                    views.append(UserView(found[0]))
            if with_identities:
                identities = await users_repo.list_identities(conn, pool_id, [v.user.id for v in views])
                for view in views:
                    view.identities = identities[view.user.id]
        return views

    async def is_user_exists(
        self,
        pool_id: str,
        username: str | None,
        email: str | None,
        phone: str | None,
        external_id: str | None,
    ) -> bool:
        refs = []
        if username:
            refs.append(parse_user_ref(username, UserIdType.USERNAME, "username"))
        if email:
            refs.append(parse_user_ref(email, UserIdType.EMAIL, "email"))
        if phone:
            refs.append(parse_user_ref(phone, UserIdType.PHONE, "phone"))
        if external_id:
            refs.append(parse_user_ref(external_id, UserIdType.EXTERNAL_ID, "externalId"))
        if not refs:
            raise InvalidParameter("username, email, phone, externalId")
        async with self._db.read() as conn:
            for ref in refs:
                if await users_repo.find(conn, pool_id, ref):
                    return True
        return False

    # --------------------------------------------------------------------------------- creation
    async def create_users(
        self,
        caller: Caller,
        items: Sequence[CreateUserInfo],
        options: CreateUserOptions | None = None,
        field_prefix: str = "",
    ) -> list[UserView]:
        """Create every user or none (a batch is one transaction)."""
        if not items:
            raise InvalidParameter(field_prefix.rstrip(".") or "list")
        prepared = []
        for index, item in enumerate(items):
            prefix = f"{field_prefix}[{index}]." if field_prefix else ""
            prepared.append(await self._prepare(caller.pool_id, item, options, prefix))
        now = self._clock()
        try:
            async with self._db.transaction() as conn:
                await users_repo.insert_many(conn, [p.user for p in prepared])
                for p in prepared:
                    await self._attach(conn, caller.pool_id, p, now)
                    await audit.record(conn, self._clock, caller, "user.create", p.user.id, after=_created(p))
                    await mfa_writes.write_initial(conn, self._clock, caller, p.user.id, p.mfa)
        except UniqueViolation as exc:
            raise conflict_from(exc) from None
        return [UserView(p.user) for p in prepared]

    async def _prepare(
        self, pool_id: str, item: CreateUserInfo, options: CreateUserOptions | None, prefix: str
    ) -> _Prepared:
        now = self._clock()
        user = User(
            id=new_id(),
            pool_id=pool_id,
            status=item.status or UserStatus.ACTIVATED,
            created_at=now,
            updated_at=now,
        )
        self._apply_identifiers(user, item, prefix)
        if not user.has_login_identifier():
            raise MissingUserIdentifier()
        self._apply_profile(user, item)
        user.profile.setdefault("photo", DEFAULT_PHOTO)
        opts = options or CreateUserOptions()
        if opts.password_encrypt_type not in (None, "none"):
            raise InvalidParameter(
                "options.passwordEncryptType", "only 'none' is supported; send it over TLS"
            )
        if item.password is not None:
            if opts.keep_password:
                if not is_argon2_hash(item.password):
                    raise InvalidParameter(prefix + "password", "keepPassword needs an Argon2 hash")
                user.password_hash = item.password
            else:
                user.password_hash = await hash_password(item.password)
        elif opts.auto_generate_password:
            user.password_hash = await hash_password(secrets.token_urlsafe(24))
        if item.password is not None or opts.auto_generate_password:
            user.profile["passwordLastSetAt"] = now
        if opts.reset_password_on_first_login:
            user.profile["resetPasswordOnNextLogin"] = True
        otp = None
        if item.otp is not None:
            secret = normalize_totp_secret(item.otp.secret, prefix + "otp.secret")
            otp = (
                self._box.encrypt(secret),
                self._box.encrypt(item.otp.recovery_code) if item.otp.recovery_code else None,
            )
        mfa = None
        if item.mfa_trigger_data is not None:
            mfa = parse_trigger_data(
                item.mfa_trigger_data.to_command(), user, False, prefix, has_totp_secret=otp is not None
            )
        return _Prepared(user, list(item.identities or []), list(item.sync_relations or []), otp, mfa)

    async def _attach(self, conn: Connection, pool_id: str, p: _Prepared, now: int) -> None:
        for ident in p.identities:
            owners = await users_repo.identity_owners(conn, pool_id, ident.ext_idp_id, ident.user_id_in_idp)
            if owners - {p.user.id}:
                raise IdentityAlreadyLinked()
            await users_repo.insert_identity(conn, pool_id, _identity(p.user.id, ident, now))
        for rel in p.sync_relations:
            await users_repo.upsert_sync_relation(
                conn, pool_id, rel.provider, rel.user_id_in_idp, p.user.id, now
            )
        if p.otp is not None:
            await otp_repo.upsert(conn, pool_id, p.user.id, p.otp[0], p.otp[1], now)

    @staticmethod
    def _apply_identifiers(user: User, item: CreateUserInfo | UpdateUserInfo, prefix: str) -> None:
        given = item.model_fields_set
        if "email" in given:
            user.email = normalize_email(item.email, prefix + "email") if item.email else None
        if "phone" in given or "phone_country_code" in given:
            if item.phone:
                user.phone, user.phone_country_code = normalize_phone(
                    item.phone, item.phone_country_code or user.phone_country_code, prefix + "phone"
                )
            elif "phone" in given:
                user.phone, user.phone_country_code = None, None
        if "username" in given:
            user.username = _clean(item.username, prefix + "username")
        if "external_id" in given:
            user.external_id = _clean(item.external_id, prefix + "externalId")

    @staticmethod
    def _apply_profile(user: User, item: CreateUserInfo | UpdateUserInfo) -> None:
        data = item.model_dump(by_alias=True, exclude_unset=True)
        if "name" in data:
            user.name = data["name"]
        if "nickname" in data:
            user.nickname = data["nickname"]
        if "status" in data and data["status"] is not None:
            user.status = UserStatus(data["status"])
        if data.get("customData") is not None:
            user.custom_data = {**user.custom_data, **data["customData"]}
        for key in PROFILE_FIELDS:
            if key in data:
                if data[key] is None:
                    user.profile.pop(key, None)
                else:
                    user.profile[key] = data[key]

    # ----------------------------------------------------------------------------------- update
    async def update_user(
        self, caller: Caller, item: UpdateUserInfo, user_id_type: str | None, prefix: str = ""
    ) -> UserView:
        return (await self.update_users(caller, [item], user_id_type, prefix))[0]

    async def update_users(
        self, caller: Caller, items: Sequence[UpdateUserInfo], user_id_type: str | None, prefix: str = ""
    ) -> list[UserView]:
        if not items:
            raise InvalidParameter("list")
        id_type = parse_user_id_type(user_id_type, "options.userIdType")
        refs = [parse_user_ref(item.user_id, id_type, f"{prefix}userId") for item in items]
        hashes = [await hash_password(i.password) if i.password is not None else None for i in items]
        now = self._clock()
        views = []
        try:
            async with self._db.transaction() as conn:
                for item, ref, password_hash in zip(items, refs, hashes, strict=True):
                    user = await self.resolve(conn, caller.pool_id, ref)
                    before = snapshot(user)
                    self._apply_identifiers(user, item, prefix)
                    if not user.has_login_identifier():
                        raise MissingUserIdentifier()
                    self._apply_profile(user, item)
                    if password_hash is not None:
                        user.password_hash = password_hash
                        user.profile["passwordLastSetAt"] = now
                    user.updated_at = now
                    await users_repo.update(conn, user)
                    for rel in item.sync_relations or []:
                        await users_repo.upsert_sync_relation(
                            conn, caller.pool_id, rel.provider, rel.user_id_in_idp, user.id, now
                        )
                    await audit.record(
                        conn, self._clock, caller, "user.update", user.id, before, snapshot(user)
                    )
                    views.append(UserView(user))
        except UniqueViolation as exc:
            raise conflict_from(exc) from None
        return views

    # ----------------------------------------------------------------------------------- delete
    async def delete_users(
        self, caller: Caller, user_ids: Sequence[str] | None, user_id_type: str | None
    ) -> None:
        if not user_ids:
            raise InvalidParameter("userIds")
        id_type = parse_user_id_type(user_id_type, "options.userIdType")
        refs = [parse_user_ref(uid, id_type, "userIds") for uid in user_ids]
        async with self._db.transaction() as conn:
            users = [await self.resolve(conn, caller.pool_id, ref) for ref in refs]
            await users_repo.delete(conn, caller.pool_id, list(dict.fromkeys(u.id for u in users)))
            for user in users:
                await audit.record(conn, self._clock, caller, "user.delete", user.id, before=snapshot(user))

    # ------------------------------------------------------------------------------- identities
    async def link_identity(
        self, caller: Caller, user_id: str, ext_idp_id: str, user_id_in_idp: str, type_: str | None
    ) -> None:
        ref = parse_user_ref(user_id, UserIdType.USER_ID)
        for name, value in (("extIdpId", ext_idp_id), ("userIdInIdp", user_id_in_idp)):
            if not value.strip():
                raise InvalidParameter(name)
        ident = IdentityInput(
            ext_idp_id=ext_idp_id, provider="generic", type=type_ or "generic", user_id_in_idp=user_id_in_idp
        )
        now = self._clock()
        try:
            async with self._db.transaction() as conn:
                user = await self.resolve(conn, caller.pool_id, ref)
                owners = await users_repo.identity_owners(conn, caller.pool_id, ext_idp_id, user_id_in_idp)
                if owners - {user.id}:
                    raise IdentityAlreadyLinked()
                existing = (await users_repo.list_identities(conn, caller.pool_id, [user.id]))[user.id]
                if any(
                    i.ext_idp_id == ext_idp_id and i.user_id_in_idp == user_id_in_idp and i.type == ident.type
                    for i in existing
                ):
                    return
                await users_repo.insert_identity(conn, caller.pool_id, _identity(user.id, ident, now))
                await audit.record(
                    conn,
                    self._clock,
                    caller,
                    "user.identity.link",
                    user.id,
                    after={"extIdpId": ext_idp_id, "userIdInIdp": user_id_in_idp, "type": ident.type},
                )
        except UniqueViolation as exc:
            raise conflict_from(exc) from None

    async def unlink_identity(self, caller: Caller, user_id: str, ext_idp_id: str) -> None:
        ref = parse_user_ref(user_id, UserIdType.USER_ID)
        async with self._db.transaction() as conn:
            user = await self.resolve(conn, caller.pool_id, ref)
            removed = await users_repo.delete_identities(conn, caller.pool_id, user.id, ext_idp_id)
            if removed:
                await audit.record(
                    conn,
                    self._clock,
                    caller,
                    "user.identity.unlink",
                    user.id,
                    before={"extIdpId": ext_idp_id, "removed": removed},
                )

    async def get_identities(
        self, pool_id: str, user_id: str | None, user_id_type: str | None
    ) -> list[Identity]:
        view = await self.get_user(pool_id, user_id, user_id_type, with_identities=True)
        return view.identities or []

    async def set_sync_relation(
        self,
        caller: Caller,
        user_id: str | None,
        user_id_type: str | None,
        provider: str,
        user_id_in_idp: str,
    ) -> None:
        ref = parse_user_ref(user_id, parse_user_id_type(user_id_type))
        if not provider.strip() or ":" in provider:
            raise InvalidParameter("provider")
        if not user_id_in_idp.strip():
            raise InvalidParameter("userIdInIdp")
        try:
            async with self._db.transaction() as conn:
                user = await self.resolve(conn, caller.pool_id, ref)
                await users_repo.upsert_sync_relation(
                    conn, caller.pool_id, provider, user_id_in_idp, user.id, self._clock()
                )
                await audit.record(
                    conn,
                    self._clock,
                    caller,
                    "user.sync_relation.set",
                    user.id,
                    after={"provider": provider, "userIdInIdp": user_id_in_idp},
                )
        except UniqueViolation as exc:
            raise conflict_from(exc) from None

    # ---------------------------------------------------------------------------------- listing
    async def list_users(self, pool_id: str, request: ListUsersRequest) -> tuple[int, list[UserView]]:
        options = request.options
        pagination = options.pagination if options and options.pagination else None
        page, limit = (pagination.page, pagination.limit) if pagination else (1, 10)
        builder = Builder()
        if request.keywords:
            fields = (
                list(options.fuzzy_search_on) if options and options.fuzzy_search_on else list(FUZZY_DEFAULT)
            )
            unknown = [f for f in fields if f not in COLUMNS]
            if unknown:
                raise InvalidParameter("options.fuzzySearchOn", f"unsupported field {unknown[0]!r}")
            builder.keywords(request.keywords, fields)
        for index, item in enumerate(request.advanced_filter or []):
            _add_filter(builder, item.field, item.operator, item.value, f"advancedFilter[{index}]")
        order = _order_by(options.sort if options else None)
        return await self._page(
            pool_id, builder, order, page, limit, bool(options and options.with_identities)
        )

    async def list_users_legacy(
        self,
        pool_id: str,
        page: int,
        limit: int,
        status: UserStatus | None,
        updated_at_start: int | None,
        updated_at_end: int | None,
        with_identities: bool,
    ) -> tuple[int, list[UserView]]:
        builder = Builder()
        if status is not None:
            builder.compare("u.status", "EQUAL", str(status))
        if updated_at_start is not None:
            builder.compare("u.updated_at", "GREATER", updated_at_start * 1000)
        if updated_at_end is not None:
            builder.compare("u.updated_at", "LESSER", updated_at_end * 1000)
        return await self._page(
            pool_id, builder, "u.created_at DESC, u.id DESC", page, limit, with_identities
        )

    async def _page(
        self, pool_id: str, builder: Builder, order: str, page: int, limit: int, with_identities: bool
    ) -> tuple[int, list[UserView]]:
        async with self._db.read() as conn:
            total, users = await users_repo.list_page(
                conn, pool_id, builder.conditions, order, (page - 1) * limit, limit
            )
            views = [UserView(u) for u in users]
            if with_identities:
                identities = await users_repo.list_identities(conn, pool_id, [u.id for u in users])
                for view in views:
                    view.identities = identities[view.user.id]
        return total, views


def _add_filter(builder: Builder, name: str, operator: str, value: Any, where: str) -> None:
    if name in MFA_FLAGS:
        if operator != "EQUAL" or not isinstance(value, bool):
            raise InvalidParameter(f"{where}.value", f"{name} takes EQUAL true|false")
        builder.mfa_flag(name, value)
        return
    column = COLUMNS.get(name)
    if column is None:
        raise InvalidParameter(f"{where}.field", f"unsupported filter field {name!r}")
    if operator in ("IS_NULL", "NOT_NULL"):
        builder.compare(column, operator, None)
        return
    if operator == "IN":
        if not isinstance(value, list) or not value or len(value) > 100:
            raise InvalidParameter(f"{where}.value", "IN takes a non-empty array (at most 100)")
        builder.compare(column, operator, [_scalar(column, v, where) for v in value])
        return
    if operator == "BETWEEN":
        if not isinstance(value, list) or len(value) != 2:
            raise InvalidParameter(f"{where}.value", "BETWEEN takes [low, high]")
        builder.compare(column, operator, [_scalar(column, v, where) for v in value])
        return
    builder.compare(column, operator, _scalar(column, value, where))


def _scalar(column: str, value: Any, where: str) -> Any:
    if column in NUMERIC:
        if isinstance(value, bool):
            raise InvalidParameter(f"{where}.value")
        if isinstance(value, int | float):
            return int(value)
        if isinstance(value, str):
            try:
                return int(datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp() * 1000)
            except ValueError:
                raise InvalidParameter(f"{where}.value", "expected a number or an ISO 8601 time") from None
        raise InvalidParameter(f"{where}.value")
    if not isinstance(value, str | int | float) or isinstance(value, bool):
        raise InvalidParameter(f"{where}.value")
    text = str(value)
    return text.lower() if column == "u.email" else text


def _order_by(sort: Sequence[Any] | None) -> str:
    if not sort:
        return "u.created_at DESC, u.id DESC"
    parts = []
    for index, item in enumerate(sort):
        column = SORTABLE.get(item.field)
        if column is None:
            raise InvalidParameter(f"options.sort[{index}].field", f"unsupported sort field {item.field!r}")
        parts.append(f"{column} {'ASC' if item.order == 'asc' else 'DESC'}")
    return ", ".join([*parts, "u.id DESC"])


def _clean(value: str | None, field_name: str) -> str | None:
    if value is None:
        return None
    text = value.strip()
    if not text:
        raise InvalidParameter(field_name)
    return text


def _identity(user_id: str, ident: IdentityInput, now: int) -> Identity:
    return Identity(
        id=new_id(),
        user_id=user_id,
        ext_idp_id=ident.ext_idp_id,
        provider=ident.provider,
        type=ident.type or "generic",
        user_id_in_idp=ident.user_id_in_idp,
        user_info_in_idp=ident.user_info_in_idp,
        origin_conn_ids=list(ident.origin_conn_ids),
        created_at=now,
    )


def _created(p: _Prepared) -> dict[str, Any]:
    after = snapshot(p.user)
    after["otpBound"] = p.otp is not None
    return after


def snapshot(user: User) -> dict[str, Any]:
    """The audit view of a user (no password hash)."""
    return {
        "userId": user.id,
        "status": str(user.status),
        "username": user.username,
        "email": user.email,
        "phone": user.phone,
        "phoneCountryCode": user.phone_country_code,
        "externalId": user.external_id,
        "name": user.name,
        "nickname": user.nickname,
        "hasPassword": user.password_hash is not None,
        "profile": user.profile,
        "customData": user.custom_data,
    }
