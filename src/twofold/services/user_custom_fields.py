"""Custom fields of users: their definitions (set-custom-fields) and their values (set-custom-data).

Only the USER target is modelled; roles, groups and departments are refused with a parameter error.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict
from typing import Any

from twofold.domain.commands import CustomFieldInput
from twofold.domain.custom_fields import (
    KEY_PATTERN,
    SUPPORTED_TARGETS,
    CustomField,
    DataType,
    TargetType,
    check_custom_data,
)
from twofold.domain.identifiers import UserIdType, parse_user_ref
from twofold.domain.users import PROFILE_FIELDS
from twofold.errors import InvalidParameter
from twofold.services import audit
from twofold.services.context import Caller
from twofold.services.user_support import UserServiceBase, snapshot
from twofold.storage.repositories import custom_fields as custom_fields_repo
from twofold.storage.repositories import users as users_repo

BUILT_IN_KEYS = frozenset(
    {
        "userId",
        "id",
        "username",
        "email",
        "phone",
        "phoneCountryCode",
        "externalId",
        "name",
        "nickname",
        "status",
        "password",
        "createdAt",
        "updatedAt",
        "customData",
        *PROFILE_FIELDS,
    }
)


def parse_target(raw: str | None, field: str = "targetType") -> TargetType:
    try:
        target = TargetType(raw or "")
    except ValueError:
        raise InvalidParameter(field, "expected USER") from None
    if target not in SUPPORTED_TARGETS:
        raise InvalidParameter(field, "only USER custom fields are supported")
    return target


class UserCustomFields(UserServiceBase):
    async def set_custom_fields(self, caller: Caller, items: Sequence[CustomFieldInput]) -> list[CustomField]:
        """Create the fields whose key is new, update the description of the others (all or none)."""
        if not items:
            raise InvalidParameter("list")
        now = self._clock()
        saved: list[CustomField] = []
        async with self._db.transaction() as conn:
            existing = await custom_fields_repo.definitions(conn, caller.pool_id, TargetType.USER)
            for index, item in enumerate(items):
                field = _definition(item, existing.get(item.key), f"list[{index}].", now)
                await custom_fields_repo.upsert(conn, caller.pool_id, field, now)
                existing[field.key] = field
                saved.append(field)
            await audit.record(
                conn, self._clock, caller, "custom_fields.set", None, after=[_audit(f) for f in saved]
            )
        return saved

    async def get_custom_fields(self, pool_id: str, target_type: str | None) -> list[CustomField]:
        target = parse_target(target_type)
        async with self._db.read() as conn:
            return await custom_fields_repo.list_fields(conn, pool_id, target)

    async def set_custom_data(
        self,
        caller: Caller,
        target_type: str | None,
        target_identifier: str | None,
        values: Mapping[str, Any],
    ) -> None:
        parse_target(target_type)
        ref = parse_user_ref(target_identifier, UserIdType.USER_ID, "targetIdentifier")
        if not values:
            raise InvalidParameter("list")
        async with self._db.transaction() as conn:
            definitions = await custom_fields_repo.definitions(conn, caller.pool_id, TargetType.USER)
            user = await self.resolve(conn, caller.pool_id, ref)
            before = snapshot(user)
            user.custom_data = {**user.custom_data, **check_custom_data(definitions, values)}
            user.updated_at = self._clock()
            await users_repo.update(conn, user)
            await audit.record(conn, self._clock, caller, "user.update", user.id, before, snapshot(user))

    async def get_custom_data(
        self, pool_id: str, target_type: str | None, target_identifier: str | None
    ) -> dict[str, Any]:
        parse_target(target_type)
        ref = parse_user_ref(target_identifier, UserIdType.USER_ID, "targetIdentifier")
        async with self._db.read() as conn:
            return dict((await self.resolve(conn, pool_id, ref)).custom_data)


def _definition(item: CustomFieldInput, old: CustomField | None, at: str, now: int) -> CustomField:
    target = parse_target(item.target_type, at + "targetType")
    if not KEY_PATTERN.match(item.key) or item.key in BUILT_IN_KEYS:
        raise InvalidParameter(at + "key", "letters, digits and _, not a built-in user field")
    if item.data_type is None:
        if old is None:
            raise InvalidParameter(at + "dataType")
        data_type = old.data_type
    else:
        try:
            data_type = DataType(item.data_type)
        except ValueError:
            raise InvalidParameter(at + "dataType") from None
        if old is not None and old.data_type is not data_type:
            raise InvalidParameter(at + "dataType", "the data type of a field cannot change")
    # Refused rather than stored and not honoured: Twofold neither encrypts custom data nor checks
    # its uniqueness.
    if item.encrypted:
        raise InvalidParameter(at + "encrypted", "Twofold does not encrypt custom data; leave it false")
    if item.is_unique:
        raise InvalidParameter(at + "isUnique", "Twofold does not check custom data for uniqueness")
    options = item.options if item.options is not None else (old.options if old else ())
    if data_type in (DataType.ENUM, DataType.SELECT) and not options:
        raise InvalidParameter(at + "options", "an ENUM field needs its options")

    def pick(value: Any, previous: Any, default: Any) -> Any:
        return value if value is not None else (previous if old is not None else default)

    return CustomField(
        target_type=target,
        key=item.key,
        data_type=data_type,
        label=pick(item.label, old.label if old else None, item.key),
        description=pick(item.description, old.description if old else None, None),
        user_editable=pick(item.user_editable, old.user_editable if old else None, False),
        visible_in_admin_console=pick(
            item.visible_in_admin_console, old.visible_in_admin_console if old else None, True
        ),
        visible_in_user_center=pick(
            item.visible_in_user_center, old.visible_in_user_center if old else None, False
        ),
        options=tuple(options),
        created_at=old.created_at if old else now,
    )


def _audit(field: CustomField) -> dict[str, Any]:
    document = asdict(field)
    document["options"] = [list(o) for o in field.options]
    return document
