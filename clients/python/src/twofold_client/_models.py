"""Typed arguments and results: snake_case in Python, camelCase on the wire (pydantic aliases).

Result models accept fields they do not know (a newer server never breaks an older client); such
fields are kept, under their wire names, in ``model.model_extra``. That is also where a user read with
``flat_custom_data=True`` carries its flattened custom fields.
"""

from __future__ import annotations

import builtins
from datetime import datetime
from enum import StrEnum
from typing import Any, Generic, TypeVar

from pydantic import BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel

T = TypeVar("T")


class UserIdType(StrEnum):
    """How a ``user_id`` argument is interpreted (docs/wire.md#user-id-types)."""

    USER_ID = "user_id"
    """The internal user id (the default)."""
    USERNAME = "username"
    EMAIL = "email"
    """Case-insensitive."""
    PHONE = "phone"
    """The national number, without country code."""
    EXTERNAL_ID = "external_id"
    IDENTITY = "identity"
    """``<extIdpId>:<userIdInIdp>`` of a linked external identity."""
    SYNC_RELATION = "sync_relation"
    """``<provider>:<userIdInIdp>``, see ``set_sync_relation``."""


class Factor(StrEnum):
    """The MFA factors: the whole vocabulary the server accepts."""

    OTP = "OTP"
    SMS = "SMS"
    EMAIL = "EMAIL"
    FACE = "FACE"


class _Input(BaseModel):
    """An argument model: build it with snake_case names (camelCase also accepted)."""

    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="ignore")


class _Result(BaseModel):
    """A result model: unknown wire fields are kept in ``model_extra``, never an error."""

    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="allow")


# ------------------------------------------------------------------------------------------ MFA
class ApplicationMfa(_Input):
    """One policy entry of a user's MFA status (``ApplicationMfaDto``)."""

    mfa_policy: Factor
    status: int
    """1 = the factor is on for the user, 0 = off."""
    sort: int
    """Challenge order (ascending)."""


class MfaTriggerData(_Input):
    """What ``set_users_mfa_status`` stores for a user (``GetMfaInfoDataDto``); a write replaces it all.

    ``mfa_token``: ``set_users_mfa_status`` needs a non-empty one (GenAuth's wire format requires it)
    but Twofold never stores it, so any placeholder does; ``create_user(mfa_trigger_data=...)`` does not
    need it. ``nickname``, ``username``, ``phone`` and ``phone_country_code`` are an echo of the user
    record: if you send them they must match it (change them with ``update_user``).

    ``application_mfa`` is the policy: what a sign-in challenges, in ``sort`` order.
    ``totp_mfa_enabled``/``face_mfa_enabled`` say whether the user is already enrolled (``False`` with
    OTP required: the sign-in enrols an authenticator); left out, ``totp_mfa_enabled`` is whether a TOTP
    secret is bound. A flag never adds a challenge, and never stands in for a missing secret.
    """

    mfa_token: str | None = None
    application_mfa: list[ApplicationMfa] = Field(default_factory=list)
    mfa_phone: str | None = None
    mfa_phone_country_code: str | None = None
    mfa_email: str | None = None
    nickname: str | None = None
    username: str | None = None
    phone: str | None = None
    phone_country_code: str | None = None
    face_mfa_enabled: bool | None = None
    totp_mfa_enabled: bool | None = None


class MfaStatus(MfaTriggerData):
    """A user's stored MFA status as read back, plus Twofold's ``version`` (0 = never set).

    Pass ``version`` to ``set_users_mfa_status`` to make the write fail with
    ``VersionConflictError`` if someone else wrote in between. ``mfa_token`` reads back as ``""``: set
    one before writing the status back.
    """

    model_config = ConfigDict(extra="allow")

    version: int = 0


class UserMfaInfo(_Result):
    """Which factors the user can use right now: each is ``"enabled"`` or ``"disabled"``."""

    totp_status: str
    face_mfa_status: str
    sms_mfa_status: str
    email_mfa_status: str


class MfaSettings(_Result):
    """The enabled factors of the user pool or of one application."""

    enabled_factors: list[Factor]


class OtpData(_Input):
    """A TOTP authenticator: base32 ``secret`` (80-1024 bits) and an optional recovery code."""

    secret: str
    recovery_code: str | None = None


class ImportOtpItem(_Input):
    """One entry of ``import_otp``: the internal ``user_id`` and the authenticator to bind."""

    user_id: str
    otp: OtpData


# ---------------------------------------------------------------------------------------- users
class Identity(_Result):
    """An external identity linked to a user (``IdentityDto``)."""

    identity_id: str
    ext_idp_id: str
    provider: str
    type: str
    user_id_in_idp: str
    user_info_in_idp: dict[str, Any] = Field(default_factory=dict)
    origin_conn_ids: list[str] = Field(default_factory=list)
    access_token: str | None = None
    refresh_token: str | None = None


class User(_Result):
    """A user (``UserDto``)."""

    user_id: str
    status: str | None = None
    """``Activated``, ``Suspended``, ``Deactivated``, ``Resigned`` or ``Archived``."""
    created_at: datetime | None = None
    updated_at: datetime | None = None
    work_status: str | None = None
    external_id: str | None = None
    email: str | None = None
    phone: str | None = None
    phone_country_code: str | None = None
    username: str | None = None
    name: str | None = None
    nickname: str | None = None
    photo: str | None = None
    logins_count: int | None = None
    last_login: datetime | None = None
    last_ip: str | None = None
    gender: str | None = None
    email_verified: bool | None = None
    phone_verified: bool | None = None
    password_last_set_at: datetime | None = None
    birthdate: str | None = None
    country: str | None = None
    province: str | None = None
    city: str | None = None
    address: str | None = None
    street_address: str | None = None
    postal_code: str | None = None
    company: str | None = None
    browser: str | None = None
    device: str | None = None
    given_name: str | None = None
    family_name: str | None = None
    middle_name: str | None = None
    profile: str | None = None
    preferred_username: str | None = None
    website: str | None = None
    zoneinfo: str | None = None
    locale: str | None = None
    formatted: str | None = None
    region: str | None = None
    user_source_type: str | None = None
    user_source_id: str | None = None
    last_login_app: str | None = None
    main_department_id: str | None = None
    last_mfa_time: datetime | None = None
    password_security_level: int | None = None
    reset_password_on_next_login: bool | None = None
    register_source: list[str] | None = None
    department_ids: list[str] | None = None
    identities: list[Identity] | None = None
    """Present only when requested (``with_identities=True``)."""
    identity_number: str | None = None
    custom_data: dict[str, Any] | None = None
    """Present only when requested (``with_custom_data=True``)."""
    metadata_source: dict[str, Any] | None = None
    post_id_list: list[str] | None = None
    status_changed_at: datetime | None = None
    tenant_id: str | None = None
    tenant_ids: list[str] | None = None
    signed_up: datetime | None = None


class LoginHistoryEntry(_Result):
    """One sign-in outcome of a user (``UserLoginHistoryDto``, with ``LoginHistoryDto``'s members and
    Twofold's ``outcome``: ``success``, ``failure`` or ``mfa_challenge``; ``factor``: the MFA factor
    that completed the sign-in)."""

    user_id: str | None = None
    app_id: str | None = None
    app_name: str | None = None
    app_logo: str | None = None
    app_login_url: str | None = None
    client_ip: str | None = None
    user_agent: str | None = None
    time: str | None = None
    login_at: str | None = None
    success: bool | None = None
    error_message: str | None = None
    login_method: str | None = None
    outcome: str | None = None
    factor: str | None = None


class Page(_Result, Generic[T]):
    """One page of a listing: ``list`` holds the items, ``total_count`` counts all matches."""

    list: builtins.list[T]
    total_count: int


# --------------------------------------------------------------------------------- applications
class Application(_Result):
    """An application (``ApplicationDto``) plus Twofold's ``mfa_enabled_factors``."""

    app_id: str
    app_name: str
    app_identifier: str | None = None
    app_logo: str | None = None
    app_description: str | None = None
    app_type: str | None = None
    user_pool_id: str | None = None
    is_integrate_app: bool = False
    template: str | None = None
    default_protocol: str | None = None
    redirect_uris: list[str] = Field(default_factory=list)
    logout_redirect_uris: list[str] = Field(default_factory=list)
    init_login_uri: str | None = None
    sso_enabled: bool = False
    sso_enabled_at: datetime | None = None
    login_config: dict[str, Any] = Field(default_factory=dict)
    register_config: dict[str, Any] = Field(default_factory=dict)
    branding_config: dict[str, Any] = Field(default_factory=dict)
    oidc_config: dict[str, Any] = Field(default_factory=dict)
    saml_provider_enabled: bool = False
    saml_config: dict[str, Any] | None = None
    oauth_provider_enabled: bool = False
    oauth_config: dict[str, Any] | None = None
    cas_provider_enabled: bool = False
    cas_config: dict[str, Any] | None = None
    custom_branding_enabled: bool = False
    custom_security_enabled: bool = False
    mfa_enabled_factors: list[Factor] | None = None
    """The factors this application offers (Twofold extension); ``None`` = inherits the pool's."""
    app_secret: str | None = None
    """Only in the answer of ``create_application`` (Twofold extension): the client secret, shown once."""


# ---------------------------------------------------------------------------------------- audit
class AuditEvent(_Result):
    """One change recorded in Twofold's audit trail (secrets redacted in ``before``/``after``)."""

    id: int
    at: datetime
    action: str
    """E.g. ``mfa.status.set``, ``user.create``, ``otp.import``, ``otp.secret.read``."""
    actor: str | None = None
    """The access key id that made the change."""
    request_id: str | None = None
    client_ip: str | None = None
    user_id: str | None = None
    before: Any = None
    after: Any = None


# ------------------------------------------------------------------------------- MFA lockout
class MfaFactorLock(_Result):
    """One factor's failed verifications and lock (Twofold extension)."""

    factor: Factor
    failures: int
    """Consecutive failures since the last success, unlock or reset."""
    locked: bool
    """Whether the factor is locked now (to the user a lock looks like a wrong code)."""
    locked_until: datetime | None = None
    """When the lock ends (only while ``locked``)."""
    last_failure_at: datetime | None = None


class MfaLockStatus(_Result):
    """``get_mfa_lock_status``: every factor of one user."""

    user_id: str
    factors: builtins.list[MfaFactorLock]


class MfaResetResult(_Result):
    """``reset_mfa_factor``: which factors were reset, and whether an authenticator was removed."""

    success: bool = True
    user_id: str
    factors: builtins.list[Factor]
    otp_removed: bool


class SetMfaStatusResult(_Result):
    success: bool = True
    version: int
