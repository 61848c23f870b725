"""Wire models of the user directory turned into the domain commands the services take."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

from twofold.domain.commands import (
    CreateUserInput,
    CreateUserOptionsInput,
    CustomFieldInput,
    FilterInput,
    IdentityInput,
    ListUsersInput,
    OtpInput,
    SortInput,
    SyncRelationInput,
    UpdateUserInput,
    UserFieldsInput,
)
from twofold.domain.users import PROFILE_FIELDS
from twofold.schemas.custom_fields import CustomFieldItem
from twofold.schemas.users import (
    CreateUserInfo,
    CreateUserOptions,
    ListUsersRequest,
    UpdateUserInfo,
)
from twofold.schemas.users import (
    IdentityInput as IdentityWire,
)
from twofold.schemas.users import (
    SyncRelationInput as SyncRelationWire,
)


def _given(model: BaseModel) -> frozenset[str]:
    fields = type(model).model_fields
    return frozenset(fields[name].alias or name for name in model.model_fields_set)


def _sync_relations(items: list[SyncRelationWire] | None) -> tuple[SyncRelationInput, ...]:
    return tuple(SyncRelationInput(r.provider, r.user_id_in_idp) for r in items or [])


def user_fields(item: CreateUserInfo | UpdateUserInfo) -> UserFieldsInput:
    data: dict[str, Any] = item.model_dump(by_alias=True, exclude_unset=True)
    return UserFieldsInput(
        given=_given(item),
        status=str(item.status) if item.status is not None else None,
        email=item.email,
        phone=item.phone,
        phone_country_code=item.phone_country_code,
        username=item.username,
        external_id=item.external_id,
        name=item.name,
        nickname=item.nickname,
        password=item.password,
        profile={key: data[key] for key in PROFILE_FIELDS if key in data},
        custom_data=item.custom_data,
        sync_relations=_sync_relations(item.sync_relations),
    )


def _identity(ident: IdentityWire) -> IdentityInput:
    return IdentityInput(
        ext_idp_id=ident.ext_idp_id,
        provider=ident.provider,
        user_id_in_idp=ident.user_id_in_idp,
        type=ident.type or "generic",
        user_info_in_idp=dict(ident.user_info_in_idp),
        origin_conn_ids=tuple(ident.origin_conn_ids),
    )


def create_user_input(item: CreateUserInfo) -> CreateUserInput:
    return CreateUserInput(
        fields=user_fields(item),
        otp=OtpInput(item.otp.secret, item.otp.recovery_code) if item.otp is not None else None,
        identities=tuple(_identity(i) for i in item.identities or []),
        mfa_trigger_data=item.mfa_trigger_data.to_command() if item.mfa_trigger_data is not None else None,
    )


def create_options(options: CreateUserOptions | None) -> CreateUserOptionsInput:
    if options is None:
        return CreateUserOptionsInput()
    return CreateUserOptionsInput(
        keep_password=bool(options.keep_password),
        auto_generate_password=bool(options.auto_generate_password),
        reset_password_on_first_login=bool(options.reset_password_on_first_login),
        password_encrypt_type=options.password_encrypt_type,
    )


def update_user_input(item: UpdateUserInfo) -> UpdateUserInput:
    return UpdateUserInput(user_id=item.user_id, fields=user_fields(item))


def list_users_input(request: ListUsersRequest) -> ListUsersInput:
    options = request.options
    pagination = options.pagination if options else None
    return ListUsersInput(
        keywords=request.keywords,
        filters=tuple(FilterInput(f.field, f.operator, f.value) for f in request.advanced_filter or []),
        sort=tuple(SortInput(s.field, s.order) for s in (options.sort if options else None) or []),
        fuzzy_search_on=tuple(options.fuzzy_search_on) if options and options.fuzzy_search_on else None,
        page=pagination.page if pagination else 1,
        limit=pagination.limit if pagination else 10,
        with_identities=bool(options and options.with_identities),
    )


def custom_field_input(item: CustomFieldItem) -> CustomFieldInput:
    return CustomFieldInput(
        target_type=item.target_type,
        key=item.key,
        data_type=item.data_type,
        label=item.label,
        description=item.description,
        encrypted=item.encrypted,
        is_unique=item.is_unique,
        user_editable=item.user_editable,
        visible_in_admin_console=item.visible_in_admin_console,
        visible_in_user_center=item.visible_in_user_center,
        options=tuple((o.value, o.label) for o in item.options) if item.options is not None else None,
    )
