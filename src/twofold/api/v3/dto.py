"""Domain objects rendered as GenAuth DTOs (camelCase, ISO 8601 times)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from twofold.domain.custom_fields import CustomField
from twofold.domain.users import PROFILE_FIELDS, Identity, User
from twofold.services.login_history import LoginEntry
from twofold.services.users import UserView

_TIME_FIELDS = ("passwordLastSetAt",)
# UserDto members Twofold does not track (no sign-in history, departments, posts or tenants yet):
# present, and null, as GenAuth returns them for a user who never signed in.
_UNTRACKED = (
    "lastLogin",
    "lastIp",
    "userSourceId",
    "lastLoginApp",
    "mainDepartmentId",
    "lastMfaTime",
    "passwordSecurityLevel",
    "postIdList",
    "tenantId",
)
# Members that appear only when asked for (withDepartmentIds, withIdentities, withCustomData).
_ON_REQUEST = ("departmentIds",)


def iso(ms: int | None) -> str | None:
    if ms is None:
        return None
    return datetime.fromtimestamp(ms / 1000, tz=UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def identity_dto(identity: Identity) -> dict[str, Any]:
    return {
        "identityId": identity.id,
        "extIdpId": identity.ext_idp_id,
        "provider": identity.provider,
        "type": identity.type,
        "userIdInIdp": identity.user_id_in_idp,
        "userInfoInIdp": identity.user_info_in_idp,
        "originConnIds": identity.origin_conn_ids,
    }


def user_dto(
    view: UserView,
    with_custom_data: bool = False,
    flat_custom_data: bool = False,
    with_department_ids: bool = False,
) -> dict[str, Any]:
    """Every documented UserDto member, null when unset; ``customData``, ``departmentIds`` and
    ``identities`` only when asked for."""
    user: User = view.user
    profile = user.profile
    dto: dict[str, Any] = {
        "userId": user.id,
        "createdAt": iso(user.created_at),
        "updatedAt": iso(user.updated_at),
        "status": str(user.status),
        "workStatus": "Active",
        "externalId": user.external_id,
        "email": user.email,
        "phone": user.phone,
        "phoneCountryCode": user.phone_country_code,
        "username": user.username,
        "name": user.name,
        "nickname": user.nickname,
        "loginsCount": user.logins_count,
        "gender": profile.get("gender", "U"),
        "emailVerified": bool(profile.get("emailVerified", False)),
        "phoneVerified": bool(profile.get("phoneVerified", False)),
        "userSourceType": "adminCreated",
        "signedUp": iso(user.created_at),
        "statusChangedAt": iso(user.created_at),
        "resetPasswordOnNextLogin": bool(profile.get("resetPasswordOnNextLogin", False)),
        "registerSource": [],
    }
    for key in _UNTRACKED:
        dto[key] = None
    for key in PROFILE_FIELDS:
        if key not in dto and key not in _ON_REQUEST:
            dto[key] = profile.get(key)
    for key in _TIME_FIELDS:
        dto[key] = iso(profile.get(key))
    if with_department_ids:
        dto["departmentIds"] = list(profile.get("departmentIds") or [])
    if view.identities is not None:
        dto["identities"] = [identity_dto(i) for i in view.identities]
    if with_custom_data:
        dto["customData"] = dict(user.custom_data)
    if flat_custom_data:
        for key, value in user.custom_data.items():
            dto.setdefault(key, value)
    return dto


def custom_field_dto(field: CustomField) -> dict[str, Any]:
    return {
        "targetType": str(field.target_type),
        "createdAt": iso(field.created_at),
        "dataType": str(field.data_type),
        "key": field.key,
        "label": field.label,
        "description": field.description,
        "encrypted": field.encrypted,
        "isUnique": field.is_unique,
        "userEditable": field.user_editable,
        "visibleInAdminConsole": field.visible_in_admin_console,
        "visibleInUserCenter": field.visible_in_user_center,
        "options": [{"value": v, "label": label} for v, label in field.options],
    }


def login_entry_dto(entry: LoginEntry) -> dict[str, Any]:
    """GenAuth's ``LoginHistoryDto`` (get-my-login-history) and ``UserLoginHistoryDto``
    (get-user-login-history) in one item (``time`` = ``loginAt``), plus Twofold's ``outcome`` and
    ``factor``.  Not tracked: ``parsedUserAgent``, ``geoip``, ``tenantId`` (docs/signin.md#login-history)."""
    at = iso(entry.at)
    return {
        "userId": entry.user_id,
        "appId": entry.app_id,
        "appName": entry.app_name or "",
        "appLogo": entry.app_logo,
        "appLoginUrl": entry.app_login_url,
        "loginAt": at,
        "time": at,
        "clientIp": entry.client_ip,
        "userAgent": entry.user_agent,
        "success": entry.success,
        "errorMessage": entry.reason,
        "loginMethod": entry.connection,
        "outcome": entry.outcome,
        "factor": entry.factor,
    }
