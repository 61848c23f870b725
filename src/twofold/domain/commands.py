"""Input commands: what a caller asks a service to do, as plain typed values (no wire models).

Routers turn wire models (``twofold.schemas``) into these; services take nothing else.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class PolicyInput:
    """One ``applicationMfa`` entry as the caller sent it (validated by the service)."""

    mfa_policy: str
    status: int
    sort: int


@dataclass(frozen=True)
class TriggerDataInput:
    """``mfaTriggerData`` as the caller sent it: the new MFA status plus profile fields it may echo."""

    application_mfa: tuple[PolicyInput, ...] = ()
    mfa_token: str | None = None
    mfa_phone: str | None = None
    mfa_phone_country_code: str | None = None
    mfa_email: str | None = None
    nickname: str | None = None
    username: str | None = None
    phone: str | None = None
    phone_country_code: str | None = None
    face_mfa_enabled: bool | None = None
    totp_mfa_enabled: bool | None = None


@dataclass(frozen=True)
class OtpInput:
    """A TOTP authenticator to bind: its secret and, optionally, its recovery code."""

    secret: str
    recovery_code: str | None = None


@dataclass(frozen=True)
class OtpImportInput:
    """One ``import-otp`` item: the internal user id and the authenticator to bind."""

    user_id: str
    otp: OtpInput


# ------------------------------------------------------------------------------------ user directory


@dataclass(frozen=True)
class CreateApplicationInput:
    """``create-application`` as the caller sent it (validated by the service)."""

    app_name: str
    app_identifier: str | None = None
    app_logo: str | None = None
    app_description: str | None = None
    app_type: str | None = None
    default_protocol: str | None = None
    redirect_uris: tuple[str, ...] = ()
    logout_redirect_uris: tuple[str, ...] = ()
    init_login_uri: str | None = None
    template: str | None = None


@dataclass(frozen=True)
class IdentityInput:
    """An external identity to link: the IdP connection and the user's id there."""

    ext_idp_id: str
    provider: str
    user_id_in_idp: str
    type: str = "generic"
    user_info_in_idp: Mapping[str, Any] = field(default_factory=dict)
    origin_conn_ids: tuple[str, ...] = ()


@dataclass(frozen=True)
class SyncRelationInput:
    provider: str
    user_id_in_idp: str


@dataclass(frozen=True)
class UserFieldsInput:
    """The user attributes a create or an update carries.

    ``given`` holds the wire names the caller sent (``email``, ``phoneCountryCode``, ...), so that an
    update tells "leave as is" (absent) from "clear" (sent as null).  ``profile`` maps the wire names of
    the profile attributes sent to their values.
    """

    given: frozenset[str] = frozenset()
    status: str | None = None
    email: str | None = None
    phone: str | None = None
    phone_country_code: str | None = None
    username: str | None = None
    external_id: str | None = None
    name: str | None = None
    nickname: str | None = None
    password: str | None = None
    profile: Mapping[str, Any] = field(default_factory=dict)
    custom_data: Mapping[str, Any] | None = None
    sync_relations: tuple[SyncRelationInput, ...] = ()


@dataclass(frozen=True)
class CreateUserInput:
    fields: UserFieldsInput
    otp: OtpInput | None = None
    identities: tuple[IdentityInput, ...] = ()
    mfa_trigger_data: TriggerDataInput | None = None  # Twofold extension: the initial MFA status


@dataclass(frozen=True)
class CreateUserOptionsInput:
    keep_password: bool = False
    auto_generate_password: bool = False
    reset_password_on_first_login: bool = False
    password_encrypt_type: str | None = None


@dataclass(frozen=True)
class UpdateUserInput:
    user_id: str
    fields: UserFieldsInput


@dataclass(frozen=True)
class FilterInput:
    """One ``advancedFilter`` entry as sent (checked by the service against the field's type)."""

    field: str
    operator: str
    value: Any = None


@dataclass(frozen=True)
class SortInput:
    field: str
    order: str = "desc"


@dataclass(frozen=True)
class ListUsersInput:
    keywords: str | None = None
    filters: tuple[FilterInput, ...] = ()
    sort: tuple[SortInput, ...] = ()
    fuzzy_search_on: tuple[str, ...] | None = None
    page: int = 1
    limit: int = 10
    with_identities: bool = False


@dataclass(frozen=True)
class CustomFieldInput:
    """One ``set-custom-fields`` entry: the definition of a custom field."""

    target_type: str
    key: str
    data_type: str | None = None
    label: str | None = None
    description: str | None = None
    encrypted: bool | None = None
    is_unique: bool | None = None
    user_editable: bool | None = None
    visible_in_admin_console: bool | None = None
    visible_in_user_center: bool | None = None
    options: tuple[tuple[str, str], ...] | None = None  # (value, label)
