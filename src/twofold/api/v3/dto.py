"""Domain objects rendered as GenAuth DTOs (camelCase, ISO 8601 times)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from twofold.domain.users import PROFILE_FIELDS, Identity, User
from twofold.services.users import UserView

_TIME_FIELDS = ("passwordLastSetAt",)


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
    view: UserView, with_custom_data: bool = False, flat_custom_data: bool = False
) -> dict[str, Any]:
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
    for key in PROFILE_FIELDS:
        if key not in dto:
            dto[key] = profile.get(key)
    for key in _TIME_FIELDS:
        dto[key] = iso(profile.get(key))
    if dto.get("departmentIds") is None:
        dto.pop("departmentIds")
    if view.identities is not None:
        dto["identities"] = [identity_dto(i) for i in view.identities]
    if with_custom_data:
        dto["customData"] = dict(user.custom_data)
    if flat_custom_data:
        for key, value in user.custom_data.items():
            dto.setdefault(key, value)
    return dto
