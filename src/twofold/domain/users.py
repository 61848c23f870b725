"""The user record and its rules (no I/O)."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any


class UserStatus(StrEnum):
    ACTIVATED = "Activated"
    SUSPENDED = "Suspended"
    DEACTIVATED = "Deactivated"
    RESIGNED = "Resigned"
    ARCHIVED = "Archived"


GENDERS: tuple[str, ...] = ("M", "F", "U")  # male, female, unknown (the default)


# Wire names of the profile attributes kept in the ``profile`` document (everything in UserDto that is
# neither indexed nor derived).
PROFILE_FIELDS: tuple[str, ...] = (
    "photo",
    "gender",
    "emailVerified",
    "phoneVerified",
    "birthdate",
    "country",
    "province",
    "city",
    "address",
    "streetAddress",
    "postalCode",
    "company",
    "browser",
    "device",
    "givenName",
    "familyName",
    "middleName",
    "profile",
    "preferredUsername",
    "website",
    "zoneinfo",
    "locale",
    "formatted",
    "region",
    "identityNumber",
    "metadataSource",
    "tenantIds",
    "departmentIds",
)
DEFAULT_PHOTO = "https://files.authing.co/authing-console/default-user-avatar.png"


@dataclass
class User:
    id: str
    pool_id: str
    status: UserStatus
    created_at: int
    updated_at: int
    username: str | None = None
    email: str | None = None
    phone: str | None = None
    phone_country_code: str | None = None
    external_id: str | None = None
    name: str | None = None
    nickname: str | None = None
    password_hash: str | None = None
    logins_count: int = 0
    profile: dict[str, Any] = field(default_factory=dict)
    custom_data: dict[str, Any] = field(default_factory=dict)

    def has_login_identifier(self) -> bool:
        return bool(self.username or self.email or self.phone)


@dataclass(frozen=True)
class Identity:
    id: str
    user_id: str
    ext_idp_id: str
    provider: str
    type: str
    user_id_in_idp: str
    user_info_in_idp: dict[str, Any]
    origin_conn_ids: list[str]
    created_at: int
