"""Typed Python SDK of Twofold: the management API (``/api/v3``, wire-compatible with GenAuth) and the
end-user API an application signs its users in with (``AuthenticationClient``).

::

    from twofold_client import ManagementClient, MfaTriggerData, ApplicationMfa, Factor, UserIdType

    with ManagementClient(access_key_id=AK, access_key_secret=SK, host="http://127.0.0.1:8080") as client:
        version = client.set_users_mfa_status(
            MfaTriggerData(mfa_token="-", application_mfa=[ApplicationMfa(mfa_policy=Factor.OTP, status=1, sort=0)]),
            "alice@example.com",
            UserIdType.EMAIL,
        )

    with AuthenticationClient(app_id, app_secret, host="http://127.0.0.1:8080") as auth:
        result = auth.sign_in_by_password("s3cret", email="alice@example.com")
        tokens = result.tokens or auth.verify_totp(result.mfa.mfa_token, "123456")

Management method names and arguments are those of the GenAuth Python SDK; results are pydantic models of the
envelope's ``data``; failures raise the exception tree documented in ``twofold_client._errors``
(``TwofoldError`` at the root). Everything public is listed in ``__all__``.
"""

from twofold_client._auth import SignatureAuth
from twofold_client._authentication_async import AsyncAuthenticationClient
from twofold_client._authentication_client import AuthenticationClient
from twofold_client._authentication_models import (
    Channel,
    EnrolledFactor,
    Jwks,
    MfaChallenge,
    MfaSignIn,
    MfaTokenIntrospection,
    OpenIdConfiguration,
    OtpEnrollmentData,
    PendingEnrollment,
    RecoveryCodeSignIn,
    SignInResult,
    TokenIntrospection,
    TokenSet,
)
from twofold_client._client import AsyncManagementClient, ManagementClient
from twofold_client._errors import (
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
