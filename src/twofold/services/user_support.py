"""What the user-directory services share: the view they return, the base they build on, and the
rules that apply a create or an update to a user record."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

from twofold.domain.commands import IdentityInput, UserFieldsInput
from twofold.domain.contacts import normalize_email, normalize_phone
from twofold.domain.custom_fields import CustomField, check_custom_data
from twofold.domain.identifiers import UserRef
from twofold.domain.users import PROFILE_FIELDS, Identity, User, UserStatus
from twofold.errors import (
    IdentityAlreadyLinked,
    InvalidParameter,
    PhoneRequired,
    UserAlreadyExists,
    UserNotFound,
)
from twofold.services.context import Clock, new_id
from twofold.services.keyring import Keyring
from twofold.storage.database import Connection, Database
from twofold.storage.errors import UniqueViolation
from twofold.storage.repositories import users as users_repo

_UNIQUE_FIELDS = (
    ("external_id", "externalId"),
    ("username", "username"),
    ("email", "email"),
    ("phone", "phone"),
)


def conflict_from(exc: UniqueViolation) -> Exception:
    if exc.table == "identities":
        return IdentityAlreadyLinked()
    if exc.table == "sync_relations":
        return InvalidParameter("syncRelations", "this sync relation already belongs to a user")
    for column, wire in _UNIQUE_FIELDS:
        if column in exc.columns:
            return UserAlreadyExists(wire)
    return UserAlreadyExists("userId")


@dataclass
class UserView:
    """A user with the optional parts a response asked for."""

    user: User
    identities: list[Identity] | None = None


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


class UserServiceBase:
    """The database, the secret box and the clock every user-directory service works with, and the key
    an imported recovery code is stored as the digest under (``totp_check.recovery_code_digest``)."""

    def __init__(self, db: Database, box: Keyring, clock: Clock, recovery_key: bytes) -> None:
        self._db = db
        self._box = box
        self._clock = clock
        self._recovery_key = recovery_key

    async def resolve(self, conn: Connection, pool_id: str, ref: UserRef) -> User:
        return the_one(await users_repo.find(conn, pool_id, ref))


# ------------------------------------------------------------------------------- applying a change
def apply_identifiers(user: User, fields: UserFieldsInput, prefix: str) -> None:
    given = fields.given
    if "email" in given:
        user.email = normalize_email(fields.email, prefix + "email") if fields.email else None
    _apply_phone(user, fields, prefix)
    if "username" in given:
        user.username = clean(fields.username, prefix + "username")
    if "externalId" in given:
        user.external_id = clean(fields.external_id, prefix + "externalId")


def _apply_phone(user: User, fields: UserFieldsInput, prefix: str) -> None:
    given = fields.given
    country_code = fields.phone_country_code if "phoneCountryCode" in given else None
    if fields.phone:
        user.phone, user.phone_country_code = normalize_phone(
            fields.phone, country_code or user.phone_country_code, prefix + "phone"
        )
    elif country_code and ("phone" in given or user.phone is None):
        raise PhoneRequired(prefix + "phone")  # a country code is not a phone number
    elif "phone" in given:
        user.phone, user.phone_country_code = None, None
    elif country_code and user.phone is not None:
        user.phone, user.phone_country_code = normalize_phone(user.phone, country_code, prefix + "phone")


def apply_profile(user: User, fields: UserFieldsInput, prefix: str) -> None:
    given = fields.given
    if "name" in given:
        user.name = fields.name
    if "nickname" in given:
        user.nickname = fields.nickname
    if fields.status is not None:
        try:
            user.status = UserStatus(fields.status)
        except ValueError:
            raise InvalidParameter(prefix + "status") from None
    for key in PROFILE_FIELDS:
        if key in fields.profile:
            value = fields.profile[key]
            if value is None:
                user.profile.pop(key, None)
            else:
                user.profile[key] = value


def apply_custom_data(user: User, fields: UserFieldsInput, definitions: Mapping[str, CustomField]) -> None:
    if fields.custom_data is not None:
        user.custom_data = {**user.custom_data, **check_custom_data(definitions, fields.custom_data)}


def clean(value: str | None, field_name: str) -> str | None:
    if value is None:
        return None
    text = value.strip()
    if not text:
        raise InvalidParameter(field_name)
    return text


def identity_from(user_id: str, ident: IdentityInput, now: int) -> Identity:
    return Identity(
        id=new_id(),
        user_id=user_id,
        ext_idp_id=ident.ext_idp_id,
        provider=ident.provider,
        type=ident.type or "generic",
        user_id_in_idp=ident.user_id_in_idp,
        user_info_in_idp=dict(ident.user_info_in_idp),
        origin_conn_ids=list(ident.origin_conn_ids),
        created_at=now,
    )


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
