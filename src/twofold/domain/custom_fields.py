"""Custom fields: definitions of extra user attributes, and the check of a value against one (no I/O)."""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

import orjson

from twofold.errors import CustomDataTooLong, InvalidParameter

MAX_VALUE_CHARACTERS = 1024  # GenAuth: "customData must be less than 1024 characters"
MAX_FIELDS = 200  # custom data keys per user
MAX_DEFINITIONS_PER_CALL = 50  # GenAuth: set-custom-fields takes at most 50
KEY_PATTERN = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,63}$")


class TargetType(StrEnum):
    USER = "USER"
    ROLE = "ROLE"
    GROUP = "GROUP"
    DEPARTMENT = "DEPARTMENT"


SUPPORTED_TARGETS = (TargetType.USER,)  # roles, groups and departments are not modelled


class DataType(StrEnum):
    STRING = "STRING"
    NUMBER = "NUMBER"
    DATETIME = "DATETIME"
    BOOLEAN = "BOOLEAN"
    ENUM = "ENUM"
    SELECT = "SELECT"  # the older SDKs' name of ENUM
    OBJECT = "OBJECT"


@dataclass(frozen=True)
class CustomField:
    target_type: TargetType
    key: str
    data_type: DataType
    label: str
    description: str | None = None
    encrypted: bool = False
    is_unique: bool = False
    user_editable: bool = False
    visible_in_admin_console: bool = True
    visible_in_user_center: bool = False
    options: tuple[tuple[str, str], ...] = ()  # (value, label) of ENUM / SELECT
    created_at: int = 0


def check_value(definition: CustomField | None, key: str, value: Any) -> Any:
    """The value to store for ``key``; refuses a value the field's type does not allow, and any value
    whose JSON text is longer than 1024 characters.  Keys without a definition keep any JSON value
    (Twofold stores free-form custom data too)."""
    where = f"customData.{key}"
    if value is not None and len(orjson.dumps(value).decode()) > MAX_VALUE_CHARACTERS:
        raise CustomDataTooLong(where)
    if definition is None or value is None:
        return value
    match definition.data_type:
        case DataType.STRING:
            ok = isinstance(value, str)
        case DataType.NUMBER:
            ok = isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)
        case DataType.BOOLEAN:
            ok = isinstance(value, bool)
        case DataType.DATETIME:
            ok = _is_time(value)
        case DataType.ENUM | DataType.SELECT:
            ok = isinstance(value, str) and value in {v for v, _ in definition.options}
        case DataType.OBJECT:
            ok = isinstance(value, dict)
    if not ok:
        raise InvalidParameter(where, f"expected a {definition.data_type.value} value")
    return value


def check_custom_data(definitions: Mapping[str, CustomField], data: Mapping[str, Any]) -> dict[str, Any]:
    if len(data) > MAX_FIELDS:
        raise InvalidParameter("customData", f"at most {MAX_FIELDS} keys")
    checked = {}
    for key, value in data.items():
        if not isinstance(key, str) or not key or len(key) > 64:
            raise InvalidParameter("customData", "keys are 1 to 64 characters")
        checked[key] = check_value(definitions.get(key), key, value)
    return checked


def _is_time(value: Any) -> bool:
    if isinstance(value, int) and not isinstance(value, bool):
        return value >= 0
    if isinstance(value, str):
        try:
            datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return False
        return True
    return False
