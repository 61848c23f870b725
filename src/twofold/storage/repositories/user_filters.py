"""Translate list-users filters into SQL over whitelisted columns (never user text into SQL)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from twofold.storage.repositories.users import Condition

COLUMNS: dict[str, str] = {
    "id": "u.id",
    "userId": "u.id",
    "phone": "u.phone",
    "email": "u.email",
    "username": "u.username",
    "externalId": "u.external_id",
    "name": "u.name",
    "nickname": "u.nickname",
    "status": "u.status",
    "loginsCount": "u.logins_count",
    "createdAt": "u.created_at",
    "signedUp": "u.created_at",
    "updatedAt": "u.updated_at",
}
NUMERIC = {"u.logins_count", "u.created_at", "u.updated_at"}
MFA_FLAGS: dict[str, str] = {
    "mfaEnabled": "m.any_enabled = :{p}",
    "totpMfaEnabled": "m.totp_enabled = :{p}",
    "faceMfaEnabled": "m.face_enabled = :{p}",
}
SORTABLE: dict[str, str] = {
    "id": "u.id",
    "createdAt": "u.created_at",
    "updatedAt": "u.updated_at",
    "email": "u.email",
    "username": "u.username",
    "externalId": "u.external_id",
    "phone": "u.phone",
    "status": "u.status",
    "loginsCount": "u.logins_count",
}
FUZZY_DEFAULT = ("phone", "email", "name", "username", "nickname")


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


class Builder:
    """Collects conditions with uniquely named parameters."""

    def __init__(self) -> None:
        self.conditions: list[Condition] = []
        self._n = 0

    def param(self) -> str:
        self._n += 1
        return f"f{self._n}"

    def add(self, sql: str, **params: Any) -> None:
        self.conditions.append(Condition(sql, params))

    def keywords(self, text: str, fields: Sequence[str]) -> None:
        p = self.param()
        ors = [f"LOWER({COLUMNS[f]}) LIKE :{p} ESCAPE '\\'" for f in fields]
        self.add("(" + " OR ".join(ors) + ")", **{p: f"%{_escape_like(text.lower())}%"})

    def compare(self, column: str, operator: str, value: Any) -> None:
        p = self.param()
        if operator == "EQUAL":
            self.add(f"{column} = :{p}", **{p: value})
        elif operator == "NOT_EQUAL":
            self.add(f"({column} IS NULL OR {column} <> :{p})", **{p: value})
        elif operator == "CONTAINS":
            self.add(f"LOWER({column}) LIKE :{p} ESCAPE '\\'", **{p: f"%{_escape_like(str(value).lower())}%"})
        elif operator == "NOT_CONTAINS":
            self.add(
                f"({column} IS NULL OR LOWER({column}) NOT LIKE :{p} ESCAPE '\\')",
                **{p: f"%{_escape_like(str(value).lower())}%"},
            )
        elif operator == "IS_NULL":
            self.add(f"{column} IS NULL")
        elif operator == "NOT_NULL":
            self.add(f"{column} IS NOT NULL")
        elif operator == "IN":
            names = [self.param() for _ in value]
            self.add(
                f"{column} IN ({', '.join(':' + n for n in names)})", **dict(zip(names, value, strict=True))
            )
        elif operator == "GREATER":
            self.add(f"{column} >= :{p}", **{p: value})
        elif operator == "LESSER":
            self.add(f"{column} <= :{p}", **{p: value})
        elif operator == "BETWEEN":
            q = self.param()
            self.add(f"{column} BETWEEN :{p} AND :{q}", **{p: value[0], q: value[1]})

    def mfa_flag(self, field: str, enabled: bool) -> None:
        p = self.param()
        inner = MFA_FLAGS[field].format(p=p)
        exists = f"EXISTS (SELECT 1 FROM mfa_statuses m WHERE m.user_id = u.id AND {inner})"
        self.add(exists if enabled else f"NOT {exists}", **{p: True})
