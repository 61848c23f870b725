"""The one place that knows each endpoint: method, path, query or JSON body, and how to read ``data``.

Every builder returns an :class:`Operation` and does no I/O; ``ManagementClient`` and
``AsyncManagementClient`` only send it. Wire conventions (what the server's signature check rebuilds):

* query: ``None`` is not sent; booleans are ``true``/``false``; a list is sent as repeated ``key[]=``
  (an empty list is not sent);
* body: top-level ``None`` is not sent; models are dumped by alias without ``None`` members; the body
  is serialised once, as compact JSON without ASCII escaping, and signed from those very bytes.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import Enum
from typing import Any, Generic, TypeVar

import httpx
from pydantic import BaseModel
from pydantic.alias_generators import to_camel

from twofold_client._models import (
    Application,
    AuditEvent,
    Factor,
    Identity,
    ImportOtpItem,
    LoginHistoryEntry,
    MfaLockStatus,
    MfaResetResult,
    MfaSettings,
    MfaStatus,
    MfaTriggerData,
    Page,
    SetMfaStatusResult,
    User,
    UserIdType,
    UserMfaInfo,
)
from twofold_client._params import CreateApplicationFields, CreateUserFields, UpdateUserFields

T = TypeVar("T")
M = TypeVar("M", bound=BaseModel)
Query = tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class Operation(Generic[T]):
    method: str
    path: str
    parse: Callable[[Any], T]
    params: Query = ()
    body: Mapping[str, Any] | None = None
    idempotent: bool = field(default=False)

    def build_request(self, http: httpx.Client | httpx.AsyncClient) -> httpx.Request:
        """A new request each time: a retried request gets a fresh nonce and date when signed."""
        if self.body is None:
            return http.build_request(self.method, self.path, params=self.params or None)
        content = json.dumps(self.body, separators=(",", ":"), ensure_ascii=False).encode()
        return http.build_request(
            self.method,
            self.path,
            params=self.params or None,
            content=content,
            headers={"content-type": "application/json"},
        )


# ------------------------------------------------------------------------------------- helpers
def _get(path: str, parse: Callable[[Any], T], params: Mapping[str, Any] | None = None) -> Operation[T]:
    return Operation("GET", path, parse, params=_query(params or {}), idempotent=True)


def _post(path: str, parse: Callable[[Any], T], body: Mapping[str, Any]) -> Operation[T]:
    return Operation("POST", path, parse, body=_body(body))


def _scalar(value: Any) -> str:
    if isinstance(value, Enum):
        value = value.value
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _query(values: Mapping[str, Any]) -> Query:
    items: list[tuple[str, str]] = []
    for key, value in values.items():
        if value is None:
            continue
        if isinstance(value, list | tuple):
            items.extend((f"{key}[]", _scalar(v)) for v in value)
        else:
            items.append((key, _scalar(value)))
    return tuple(items)


_PLAIN = (str, int, float, bool, type(None))


def _wire(value: Any) -> Any:
    """A JSON-ready value: models by alias (``None`` members dropped), enums by value."""
    kind = type(value)  # exact types first: a bulk body is thousands of plain dicts and strings
    if kind in _PLAIN:
        return value
    if kind is dict:
        return {str(k): _wire(v) for k, v in value.items()}
    if kind is list:
        return [_wire(v) for v in value]
    if isinstance(value, BaseModel):
        return value.model_dump(by_alias=True, exclude_none=True, mode="json")
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, Mapping):
        return {str(k): _wire(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_wire(v) for v in value]
    return value


def _body(values: Mapping[str, Any]) -> dict[str, Any]:
    return {key: _wire(value) for key, value in values.items() if value is not None}


def _fields(name: str, given: Mapping[str, Any], allowed: frozenset[str]) -> dict[str, Any]:
    """snake_case keyword arguments -> camelCase wire keys; an unknown name is a TypeError."""
    unknown = sorted(set(given) - allowed)
    if unknown:
        raise TypeError(f"{name}() got an unexpected keyword argument {unknown[0]!r}")
    return {to_camel(key): value for key, value in given.items()}


def _id_type(value: UserIdType | str | None) -> UserIdType | None:
    return None if value is None else UserIdType(value)


def _factors(values: Iterable[Factor | str] | None) -> list[Factor] | None:
    return None if values is None else [Factor(v) for v in values]


def _factor(value: Factor | str | None) -> Factor | None:
    return None if value is None else Factor(value)


def _ids(values: Sequence[str] | str) -> list[str]:
    if isinstance(values, str):
        return [v for v in values.split(",") if v]
    return list(values)


def _model_list(cls: type[M]) -> Callable[[Any], list[M]]:
    def parse(data: Any) -> list[M]:
        if not isinstance(data, list):
            raise ValueError(f"expected a list of {cls.__name__}, got {type(data).__name__}")
        return [cls.model_validate(item) for item in data]

    return parse


def _field(name: str, kind: type[T]) -> Callable[[Any], T]:
    def parse(data: Any) -> T:
        value = data.get(name) if isinstance(data, dict) else None
        if not isinstance(value, kind):
            raise ValueError(f"expected data.{name} to be {kind.__name__}")
        return value

    return parse


def _new_version(data: Any) -> int:
    return SetMfaStatusResult.model_validate(data).version


def _nothing(data: Any) -> None:
    return None


def _success(data: Any) -> None:
    """``{success: true}``: a refusal arrives as an error envelope, so there is nothing to return."""
    return None


_CREATE_USER_KEYS = frozenset(CreateUserFields.__optional_keys__)
_UPDATE_USER_KEYS = frozenset(UpdateUserFields.__optional_keys__)
_CREATE_APPLICATION_KEYS = frozenset(CreateApplicationFields.__optional_keys__)


# --------------------------------------------------------------------------------------- token
def get_management_token(access_key_id: str, access_key_secret: str) -> Operation[Any]:
    """Idempotent although a POST: it changes nothing on the server."""
    body = {"accessKeyId": access_key_id, "accessKeySecret": access_key_secret}
    return Operation("POST", "/api/v3/get-management-token", lambda data: data, body=body, idempotent=True)


# ----------------------------------------------------------------------------------------- MFA
def set_users_mfa_status(
    mfa_trigger_data: MfaTriggerData | Mapping[str, Any],
    user_id: str,
    user_id_type: UserIdType | str | None = None,
    version: int | None = None,
) -> Operation[int]:
    data = MfaTriggerData.model_validate(mfa_trigger_data)  # also accepts an MfaStatus read back
    trigger = data.model_dump(
        by_alias=True, exclude_none=True, mode="json", include=set(MfaTriggerData.model_fields)
    )
    body = {
        "mfaTriggerData": trigger,
        "userId": user_id,
        "userIdType": _id_type(user_id_type),
        "version": version,
    }
    return _post("/api/v3/set-mfa-status", _new_version, body)


def get_user_mfa_status(user_id: str, user_id_type: UserIdType | str | None = None) -> Operation[MfaStatus]:
    params = {"userId": user_id, "userIdType": _id_type(user_id_type)}
    return _get("/api/v3/get-mfa-status", MfaStatus.model_validate, params)


def get_user_mfa_info(user_id: str, user_id_type: UserIdType | str | None = None) -> Operation[UserMfaInfo]:
    params = {"userId": user_id, "userIdType": _id_type(user_id_type)}
    return _get("/api/v3/get-user-mfa-info", UserMfaInfo.model_validate, params)


def get_mfa_trigger_data(
    app_id: str, user_id: str, user_id_type: UserIdType | str | None = None
) -> Operation[MfaStatus]:
    params = {"appId": app_id, "userId": user_id, "userIdType": _id_type(user_id_type)}
    return _get("/api/v3/get-mfa-trigger-data", MfaStatus.model_validate, params)


def update_application_mfa_settings(
    app_id: str,
    enabled_factors: Iterable[Factor | str] | None = None,
    disabled_factors: Iterable[Factor | str] | None = None,
) -> Operation[MfaSettings]:
    body = {
        "appId": app_id,
        "enabledFactors": _factors(enabled_factors),
        "disabledFactors": _factors(disabled_factors),
    }
    return _post("/api/v3/update-application-mfa-settings", MfaSettings.model_validate, body)


def get_global_mfa_settings() -> Operation[MfaSettings]:
    return _get("/api/v3/get-global-mfa-settings", MfaSettings.model_validate)


def update_global_mfa_settings(enabled_factors: Iterable[Factor | str]) -> Operation[MfaSettings]:
    body = {"enabledFactors": _factors(enabled_factors)}
    return _post("/api/v3/update-global-mfa-settings", MfaSettings.model_validate, body)


def disable_global_mfa_settings(disable_factors: Iterable[Factor | str]) -> Operation[MfaSettings]:
    body = {"disableFactors": _factors(disable_factors)}
    return _post("/api/v3/disable-global-mfa-settings", MfaSettings.model_validate, body)


def import_otp(items: Iterable[ImportOtpItem | Mapping[str, Any]]) -> Operation[None]:
    body = {"list": [ImportOtpItem.model_validate(item) for item in items]}
    return _post("/api/v3/import-otp", _nothing, body)


def get_otp_secret_by_user(user_id: str, user_id_type: UserIdType | str | None = None) -> Operation[str]:
    params = {"userId": user_id, "userIdType": _id_type(user_id_type)}
    return _get("/api/v3/get-otp-secret-by-user", _field("secret", str), params)


# --------------------------------------------------------------------------------------- users
def create_user(fields: Mapping[str, Any]) -> Operation[User]:
    body = _fields("create_user", fields, _CREATE_USER_KEYS)
    return _post("/api/v3/create-user", User.model_validate, body)


def create_users_batch(
    items: Iterable[Mapping[str, Any]], options: Mapping[str, Any] | None = None
) -> Operation[list[User]]:
    body = {"list": list(items), "options": options}
    return _post("/api/v3/create-users-batch", _model_list(User), body)


def get_user(
    user_id: str,
    user_id_type: UserIdType | str | None = None,
    flat_custom_data: bool | None = None,
    with_custom_data: bool | None = None,
    with_post: bool | None = None,
    with_identities: bool | None = None,
) -> Operation[User]:
    params = {
        "userId": user_id,
        "userIdType": _id_type(user_id_type),
        "flatCustomData": flat_custom_data,
        "withCustomData": with_custom_data,
        "withPost": with_post,
        "withIdentities": with_identities,
    }
    return _get("/api/v3/get-user", User.model_validate, params)


def get_user_batch(
    user_ids: Sequence[str] | str,
    user_id_type: UserIdType | str | None = None,
    with_custom_data: bool | None = None,
    flat_custom_data: bool | None = None,
    with_identities: bool | None = None,
) -> Operation[list[User]]:
    params = {
        "userIds": _ids(user_ids),
        "userIdType": _id_type(user_id_type),
        "withCustomData": with_custom_data,
        "flatCustomData": flat_custom_data,
        "withIdentities": with_identities,
    }
    return _get("/api/v3/get-user-batch", _model_list(User), params)


def list_users(
    keywords: str | None = None,
    advanced_filter: Sequence[Mapping[str, Any]] | None = None,
    search_query: Mapping[str, Any] | None = None,
    options: Mapping[str, Any] | None = None,
) -> Operation[Page[User]]:
    body = {
        "keywords": keywords,
        "advancedFilter": advanced_filter,
        "searchQuery": search_query,
        "options": options,
    }
    return _post("/api/v3/list-users", Page[User].model_validate, body)


def list_users_legacy(
    page: int | None = None,
    limit: int | None = None,
    status: str | None = None,
    updated_at_start: int | None = None,
    updated_at_end: int | None = None,
    with_custom_data: bool | None = None,
    with_post: bool | None = None,
    with_identities: bool | None = None,
) -> Operation[Page[User]]:
    params = {
        "page": page,
        "limit": limit,
        "status": status,
        "updatedAtStart": updated_at_start,
        "updatedAtEnd": updated_at_end,
        "withCustomData": with_custom_data,
        "withPost": with_post,
        "withIdentities": with_identities,
    }
    return _get("/api/v3/list-users", Page[User].model_validate, params)


def update_user(user_id: str, fields: Mapping[str, Any]) -> Operation[User]:
    body = {"userId": user_id, **_fields("update_user", fields, _UPDATE_USER_KEYS)}
    return _post("/api/v3/update-user", User.model_validate, body)


def update_user_batch(
    items: Iterable[Mapping[str, Any]], options: Mapping[str, Any] | None = None
) -> Operation[list[User]]:
    body = {"list": list(items), "options": options}
    return _post("/api/v3/update-user-batch", _model_list(User), body)


def delete_users_batch(user_ids: Sequence[str], options: Mapping[str, Any] | None = None) -> Operation[None]:
    body = {"userIds": list(user_ids), "options": options}
    return _post("/api/v3/delete-users-batch", _success, body)


def is_user_exists(
    username: str | None = None,
    email: str | None = None,
    phone: str | None = None,
    external_id: str | None = None,
) -> Operation[bool]:
    body = {"username": username, "email": email, "phone": phone, "externalId": external_id}
    return _post("/api/v3/is-user-exists", _field("exists", bool), body)


def link_identity(
    user_id_in_idp: str,
    user_id: str,
    ext_idp_id: str,
    type: str | None = None,
    is_social: bool | None = None,
) -> Operation[None]:
    body = {
        "userIdInIdp": user_id_in_idp,
        "userId": user_id,
        "extIdpId": ext_idp_id,
        "type": type,
        "isSocial": is_social,
    }
    return _post("/api/v3/link-identity", _success, body)


def unlink_identity(
    user_id: str, ext_idp_id: str, type: str | None = None, is_social: bool | None = None
) -> Operation[None]:
    body = {"userId": user_id, "extIdpId": ext_idp_id, "type": type, "isSocial": is_social}
    return _post("/api/v3/unlink-identity", _success, body)


def get_user_identities(
    user_id: str, user_id_type: UserIdType | str | None = None
) -> Operation[list[Identity]]:
    params = {"userId": user_id, "userIdType": _id_type(user_id_type)}
    return _get("/api/v3/get-user-identities", _model_list(Identity), params)


def get_user_login_history(
    user_id: str,
    user_id_type: UserIdType | str | None = None,
    app_id: str | None = None,
    client_ip: str | None = None,
    start: int | None = None,
    end: int | None = None,
    page: int | None = None,
    limit: int | None = None,
) -> Operation[Page[LoginHistoryEntry]]:
    params = {
        "userId": user_id,
        "userIdType": _id_type(user_id_type),
        "appId": app_id,
        "clientIp": client_ip,
        "start": start,
        "end": end,
        "page": page,
        "limit": limit,
    }
    return _get("/api/v3/get-user-login-history", Page[LoginHistoryEntry].model_validate, params)


# -------------------------------------------------------------------------------- applications
def create_application(app_name: str, fields: Mapping[str, Any]) -> Operation[Application]:
    body = {"appName": app_name, **_fields("create_application", fields, _CREATE_APPLICATION_KEYS)}
    return _post("/api/v3/create-application", Application.model_validate, body)


def _app_secret(data: Any) -> str:
    return str(data["appSecret"])


def rotate_application_secret(app_id: str) -> Operation[str]:
    return _post("/api/v3/twofold/rotate-application-secret", _app_secret, {"appId": app_id})


def _auth_method(data: Any) -> str:
    return str(data["tokenEndpointAuthMethod"])


def set_application_auth_method(app_id: str, token_endpoint_auth_method: str) -> Operation[str]:
    body = {"appId": app_id, "tokenEndpointAuthMethod": token_endpoint_auth_method}
    return _post("/api/v3/twofold/set-application-auth-method", _auth_method, body)


def get_application(app_id: str) -> Operation[Application]:
    return _get("/api/v3/get-application", Application.model_validate, {"appId": app_id})


def list_applications(
    page: int | None = None,
    limit: int | None = None,
    is_integrate_app: bool | None = None,
    is_self_built_app: bool | None = None,
    sso_enabled: bool | None = None,
    keywords: str | None = None,
    all: bool | None = None,
) -> Operation[Page[Application]]:
    params = {
        "page": page,
        "limit": limit,
        "isIntegrateApp": is_integrate_app,
        "isSelfBuiltApp": is_self_built_app,
        "ssoEnabled": sso_enabled,
        "keywords": keywords,
        "all": all,
    }
    return _get("/api/v3/list-applications", Page[Application].model_validate, params)


# ------------------------------------------------------------------------------ Twofold extras
def list_audit_events(
    user_id: str | None = None,
    action: str | None = None,
    before_id: int | None = None,
    limit: int | None = None,
) -> Operation[list[AuditEvent]]:
    params = {"userId": user_id, "action": action, "beforeId": before_id, "limit": limit}
    return _get("/api/v3/twofold/list-audit-events", _model_list(AuditEvent), params)


def get_mfa_lock_status(user_id: str, user_id_type: UserIdType | str | None = None) -> Operation[MfaLockStatus]:
    params = {"userId": user_id, "userIdType": _id_type(user_id_type)}
    return _get("/api/v3/twofold/get-mfa-lock-status", MfaLockStatus.model_validate, params)


def _unlocked(data: Any) -> list[Factor]:
    values = data.get("unlockedFactors") if isinstance(data, dict) else None
    if not isinstance(values, list):
        raise ValueError("expected data.unlockedFactors to be a list")
    return [Factor(v) for v in values]


def unlock_mfa(
    user_id: str, user_id_type: UserIdType | str | None = None, factor: Factor | str | None = None
) -> Operation[list[Factor]]:
    body = {"userId": user_id, "userIdType": _id_type(user_id_type), "factor": _factor(factor)}
    return _post("/api/v3/twofold/unlock-mfa", _unlocked, body)


def reset_mfa_factor(
    user_id: str, user_id_type: UserIdType | str | None = None, factor: Factor | str | None = None
) -> Operation[MfaResetResult]:
    body = {"userId": user_id, "userIdType": _id_type(user_id_type), "factor": _factor(factor)}
    return _post("/api/v3/twofold/reset-mfa-factor", MfaResetResult.model_validate, body)


def set_sync_relation(
    user_id: str, provider: str, user_id_in_idp: str, user_id_type: UserIdType | str | None = None
) -> Operation[None]:
    body = {
        "userId": user_id,
        "userIdType": _id_type(user_id_type),
        "provider": provider,
        "userIdInIdp": user_id_in_idp,
    }
    return _post("/api/v3/twofold/set-sync-relation", _success, body)
