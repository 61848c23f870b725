"""Method and argument names follow the GenAuth Python SDK (``genauth`` 5.1.0, a test dependency)."""

from __future__ import annotations

import inspect
from typing import Any

import pytest

from twofold_client import (
    AsyncAuthenticationClient,
    AsyncManagementClient,
    AuthenticationClient,
    CreateApplicationFields,
    CreateUserFields,
    ManagementClient,
    UpdateUserFields,
)

GENAUTH_METHODS = [
    "set_users_mfa_status",
    "get_user_mfa_status",
    "get_user_mfa_info",
    "get_mfa_trigger_data",
    "update_application_mfa_settings",
    "get_global_mfa_settings",
    "update_global_mfa_settings",
    "import_otp",
    "get_otp_secret_by_user",
    "create_user",
    "create_users_batch",
    "get_user",
    "get_user_batch",
    "list_users",
    "list_users_legacy",
    "update_user",
    "update_user_batch",
    "delete_users_batch",
    "is_user_exists",
    "link_identity",
    "unlink_identity",
    "get_user_identities",
    "get_user_login_history",
    "create_application",
    "get_application",
    "list_applications",
]
KEYWORD_FIELDS: dict[str, Any] = {
    "create_user": CreateUserFields,
    "update_user": UpdateUserFields,
    "create_application": CreateApplicationFields,
}
TWOFOLD_ADDITIONS = {
    "set_users_mfa_status": ["version"],
    "create_user": ["mfa_trigger_data", "sync_relations"],
    "update_user": ["sync_relations"],
}
TWOFOLD_ONLY = [
    "disable_global_mfa_settings",
    "list_audit_events",
    "set_sync_relation",
    "get_mfa_lock_status",
    "unlock_mfa",
    "reset_mfa_factor",
    "rotate_application_secret",
    "set_application_auth_method",
]


def parameters(method: Any) -> list[inspect.Parameter]:
    return list(inspect.signature(method).parameters.values())[1:]  # without self


@pytest.mark.parametrize("name", GENAUTH_METHODS)
def test_arguments_match_the_genauth_sdk(name: str) -> None:
    from genauth.ManagementClient import ManagementClient as GenAuthClient  # late: pulls in websockets

    expected = [p.name for p in parameters(getattr(GenAuthClient, name))]
    ours = parameters(getattr(ManagementClient, name))
    positional = [p.name for p in ours if p.kind is p.POSITIONAL_OR_KEYWORD]
    keyword = [p.name for p in ours if p.kind is p.KEYWORD_ONLY]
    if name in KEYWORD_FIELDS:
        keyword += sorted(KEYWORD_FIELDS[name].__optional_keys__)
    assert positional == expected[: len(positional)]  # same order where positional
    assert sorted(positional + keyword) == sorted(expected + TWOFOLD_ADDITIONS.get(name, []))


@pytest.mark.parametrize("name", GENAUTH_METHODS + TWOFOLD_ONLY)
def test_async_client_has_the_same_signature(name: str) -> None:
    sync, async_ = getattr(ManagementClient, name), getattr(AsyncManagementClient, name)
    assert inspect.iscoroutinefunction(async_) and not inspect.iscoroutinefunction(sync)
    assert [(p.name, p.kind, p.default) for p in parameters(sync)] == [
        (p.name, p.kind, p.default) for p in parameters(async_)
    ]
    assert inspect.signature(sync).return_annotation == inspect.signature(async_).return_annotation


# ------------------------------------------------------------------------- AuthenticationClient
AUTHENTICATION_METHODS = [
    "sign_in_by_password",
    "sign_in_by_passcode",
    "send_sms",
    "send_email",
    "verify_totp",
    "check_totp",
    "verify_recovery_code",
    "verify_sms_code",
    "verify_email_code",
    "verify_mfa_token",
    "send_enroll_factor_request",
    "enroll_factor",
    "list_enrolled_factors",
    "get_factor",
    "reset_factor",
    "list_factors_to_enroll",
    "get_login_history",
    "get_profile",
    "get_new_access_token_by_refresh_token",
    "introspect_token",
    "revoke_token",
    "get_openid_configuration",
    "get_jwks",
]
# GenAuth's AuthenticationClient holds the user's token (set_access_token); Twofold's takes it as the
# first argument instead, so only these names are shared, not the arguments.
SHARED_WITH_GENAUTH = [
    "send_sms",
    "send_email",
    "verify_mfa_token",
    "send_enroll_factor_request",
    "enroll_factor",
    "list_enrolled_factors",
    "get_factor",
    "reset_factor",
    "list_factors_to_enroll",
    "get_login_history",
    "get_profile",
    "get_new_access_token_by_refresh_token",
    "introspect_token",
    "revoke_token",
]


def test_authentication_client_shares_genauth_names() -> None:
    from genauth.AuthenticationClient import AuthenticationClient as GenAuthClient

    assert [name for name in SHARED_WITH_GENAUTH if not hasattr(GenAuthClient, name)] == []


# the sends take genauth's argument names plus ``token`` (GenAuth's client holds it); the order differs:
# genauth is ``send_sms(channel, phone_number, ...)``, ours puts the target first, so pass keywords
SAME_ARGUMENT_NAMES = {"send_sms": ["token"], "send_email": ["token"]}


@pytest.mark.parametrize("name", sorted(SAME_ARGUMENT_NAMES))
def test_send_arguments_are_genauths(name: str) -> None:
    from genauth.AuthenticationClient import AuthenticationClient as GenAuthClient

    expected = [p.name for p in parameters(getattr(GenAuthClient, name))]
    ours = [p.name for p in parameters(getattr(AuthenticationClient, name))]
    assert sorted(ours) == sorted(expected + SAME_ARGUMENT_NAMES[name])


def test_authentication_client_has_exactly_these_public_methods() -> None:
    public = sorted(n for n in vars(AuthenticationClient) if not n.startswith("_") and callable(getattr(AuthenticationClient, n)))
    assert public == sorted([*AUTHENTICATION_METHODS, "close"])
    async_public = sorted(
        n for n in vars(AsyncAuthenticationClient) if not n.startswith("_") and callable(getattr(AsyncAuthenticationClient, n))
    )
    assert async_public == sorted([*AUTHENTICATION_METHODS, "aclose"])


@pytest.mark.parametrize("name", AUTHENTICATION_METHODS)
def test_async_authentication_client_has_the_same_signature(name: str) -> None:
    sync, async_ = getattr(AuthenticationClient, name), getattr(AsyncAuthenticationClient, name)
    assert inspect.iscoroutinefunction(async_) and not inspect.iscoroutinefunction(sync)
    assert [(p.name, p.kind, p.default) for p in parameters(sync)] == [
        (p.name, p.kind, p.default) for p in parameters(async_)
    ]
    assert inspect.signature(sync).return_annotation == inspect.signature(async_).return_annotation
    assert (sync.__doc__ or "").strip() and sync.__doc__ == async_.__doc__
