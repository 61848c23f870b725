"""Listing users: the caller's filters, keywords and sort checked and turned into a ``UserQuery``."""

from __future__ import annotations

import math
from datetime import datetime
from typing import Any

from twofold.domain.commands import FilterInput, ListUsersInput, SortInput
from twofold.domain.user_queries import (
    ENUM_VALUES,
    FIELD_ALIASES,
    FUZZY_DEFAULT,
    MAX_IN_VALUES,
    NEWEST_FIRST,
    SEARCHABLE,
    SORTABLE,
    Filter,
    Keywords,
    Operator,
    Scalar,
    Sort,
    UserField,
    UserQuery,
    ValueKind,
)
from twofold.domain.users import UserStatus
from twofold.errors import InvalidParameter
from twofold.services.mfa_input import parse_factors
from twofold.services.user_support import UserServiceBase, UserView
from twofold.storage.repositories import users as users_repo

_ENUM_OPERATORS = (Operator.EQUAL, Operator.NOT_EQUAL, Operator.IN, Operator.IS_NULL, Operator.NOT_NULL)
_TEXT_ONLY = (Operator.CONTAINS, Operator.NOT_CONTAINS)
_MAX_NUMBER = 2**53  # every count and millisecond time fits; a database integer never overflows
_MAX_TEXT = 1000


class UserListing(UserServiceBase):
    async def list_users(self, pool_id: str, request: ListUsersInput) -> tuple[int, list[UserView]]:
        keywords = None
        if request.keywords:
            keywords = Keywords(request.keywords, _search_fields(request.fuzzy_search_on))
        filters = tuple(_filter(item, f"advancedFilter[{i}]") for i, item in enumerate(request.filters))
        query = UserQuery(filters, keywords, _sort(request.sort), request.page, request.limit)
        return await self._page(pool_id, query, request.with_identities)

    async def browse_users(
        self,
        pool_id: str,
        filters: tuple[FilterInput, ...],
        after: str | None,
        limit: int = 20,
        otp_enrolled: bool | None = None,
        locked: str | None = None,
    ) -> tuple[list[UserView], str | None]:
        """Newest first, by keyset: a page of users and the cursor of the next page (None on the last).
        ``after`` is a cursor this method returned; the filters are ``list_users``'s.  ``otp_enrolled``
        keeps the users with (True) or without (False) an enrolled OTP factor; ``locked`` those with
        that factor ("*": any) locked now."""
        checked = tuple(_filter(item, f"advancedFilter[{i}]") for i, item in enumerate(filters))
        limit = max(1, min(limit, 100))
        position = _cursor(after)
        if locked is not None and locked != "*":
            locked = str(parse_factors([locked], "locked")[0])
        state = None
        if otp_enrolled is not None or locked is not None:
            state = users_repo.MfaState(otp_enrolled, locked, self._clock())
        async with self._db.read() as conn:
            users = await users_repo.list_newest(conn, pool_id, UserQuery(checked), position, limit + 1, state)
        more = len(users) > limit
        users = users[:limit]
        cursor = f"{users[-1].created_at}.{users[-1].id}" if more else None
        return [UserView(u) for u in users], cursor

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
        filters = []
        if status is not None:
            filters.append(Filter(UserField.STATUS, Operator.EQUAL, str(status)))
        if updated_at_start is not None:  # UNIX seconds on this endpoint
            filters.append(Filter(UserField.UPDATED_AT, Operator.GREATER, updated_at_start * 1000))
        if updated_at_end is not None:
            filters.append(Filter(UserField.UPDATED_AT, Operator.LESSER, updated_at_end * 1000))
        return await self._page(pool_id, UserQuery(tuple(filters), page=page, limit=limit), with_identities)

    async def _page(
        self, pool_id: str, query: UserQuery, with_identities: bool
    ) -> tuple[int, list[UserView]]:
        async with self._db.read() as conn:
            total, users = await users_repo.list_page(conn, pool_id, query)
            views = [UserView(u) for u in users]
            if with_identities:
                identities = await users_repo.list_identities(conn, pool_id, [u.id for u in users])
                for view in views:
                    view.identities = identities[view.user.id]
        return total, views


def _field(name: str) -> UserField | None:
    if name in FIELD_ALIASES:
        return FIELD_ALIASES[name]
    try:
        return UserField(name)
    except ValueError:
        return None


def _search_fields(names: tuple[str, ...] | None) -> tuple[UserField, ...]:
    if not names:
        return FUZZY_DEFAULT
    fields = []
    for index, name in enumerate(names):
        found = _field(name)
        if found is None or found not in SEARCHABLE:
            raise InvalidParameter(f"options.fuzzySearchOn[{index}]", f"unsupported field {name!r}")
        fields.append(found)
    return tuple(fields)


def _sort(items: tuple[SortInput, ...]) -> tuple[Sort, ...]:
    if not items:
        return NEWEST_FIRST
    sort = []
    for index, item in enumerate(items):
        found = _field(item.field)
        if found is None or found not in SORTABLE:
            raise InvalidParameter(f"options.sort[{index}].field", f"unsupported sort field {item.field!r}")
        sort.append(Sort(found, item.order != "asc"))
    return tuple(sort)


def _filter(item: FilterInput, where: str) -> Filter:
    field = _field(item.field)
    if field is None:
        raise InvalidParameter(f"{where}.field", f"unsupported filter field {item.field!r}")
    try:
        operator = Operator(item.operator)
    except ValueError:
        raise InvalidParameter(f"{where}.operator") from None
    at = f"{where}.{field.value}"  # GenAuth names the filtered field: "参数 status 格式错误"
    kind = field.kind
    if kind is ValueKind.FLAG:
        if operator not in (Operator.EQUAL, Operator.NOT_EQUAL) or not isinstance(item.value, bool):
            raise InvalidParameter(at, f"{field.value} takes EQUAL true|false")
        return Filter(field, operator, item.value)
    if kind is ValueKind.ENUM and operator not in _ENUM_OPERATORS:
        raise InvalidParameter(at, f"{field.value} takes EQUAL, NOT_EQUAL, IN, IS_NULL or NOT_NULL")
    if kind is ValueKind.NUMBER and operator in _TEXT_ONLY:
        raise InvalidParameter(at, f"{operator.value} needs a text field")
    if operator in (Operator.IS_NULL, Operator.NOT_NULL):
        return Filter(field, operator)
    if operator is Operator.IN:
        if not isinstance(item.value, list) or not item.value or len(item.value) > MAX_IN_VALUES:
            raise InvalidParameter(at, f"IN takes a non-empty array (at most {MAX_IN_VALUES})")
        return Filter(field, operator, tuple(_scalar(field, v, at) for v in item.value))
    if operator is Operator.BETWEEN:
        if not isinstance(item.value, list) or len(item.value) != 2:
            raise InvalidParameter(at, "BETWEEN takes [low, high]")
        return Filter(field, operator, tuple(_scalar(field, v, at) for v in item.value))
    return Filter(field, operator, _scalar(field, item.value, at))


def _scalar(field: UserField, value: Any, at: str) -> Scalar:
    kind = field.kind
    if kind is ValueKind.ENUM:
        allowed = ENUM_VALUES[field]
        if not isinstance(value, str) or value not in allowed:
            raise InvalidParameter(at, f"expected one of {', '.join(allowed)}")
        return value
    if kind is ValueKind.NUMBER:
        if isinstance(value, bool):
            raise InvalidParameter(at)
        if isinstance(value, int | float):
            if not math.isfinite(value) or abs(value) > _MAX_NUMBER:
                raise InvalidParameter(at, "number out of range")
            return int(value)
        if isinstance(value, str):
            try:
                return int(datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp() * 1000)
            except ValueError:
                raise InvalidParameter(at, "expected a number or an ISO 8601 time") from None
        raise InvalidParameter(at)
    if not isinstance(value, str | int | float) or isinstance(value, bool):
        raise InvalidParameter(at)
    text = str(value)
    if len(text) > _MAX_TEXT:
        raise InvalidParameter(at, "too long")
    return text.lower() if field is UserField.EMAIL else text


def _cursor(after: str | None) -> tuple[int, str] | None:
    """``"<created_at>.<id>"`` -> ``(created_at, id)``; anything else is ``InvalidParameter``."""
    if not after:
        return None
    at, _, user_id = after.partition(".")
    if not at.isdigit() or len(at) > 16 or not user_id or len(user_id) > 64:
        raise InvalidParameter("after", "not a cursor of this list")
    return int(at), user_id
