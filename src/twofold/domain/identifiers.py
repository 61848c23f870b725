"""How a user is addressed: the ``userIdType`` values of docs/wire.md#user-id-types."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from twofold.domain.contacts import normalize_email, normalize_lookup_phone
from twofold.errors import InvalidParameter


class UserIdType(StrEnum):
    USER_ID = "user_id"
    USERNAME = "username"
    EMAIL = "email"
    PHONE = "phone"
    EXTERNAL_ID = "external_id"
    IDENTITY = "identity"
    SYNC_RELATION = "sync_relation"


@dataclass(frozen=True)
class UserRef:
    """A parsed, normalised user reference; ``key``/``sub_key`` are what the lookup matches."""

    id_type: UserIdType
    key: str
    sub_key: str | None = None  # identity: userIdInIdp, sync_relation: userIdInIdp, phone: country code


def parse_user_id_type(raw: str | None, field: str = "userIdType") -> UserIdType:
    if raw is None or raw == "":
        return UserIdType.USER_ID
    try:
        return UserIdType(raw)
    except ValueError:
        raise InvalidParameter(field, f"unsupported userIdType {raw[:40]!r}") from None


def parse_user_ref(user_id: str | None, id_type: UserIdType, field: str = "userId") -> UserRef:
    """Validate and normalise ``user_id`` for ``id_type``; malformed input raises ``InvalidParameter``."""
    if user_id is None or not user_id.strip():
        raise InvalidParameter(field)
    value = user_id.strip()
    if id_type is UserIdType.EMAIL:
        return UserRef(id_type, normalize_email(value, field))
    if id_type is UserIdType.PHONE:
        number, country_code = normalize_lookup_phone(value, field)
        return UserRef(id_type, number, country_code)
    if id_type in (UserIdType.IDENTITY, UserIdType.SYNC_RELATION):
        head, sep, tail = value.partition(":")
        if not sep or not head or not tail:
            expected = (
                "<extIdpId>:<userIdInIdp>" if id_type is UserIdType.IDENTITY else "<provider>:<userIdInIdp>"
            )
            raise InvalidParameter(field, f"expected {expected}")
        return UserRef(id_type, head, tail)
    return UserRef(id_type, value)
