"""Wire schemas of the user directory (docs/wire.md#user-endpoints, #user-dto)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import Field

from twofold.domain.users import UserStatus
from twofold.schemas.common import (
    CountryCodeText,
    EmailText,
    EpochSeconds,
    Flag,
    Int64,
    LongText,
    PageNumber,
    PageSize,
    PhoneText,
    ShortText,
    Text,
    UserRefText,
    WireModel,
    WordText,
)
from twofold.schemas.mfa import MfaTriggerDataInput

Gender = Literal["M", "F", "U"]




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
    custom_data: dict[str, Any] | None = None
    metadata_source: dict[str, Any] | None = None


class OtpInput(WireModel):
    secret: ShortText
    recovery_code: ShortText | None = None


class IdentityInput(WireModel):
    ext_idp_id: ShortText
    provider: WordText
    type: WordText = "generic"
    user_id_in_idp: ShortText
    user_info_in_idp: dict[str, Any] = Field(default_factory=dict)
    origin_conn_ids: list[ShortText] = Field(default_factory=list, max_length=100)


class SyncRelationInput(WireModel):
    """Twofold extension: ``provider`` (e.g. ``lark``) and the user's id there."""

    provider: WordText
    user_id_in_idp: ShortText


class CreateUserOptions(WireModel):
    keep_password: bool | None = None
    auto_generate_password: bool | None = None
    reset_password_on_first_login: bool | None = None
    password_encrypt_type: Literal["none", "rsa", "sm2"] | None = None


class CreateUserInfo(ProfileFields):
    status: UserStatus | None = None
    email: EmailText | None = None
    phone: PhoneText | None = None
    phone_country_code: CountryCodeText | None = None
    username: ShortText | None = None
    external_id: ShortText | None = None
    password: LongText | None = None
    salt: ShortText | None = None
    tenant_ids: Annotated[list[ShortText], Field(max_length=100)] | None = None
    department_ids: Annotated[list[ShortText], Field(max_length=100)] | None = None
    otp: OtpInput | None = None
    identities: Annotated[list[IdentityInput], Field(max_length=100)] | None = None
    sync_relations: Annotated[list[SyncRelationInput], Field(max_length=100)] | None = None
    mfa_trigger_data: MfaTriggerDataInput | None = None  # Twofold extension: the initial MFA status


class CreateUserRequest(CreateUserInfo):
    options: CreateUserOptions | None = None


class CreateUsersBatchRequest(WireModel):
    items: list[CreateUserInfo] = Field(alias="list", max_length=1000)
    options: CreateUserOptions | None = None


class UpdateUserOptions(WireModel):
    user_id_type: WordText | None = None
    reset_password_on_first_login: bool | None = None
    reset_password_on_next_login: bool | None = None
    password_encrypt_type: Literal["none", "rsa", "sm2"] | None = None
    auto_generate_password: bool | None = None


class UpdateUserInfo(ProfileFields):
    user_id: UserRefText
    status: UserStatus | None = None
    email: EmailText | None = None
    phone: PhoneText | None = None
    phone_country_code: CountryCodeText | None = None
    username: ShortText | None = None
    external_id: ShortText | None = None
    password: LongText | None = None
    metadata: dict[str, Any] | None = None
    sync_relations: Annotated[list[SyncRelationInput], Field(max_length=100)] | None = None


class UpdateUserRequest(UpdateUserInfo):
    options: UpdateUserOptions | None = None


class UpdateUsersBatchRequest(WireModel):
    items: list[UpdateUserInfo] = Field(alias="list", max_length=1000)


class DeleteUsersOptions(WireModel):
    user_id_type: WordText | None = None


class DeleteUsersBatchRequest(WireModel):
    user_ids: Annotated[list[UserRefText], Field(max_length=1000)] | None = None
    options: DeleteUsersOptions | None = None


class IsUserExistsRequest(WireModel):
    username: ShortText | None = None
    email: EmailText | None = None
    phone: PhoneText | None = None
    external_id: ShortText | None = None


class LinkIdentityRequest(WireModel):
    user_id_in_idp: ShortText
    user_id: ShortText
    ext_idp_id: ShortText
    type: WordText | None = None
    is_social: bool | None = None


class UnlinkIdentityRequest(WireModel):
    user_id: ShortText
    ext_idp_id: ShortText
    type: WordText | None = None
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
    page: PageNumber = 1
    limit: PageSize = 10


class Sorting(WireModel):
    field: ShortText
    order: Literal["asc", "desc"] = "desc"


class ListUsersOptions(WireModel):
    pagination: Pagination | None = None
    sort: Annotated[list[Sorting], Field(max_length=10)] | None = None
    fuzzy_search_on: Annotated[list[ShortText], Field(max_length=50)] | None = None
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
    user_id: UserRefText | None = None
    user_id_type: WordText | None = None


class GetUserQuery(UserRefQuery):
    with_custom_data: Flag = None
    flat_custom_data: Flag = None
    with_identities: Flag = None
    with_post: Flag = None
    with_department_ids: Flag = None


class GetUserBatchQuery(WireModel):
    user_ids: Annotated[list[UserRefText], Field(max_length=100)] | None = None
    user_id_type: WordText | None = None
    with_custom_data: Flag = None
    flat_custom_data: Flag = None
    with_identities: Flag = None
    with_department_ids: Flag = None


class ListUsersQuery(WireModel):
    page: PageNumber = 1
    limit: PageSize = 10
    status: UserStatus | None = None
    updated_at_start: EpochSeconds | None = None
    updated_at_end: EpochSeconds | None = None
    with_custom_data: Flag = None
    with_identities: Flag = None
    with_post: Flag = None
    with_department_ids: Flag = None


class LoginHistoryQuery(UserRefQuery):
    app_id: ShortText | None = None
    client_ip: ShortText | None = None
    start: Int64 | None = None
    end: Int64 | None = None
    page: PageNumber = 1
    limit: PageSize = 10
