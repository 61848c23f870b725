"""Keyword arguments of the wide calls (``create_user``, ``update_user``, ``create_application``).

Each TypedDict lists the GenAuth SDK's snake_case argument names once; the client methods take them as
``**fields: Unpack[...]``, so type checkers know every name and type, and the builders in
``_operations.py`` turn each name into its camelCase wire key. ``None`` means "not sent", as in the
GenAuth SDK. Nested mappings (``options``, ``custom_data``, ...) are sent as given: use wire
(camelCase) keys inside them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, TypedDict

from twofold_client._models import MfaTriggerData, OtpData


class _ProfileFields(TypedDict, total=False):
    phone_country_code: str | None
    name: str | None
    nickname: str | None
    photo: str | None
    external_id: str | None
    status: str | None
    email_verified: bool | None
    phone_verified: bool | None
    birthdate: str | None
    country: str | None
    province: str | None
    city: str | None
    address: str | None
    street_address: str | None
    postal_code: str | None
    gender: str | None
    username: str | None
    email: str | None
    phone: str | None
    password: str | None
    company: str | None
    browser: str | None
    device: str | None
    given_name: str | None
    family_name: str | None
    middle_name: str | None
    profile: str | None
    preferred_username: str | None
    website: str | None
    zoneinfo: str | None
    locale: str | None
    formatted: str | None
    region: str | None
    identity_number: str | None
    custom_data: Mapping[str, Any] | None
    sync_relations: Sequence[Mapping[str, Any]] | None  # Twofold: [{"provider": ..., "userIdInIdp": ...}]
    options: Mapping[str, Any] | None


class CreateUserFields(_ProfileFields, total=False):
    """Arguments of ``create_user`` (all optional; one of username, email, phone is needed)."""

    salt: str | None
    tenant_ids: Sequence[str] | None
    otp: OtpData | Mapping[str, Any] | None
    metadata_source: Mapping[str, Any] | None
    identities: Sequence[Mapping[str, Any]] | None
    mfa_trigger_data: (
        MfaTriggerData | Mapping[str, Any] | None
    )  # Twofold: initial MFA status, same transaction


class UpdateUserFields(_ProfileFields, total=False):
    """Arguments of ``update_user`` besides ``user_id``; ``options={"userIdType": ...}`` selects the id type."""


class CreateApplicationFields(TypedDict, total=False):
    """Arguments of ``create_application`` besides ``app_name``."""

    template: str | None
    template_data: Any
    app_identifier: str | None
    app_logo: str | None
    app_description: str | None
    app_type: str | None
    default_protocol: str | None
    redirect_uris: Sequence[str] | None
    logout_redirect_uris: Sequence[str] | None
    init_login_uri: str | None
    sso_enabled: bool | None
    oidc_config: Mapping[str, Any] | None
    saml_provider_enabled: bool | None
    saml_config: Mapping[str, Any] | None
    oauth_provider_enabled: bool | None
    oauth_config: Mapping[str, Any] | None
    cas_provider_enabled: bool | None
    cas_config: Mapping[str, Any] | None
    login_config: Mapping[str, Any] | None
    register_config: Mapping[str, Any] | None
    branding_config: Mapping[str, Any] | None
