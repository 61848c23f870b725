"""A list-users query as plain values: which users (filters, keywords), in which order, which page.

Services build a ``UserQuery`` from what the caller asked for; ``storage/`` turns it into SQL. Nothing
here names a column: a ``UserField`` is a property of a user, in GenAuth's words.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum, StrEnum

from twofold.domain.users import GENDERS, UserStatus

MAX_PAGE_SIZE = 50  # GenAuth's largest list page
MAX_PAGE = 1_000_000  # keeps every offset far inside a database integer
MAX_IN_VALUES = 100


class ValueKind(Enum):
    TEXT = "text"
    NUMBER = "number"  # a count, or a time in milliseconds
    ENUM = "enum"  # one of ENUM_VALUES[field]
    FLAG = "flag"  # true / false (an MFA enrolment flag)


class UserField(StrEnum):
    """The user properties a list can filter, search or sort on (the GenAuth wire names)."""

    ID = "id"
    PHONE = "phone"
    EMAIL = "email"
    USERNAME = "username"
    EXTERNAL_ID = "externalId"
    NAME = "name"
    NICKNAME = "nickname"
    STATUS = "status"
    GENDER = "gender"
    LOGINS_COUNT = "loginsCount"
    CREATED_AT = "createdAt"
    UPDATED_AT = "updatedAt"
    # profile attributes
    BIRTHDATE = "birthdate"
    GIVEN_NAME = "givenName"
    FAMILY_NAME = "familyName"
    MIDDLE_NAME = "middleName"
    PREFERRED_USERNAME = "preferredUsername"
    PROFILE = "profile"
    COUNTRY = "country"
    PROVINCE = "province"
    CITY = "city"
    ZONEINFO = "zoneinfo"
    LOCALE = "locale"
    WEBSITE = "website"
    ADDRESS = "address"
    STREET_ADDRESS = "streetAddress"
    FORMATTED = "formatted"
    POSTAL_CODE = "postalCode"
    COMPANY = "company"
    IDENTITY_NUMBER = "identityNumber"
    # MFA enrolment
    MFA_ENABLED = "mfaEnabled"
    TOTP_MFA_ENABLED = "totpMfaEnabled"
    FACE_MFA_ENABLED = "faceMfaEnabled"

    @property
    def kind(self) -> ValueKind:
        return _KINDS.get(self, ValueKind.TEXT)


_KINDS = {
    UserField.STATUS: ValueKind.ENUM,
    UserField.GENDER: ValueKind.ENUM,
    UserField.LOGINS_COUNT: ValueKind.NUMBER,
    UserField.CREATED_AT: ValueKind.NUMBER,
    UserField.UPDATED_AT: ValueKind.NUMBER,
    UserField.MFA_ENABLED: ValueKind.FLAG,
    UserField.TOTP_MFA_ENABLED: ValueKind.FLAG,
    UserField.FACE_MFA_ENABLED: ValueKind.FLAG,
}

ENUM_VALUES: dict[UserField, tuple[str, ...]] = {
    UserField.STATUS: tuple(s.value for s in UserStatus),
    UserField.GENDER: GENDERS,
}

# Other wire names GenAuth uses for the same property.
FIELD_ALIASES: dict[str, UserField] = {"userId": UserField.ID, "signedUp": UserField.CREATED_AT}
SORTABLE: frozenset[UserField] = frozenset(
    {
        UserField.ID,
        UserField.CREATED_AT,
        UserField.UPDATED_AT,
        UserField.EMAIL,
        UserField.USERNAME,
        UserField.EXTERNAL_ID,
        UserField.PHONE,
        UserField.STATUS,
        UserField.LOGINS_COUNT,
    }
)
SEARCHABLE: frozenset[UserField] = frozenset(
    {f for f, kind in ((f, f.kind) for f in UserField) if kind is ValueKind.TEXT}
)
FUZZY_DEFAULT: tuple[UserField, ...] = (
    UserField.PHONE,
    UserField.EMAIL,
    UserField.NAME,
    UserField.USERNAME,
    UserField.NICKNAME,
)


class Operator(StrEnum):
    EQUAL = "EQUAL"
    NOT_EQUAL = "NOT_EQUAL"
    CONTAINS = "CONTAINS"
    NOT_CONTAINS = "NOT_CONTAINS"
    IS_NULL = "IS_NULL"
    NOT_NULL = "NOT_NULL"
    IN = "IN"
    GREATER = "GREATER"  # >=, as GenAuth documents it
    LESSER = "LESSER"  # <=
    BETWEEN = "BETWEEN"


Scalar = str | int | bool


@dataclass(frozen=True)
class Filter:
    """``field operator value``; ``value`` is None (IS_NULL, NOT_NULL), a scalar, or a tuple (IN, BETWEEN).
    Text compared to email is already lower case; an enum field's values are among ``ENUM_VALUES``."""

    field: UserField
    operator: Operator
    value: Scalar | tuple[Scalar, ...] | None = None


@dataclass(frozen=True)
class Keywords:
    """A case-insensitive substring that any of ``fields`` may contain."""

    text: str
    fields: tuple[UserField, ...]


@dataclass(frozen=True)
class Sort:
    field: UserField
    descending: bool = True


NEWEST_FIRST: tuple[Sort, ...] = (Sort(UserField.CREATED_AT),)


@dataclass(frozen=True)
class UserQuery:
    filters: tuple[Filter, ...] = ()
    keywords: Keywords | None = None
    sort: tuple[Sort, ...] = NEWEST_FIRST  # the id breaks ties, in the direction of the last key
    page: int = 1
    limit: int = 10

    @property
    def offset(self) -> int:
        return (self.page - 1) * self.limit

