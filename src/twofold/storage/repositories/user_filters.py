"""Turn a ``UserQuery`` into SQL over whitelisted columns (never caller text into SQL)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from twofold.domain.user_queries import Filter, Keywords, Operator, Sort, UserField, UserQuery


@dataclass(frozen=True)
class Condition:
    """One SQL condition over whitelisted columns, with its named parameters."""

    sql: str
    params: dict[str, Any]


COLUMNS: dict[UserField, str] = {
    UserField.ID: "u.id",
    UserField.PHONE: "u.phone",
    UserField.EMAIL: "u.email",
    UserField.USERNAME: "u.username",
    UserField.EXTERNAL_ID: "u.external_id",
    UserField.NAME: "u.name",
    UserField.NICKNAME: "u.nickname",
    UserField.STATUS: "u.status",
    UserField.LOGINS_COUNT: "u.logins_count",
    UserField.CREATED_AT: "u.created_at",
    UserField.UPDATED_AT: "u.updated_at",
}
# Profile attributes kept in the JSON ``profile`` document, with the value a user without one has.
PROFILE_COLUMNS: dict[UserField, tuple[str, str | None]] = {
    UserField.GENDER: ("gender", "U"),
    **{
        f: (f.value, None)
        for f in (
            UserField.BIRTHDATE,
            UserField.GIVEN_NAME,
            UserField.FAMILY_NAME,
            UserField.MIDDLE_NAME,
            UserField.PREFERRED_USERNAME,
            UserField.PROFILE,
            UserField.COUNTRY,
            UserField.PROVINCE,
            UserField.CITY,
            UserField.ZONEINFO,
            UserField.LOCALE,
            UserField.WEBSITE,
            UserField.ADDRESS,
            UserField.STREET_ADDRESS,
            UserField.FORMATTED,
            UserField.POSTAL_CODE,
            UserField.COMPANY,
            UserField.IDENTITY_NUMBER,
        )
    },
}
MFA_FLAGS: dict[UserField, str] = {
    UserField.MFA_ENABLED: "m.any_enabled",
    UserField.TOTP_MFA_ENABLED: "m.totp_enabled",
    UserField.FACE_MFA_ENABLED: "m.face_enabled",
}


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


class _Builder:
    """Collects conditions with uniquely named parameters."""

    def __init__(self, dialect: str) -> None:
        self.conditions: list[Condition] = []
        self._n = 0
        self._dialect = dialect

    def column(self, field: UserField) -> str:
        """The SQL of a field: a column, or a member of the profile document (keys from the enum)."""
        if field not in PROFILE_COLUMNS:
            return COLUMNS[field]
        key, default = PROFILE_COLUMNS[field]
        if self._dialect == "postgresql":
            member = f"(u.profile::json ->> '{key}')"
        else:
            member = f"json_extract(u.profile, '$.{key}')"
        return member if default is None else f"COALESCE({member}, '{default}')"

    def param(self) -> str:
        self._n += 1
        return f"f{self._n}"

    def add(self, sql: str, **params: Any) -> None:
        self.conditions.append(Condition(sql, params))

    def keywords(self, keywords: Keywords) -> None:
        p = self.param()
        ors = [f"LOWER({self.column(f)}) LIKE :{p} ESCAPE '\\'" for f in keywords.fields]
        self.add("(" + " OR ".join(ors) + ")", **{p: f"%{_escape_like(keywords.text.lower())}%"})

    def filter(self, item: Filter) -> None:
        if item.field in MFA_FLAGS:
            self._mfa_flag(MFA_FLAGS[item.field], item.operator, bool(item.value))
            return
        column, value, p = self.column(item.field), item.value, self.param()
        match item.operator:
            case Operator.EQUAL:
                self.add(f"{column} = :{p}", **{p: value})
            case Operator.NOT_EQUAL:
                self.add(f"({column} IS NULL OR {column} <> :{p})", **{p: value})
            case Operator.CONTAINS:
                self.add(f"LOWER({column}) LIKE :{p} ESCAPE '\\'", **{p: _like(value)})
            case Operator.NOT_CONTAINS:
                self.add(
                    f"({column} IS NULL OR LOWER({column}) NOT LIKE :{p} ESCAPE '\\')", **{p: _like(value)}
                )
            case Operator.IS_NULL:
                self.add(f"{column} IS NULL")
            case Operator.NOT_NULL:
                self.add(f"{column} IS NOT NULL")
            case Operator.IN:
                values = value if isinstance(value, tuple) else (value,)
                names = [self.param() for _ in values]
                self.add(
                    f"{column} IN ({', '.join(':' + n for n in names)})",
                    **dict(zip(names, values, strict=True)),
                )
            case Operator.GREATER:
                self.add(f"{column} >= :{p}", **{p: value})
            case Operator.LESSER:
                self.add(f"{column} <= :{p}", **{p: value})
            case Operator.BETWEEN:
                assert isinstance(value, tuple) and len(value) == 2
                q = self.param()
                self.add(f"{column} BETWEEN :{p} AND :{q}", **{p: value[0], q: value[1]})

    def _mfa_flag(self, column: str, operator: Operator, enabled: bool) -> None:
        if operator is Operator.NOT_EQUAL:
            enabled = not enabled
        p = self.param()
        exists = f"EXISTS (SELECT 1 FROM mfa_statuses m WHERE m.user_id = u.id AND {column} = :{p})"
        self.add(exists if enabled else f"NOT {exists}", **{p: True})


def _like(value: object) -> str:
    return f"%{_escape_like(str(value).lower())}%"


def conditions_of(query: UserQuery, dialect: str) -> list[Condition]:
    builder = _Builder(dialect)
    if query.keywords is not None:
        builder.keywords(query.keywords)
    for item in query.filters:
        builder.filter(item)
    return builder.conditions


def order_by(sort: tuple[Sort, ...]) -> str:
    parts = [f"{COLUMNS[s.field]} {'DESC' if s.descending else 'ASC'}" for s in sort]
    return ", ".join([*parts, "u.id DESC"])
