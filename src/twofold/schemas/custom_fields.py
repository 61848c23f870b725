"""Wire schemas of the custom field endpoints (set-custom-fields, get-custom-fields, set/get-custom-data)."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from twofold.domain.custom_fields import MAX_DEFINITIONS_PER_CALL
from twofold.schemas.common import ShortText, Text, WireModel


class CustomFieldOption(WireModel):
    value: ShortText
    label: ShortText


class CustomFieldItem(WireModel):
    target_type: ShortText
    key: ShortText
    data_type: ShortText | None = None
    label: ShortText | None = None
    description: Text | None = None
    encrypted: bool | None = None
    is_unique: bool | None = None
    user_editable: bool | None = None
    visible_in_admin_console: bool | None = None
    visible_in_user_center: bool | None = None
    options: list[CustomFieldOption] | None = Field(default=None, max_length=200)


class SetCustomFieldsRequest(WireModel):
    items: list[CustomFieldItem] = Field(alias="list", max_length=MAX_DEFINITIONS_PER_CALL)
    tenant_id: ShortText | None = None


class CustomFieldsQuery(WireModel):
    target_type: ShortText | None = None
    tenant_id: ShortText | None = None


class CustomDataItem(WireModel):
    key: ShortText
    value: Any = None


class SetCustomDataRequest(WireModel):
    items: list[CustomDataItem] = Field(alias="list", max_length=200)
    target_identifier: ShortText
    target_type: ShortText
    tenant_id: ShortText | None = None
    namespace: ShortText | None = None


class CustomDataQuery(WireModel):
    target_type: ShortText | None = None
    target_identifier: ShortText | None = None
    tenant_id: ShortText | None = None
    namespace: ShortText | None = None
