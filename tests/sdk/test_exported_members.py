"""The public surface of ``twofold_client`` is exactly ``__all__``, pinned here (httpx's own test)."""

from __future__ import annotations

import tomllib
from pathlib import Path

import twofold_client

EXPORTED = [
    "ApiError",
    "Application",
    "ApplicationMfa",
    "AsyncAuthenticationClient",
    "AsyncManagementClient",
    "AuditEvent",
    "AuthenticationClient",
    "AuthenticationError",
    "BadRequestError",
    "Channel",
    "ConflictError",
    "CreateApplicationFields",
    "CreateUserFields",
    "EnrolledFactor",
    "Factor",
    "Identity",
    "ImportOtpItem",
    "InvalidGrantError",
    "Jwks",
    "LoginHistoryEntry",
    "ManagementClient",
    "MfaChallenge",
    "MfaFactorLock",
    "MfaLockStatus",
    "MfaResetResult",
    "MfaSettings",
    "MfaSignIn",
    "MfaStatus",
    "MfaTokenIntrospection",
    "MfaTriggerData",
    "NotFoundError",
    "OpenIdConfiguration",
    "OtpData",
    "OtpEnrollmentData",
    "Page",
    "PendingEnrollment",
    "PermissionDeniedError",
    "RecoveryCodeSignIn",
    "ServerError",
    "SignInResult",
    "SignatureAuth",
    "TokenIntrospection",
    "TokenSet",
    "TransportError",
    "TwofoldError",
    "UpdateUserFields",
    "User",
    "UserIdType",
    "UserMfaInfo",
    "VersionConflictError",
    "WrongCodeError",
    "__version__",
]


def test_all_is_pinned() -> None:
    assert twofold_client.__all__ == EXPORTED


def test_every_exported_name_exists() -> None:
    for name in twofold_client.__all__:
        assert getattr(twofold_client, name) is not None, name


def test_no_other_public_names_leak() -> None:
    public = {name for name in vars(twofold_client) if not name.startswith("_")}
    assert public == set(EXPORTED) - {"__version__"}


def test_version_matches_the_distribution() -> None:
    pyproject = Path(__file__).resolve().parents[2] / "clients" / "python" / "pyproject.toml"
    project = tomllib.loads(pyproject.read_text())["project"]
    assert (project["name"], twofold_client.__version__) == ("twofold-client", project["version"])
    assert project["dependencies"] == ["httpx>=0.27", "pydantic>=2.7"]


def test_exception_tree() -> None:
    from twofold_client import (
        ApiError,
        AuthenticationError,
        BadRequestError,
        ConflictError,
        InvalidGrantError,
        NotFoundError,
        PermissionDeniedError,
        ServerError,
        TransportError,
        TwofoldError,
        VersionConflictError,
        WrongCodeError,
    )

    for cls in (
        BadRequestError,
        AuthenticationError,
        PermissionDeniedError,
        NotFoundError,
        ConflictError,
        ServerError,
    ):
        assert cls.__mro__[1] is ApiError
    assert VersionConflictError.__mro__[1] is ConflictError
    assert WrongCodeError.__mro__[1] is BadRequestError and InvalidGrantError.__mro__[1] is BadRequestError
    assert ApiError.__mro__[1] is TwofoldError and TransportError.__mro__[1] is TwofoldError
