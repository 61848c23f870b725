"""Wire schemas of the user directory (docs/wire.md#user-endpoints, #user-dto)."""

from __future__ import annotations

import math
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, Field

from twofold.domain.user_queries import MAX_PAGE, MAX_PAGE_SIZE
from twofold.domain.users import UserStatus
from twofold.schemas.common import EmailText, Flag, LongText, ShortText, Text, WireModel
from twofold.schemas.mfa import MfaTriggerDataInput

Gender = Literal["M", "F", "U"]


def _finite(value: Any) -> Any:
    """JSON documents kept as given must be JSON: NaN and Infinity (which Python's parser lets in) are not."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, float) and not math.isfinite(item):
            raise ValueError("numbers must be finite")
        if isinstance(item, dict):
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return value


JsonValue = Annotated[Any, AfterValidator(_finite)]
JsonObject = Annotated[dict[str, Any], AfterValidator(_finite)]


class ProfileFields(WireModel):
    """The profile attributes shared by create and update requests."""

    name: ShortText | None = None
    nickname: ShortText | None = None
    photo: Text | None = None
    gender: Gender | None = None
    email_verified: bool | None = None
    phone_verified: bool | None = None
    birthdate: ShortText | None = None
    country: ShortText | None = None
    province: ShortText | None = None
    city: ShortText | None = None
    address: Text | None = None
    street_address: Text | None = None
    postal_code: ShortText | None = None
    company: ShortText | None = None
    browser: Text | None = None
    device: ShortText | None = None
    given_name: ShortText | None = None
    family_name: ShortText | None = None
    middle_name: ShortText | None = None
    profile: Text | None = None
    preferred_username: ShortText | None = None
    website: Text | None = None
    zoneinfo: ShortText | None = None
    locale: ShortText | None = None
    formatted: Text | None = None
    region: ShortText | None = None
    identity_number: ShortText | None = None
    custom_data: JsonObject | None = None
    metadata_source: JsonObject | None = None


class OtpInput(WireModel):
    secret: ShortText
    recovery_code: ShortText | None = None


class IdentityInput(WireModel):
    ext_idp_id: ShortText
    provider: ShortText
    type: ShortText = "generic"
    user_id_in_idp: ShortText
    user_info_in_idp: JsonObject = Field(default_factory=dict)
    origin_conn_ids: list[ShortText] = Field(default_factory=list)


class SyncRelationInput(WireModel):
    """Twofold extension: ``provider`` (e.g. ``lark``) and the user's id there."""

    provider: ShortText
    user_id_in_idp: ShortText


class CreateUserOptions(WireModel):
    keep_password: bool | None = None
    auto_generate_password: bool | None = None
    reset_password_on_first_login: bool | None = None
    password_encrypt_type: Literal["none", "rsa", "sm2"] | None = None


class CreateUserInfo(ProfileFields):
    status: UserStatus | None = None
    email: EmailText | None = None
    phone: ShortText | None = None
    phone_country_code: ShortText | None = None
    username: ShortText | None = None
    external_id: ShortText | None = None
    password: LongText | None = None
    salt: ShortText | None = None
    tenant_ids: list[ShortText] | None = None
    department_ids: list[ShortText] | None = None
    otp: OtpInput | None = None
    identities: list[IdentityInput] | None = None
    sync_relations: list[SyncRelationInput] | None = None
    mfa_trigger_data: MfaTriggerDataInput | None = None  # Twofold extension: the initial MFA status


class CreateUserRequest(CreateUserInfo):
    options: CreateUserOptions | None = None


class CreateUsersBatchRequest(WireModel):
    items: list[CreateUserInfo] = Field(alias="list", max_length=1000)
    options: CreateUserOptions | None = None


class UpdateUserOptions(WireModel):
    user_id_type: ShortText | None = None
    reset_password_on_first_login: bool | None = None
    reset_password_on_next_login: bool | None = None
    password_encrypt_type: Literal["none", "rsa", "sm2"] | None = None
    auto_generate_password: bool | None = None


class UpdateUserInfo(ProfileFields):
    user_id: ShortText
    status: UserStatus | None = None
    email: EmailText | None = None
    phone: ShortText | None = None
    phone_country_code: ShortText | None = None
    username: ShortText | None = None
    external_id: ShortText | None = None
    password: LongText | None = None
    metadata: JsonObject | None = None
    sync_relations: list[SyncRelationInput] | None = None


class UpdateUserRequest(UpdateUserInfo):
    options: UpdateUserOptions | None = None


class UpdateUsersBatchRequest(WireModel):
    items: list[UpdateUserInfo] = Field(alias="list", max_length=1000)


class DeleteUsersOptions(WireModel):
    user_id_type: ShortText | None = None


class DeleteUsersBatchRequest(WireModel):
    user_ids: list[ShortText] | None = None
    options: DeleteUsersOptions | None = None


class IsUserExistsRequest(WireModel):
    username: ShortText | None = None
    email: EmailText | None = None
    phone: ShortText | None = None
    external_id: ShortText | None = None


class LinkIdentityRequest(WireModel):
    user_id_in_idp: ShortText
    user_id: ShortText
    ext_idp_id: ShortText
    type: ShortText | None = None
    is_social: bool | None = None


class UnlinkIdentityRequest(WireModel):
    user_id: ShortText
    ext_idp_id: ShortText
    type: ShortText | None = None
    is_social: bool | None = None


class AdvancedFilter(WireModel):
    field: ShortText
    operator: Literal[
        "EQUAL",
        "NOT_EQUAL",
        "CONTAINS",
        "NOT_CONTAINS",
        "IS_NULL",
        "NOT_NULL",
        "IN",
        "GREATER",
        "LESSER",
        "BETWEEN",
    ]
    value: Any = None


class Pagination(WireModel):
    page: int = Field(default=1, ge=1, le=MAX_PAGE)
    limit: int = Field(default=10, ge=1, le=MAX_PAGE_SIZE)


class Sorting(WireModel):
    field: ShortText
    order: Literal["asc", "desc"] = "desc"


class ListUsersOptions(WireModel):
    pagination: Pagination | None = None
    sort: list[Sorting] | None = None
    fuzzy_search_on: list[ShortText] | None = None
    with_custom_data: bool | None = None
    with_identities: bool | None = None
    with_post: bool | None = None
    with_department_ids: bool | None = None
    flat_custom_data: bool | None = None


class ListUsersRequest(WireModel):
    keywords: ShortText | None = None
    advanced_filter: list[AdvancedFilter] | None = Field(default=None, max_length=50)
    search_query: Any = None
    options: ListUsersOptions | None = None


# ---------------------------------------------------------------------------------------- queries
class UserRefQuery(WireModel):
    user_id: str | None = None
    user_id_type: str | None = None


class GetUserQuery(UserRefQuery):
    with_custom_data: Flag = None
    flat_custom_data: Flag = None
    with_identities: Flag = None
    with_post: Flag = None
    with_department_ids: Flag = None


class GetUserBatchQuery(WireModel):
    user_ids: list[str] | None = None
    user_id_type: str | None = None
    with_custom_data: Flag = None
    flat_custom_data: Flag = None
    with_identities: Flag = None
    with_department_ids: Flag = None


class ListUsersQuery(WireModel):
    page: int = Field(default=1, ge=1, le=MAX_PAGE)
    limit: int = Field(default=10, ge=1, le=MAX_PAGE_SIZE)
    status: UserStatus | None = None
    updated_at_start: int | None = None
    updated_at_end: int | None = None
    with_custom_data: Flag = None
    with_identities: Flag = None
    with_post: Flag = None
    with_department_ids: Flag = None


class LoginHistoryQuery(UserRefQuery):
    app_id: str | None = None
    client_ip: str | None = None
    start: int | None = None
    end: int | None = None
    page: int = Field(default=1, ge=1, le=MAX_PAGE)
    limit: int = Field(default=10, ge=1, le=MAX_PAGE_SIZE)
