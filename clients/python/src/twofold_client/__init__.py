"""Typed Python SDK of Twofold's management API (``/api/v3``, wire-compatible with GenAuth).

::

    from twofold_client import ManagementClient, MfaTriggerData, ApplicationMfa, Factor, UserIdType

    with ManagementClient(access_key_id=AK, access_key_secret=SK, host="http://127.0.0.1:8080") as client:
        version = client.set_users_mfa_status(
            MfaTriggerData(mfa_token="-", application_mfa=[ApplicationMfa(mfa_policy=Factor.OTP, status=1, sort=0)]),
            "alice@example.com",
            UserIdType.EMAIL,
        )

Method names and arguments are those of the GenAuth Python SDK; results are pydantic models of the
envelope's ``data``; failures raise the exception tree documented in ``twofold_client._errors``
(``TwofoldError`` at the root). Everything public is listed in ``__all__``.
"""

from twofold_client._auth import SignatureAuth
from twofold_client._client import AsyncManagementClient, ManagementClient
from twofold_client._errors import (
    ApiError,
    AuthenticationError,
    BadRequestError,
    ConflictError,
    NotFoundError,
    PermissionDeniedError,
    ServerError,
    TransportError,
    TwofoldError,
    VersionConflictError,
)
from twofold_client._models import (
    Application,
    ApplicationMfa,
    AuditEvent,
    Factor,
    Identity,
    ImportOtpItem,
    LoginHistoryEntry,
    MfaFactorLock,
    MfaLockStatus,
    MfaResetResult,
    MfaSettings,
    MfaStatus,
    MfaTriggerData,
    OtpData,
    Page,
    User,
    UserIdType,
    UserMfaInfo,
)
from twofold_client._params import CreateApplicationFields, CreateUserFields, UpdateUserFields
from twofold_client._version import __version__

__all__ = [
    "ApiError",
    "Application",
    "ApplicationMfa",
    "AsyncManagementClient",
    "AuditEvent",
    "AuthenticationError",
    "BadRequestError",
    "ConflictError",
    "CreateApplicationFields",
    "CreateUserFields",
    "Factor",
    "Identity",
    "ImportOtpItem",
    "LoginHistoryEntry",
    "ManagementClient",
    "MfaFactorLock",
    "MfaLockStatus",
    "MfaResetResult",
    "MfaSettings",
    "MfaStatus",
    "MfaTriggerData",
    "NotFoundError",
    "OtpData",
    "Page",
    "PermissionDeniedError",
    "ServerError",
    "SignatureAuth",
    "TransportError",
    "TwofoldError",
    "UpdateUserFields",
    "User",
    "UserIdType",
    "UserMfaInfo",
    "VersionConflictError",
    "__version__",
]
