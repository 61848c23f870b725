"""Custom field definitions, per pool and target type."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import orjson

from twofold.domain.custom_fields import CustomField, DataType, TargetType
from twofold.storage.database import Connection

_UPSERT = (
    "INSERT INTO custom_fields (pool_id, target_type, key, data_type, definition, created_at, updated_at)"
    " VALUES (:pool, :target, :key, :data_type, :definition, :at, :at)"
    " ON CONFLICT (pool_id, target_type, key) DO UPDATE SET definition = :definition, updated_at = :at"
)


def _field(row: Mapping[str, Any]) -> CustomField:
    doc = orjson.loads(row["definition"])
    return CustomField(
        target_type=TargetType(row["target_type"]),
        key=row["key"],
        data_type=DataType(row["data_type"]),
        label=doc.get("label", row["key"]),
        description=doc.get("description"),
        encrypted=bool(doc.get("encrypted", False)),
        is_unique=bool(doc.get("isUnique", False)),
        user_editable=bool(doc.get("userEditable", False)),
        visible_in_admin_console=bool(doc.get("visibleInAdminConsole", True)),
        visible_in_user_center=bool(doc.get("visibleInUserCenter", False)),
        options=tuple((o[0], o[1]) for o in doc.get("options", [])),
        created_at=row["created_at"],
    )


def _document(field: CustomField) -> str:
    return orjson.dumps(
        {
            "label": field.label,
            "description": field.description,
            "encrypted": field.encrypted,
            "isUnique": field.is_unique,
            "userEditable": field.user_editable,
            "visibleInAdminConsole": field.visible_in_admin_console,
            "visibleInUserCenter": field.visible_in_user_center,
            "options": [list(o) for o in field.options],
        }
    ).decode()


async def list_fields(conn: Connection, pool_id: str, target: TargetType) -> list[CustomField]:
    rows = await conn.fetch_all(
        "SELECT * FROM custom_fields WHERE pool_id = :pool AND target_type = :target ORDER BY created_at, key",
        {"pool": pool_id, "target": str(target)},
    )
    return [_field(r) for r in rows]


async def definitions(conn: Connection, pool_id: str, target: TargetType) -> dict[str, CustomField]:
    return {f.key: f for f in await list_fields(conn, pool_id, target)}


async def upsert(conn: Connection, pool_id: str, field: CustomField, at: int) -> None:
    """Create the field, or change its description; key and data type never change once set."""
    await conn.execute(
        _UPSERT,
        {
            "pool": pool_id,
            "target": str(field.target_type),
            "key": field.key,
            "data_type": str(field.data_type),
            "definition": _document(field),
            "at": at,
        },
    )
