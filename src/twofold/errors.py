"""Every Twofold error, defined once.

Each class fixes its ``api_code`` (unique, documented in ``docs/errors.md``), the business
``status_code`` put into the envelope, and an English and a Chinese message.  Services raise these;
one handler in ``api/errors.py`` turns them into the envelope.  Messages may carry ``{field}``.
"""

from __future__ import annotations

from typing import Any, ClassVar


class TwofoldError(Exception):
    api_code: ClassVar[int] = 50000
    status_code: ClassVar[int] = 500
    message_en: ClassVar[str] = "Internal server error"
    message_zh: ClassVar[str] = "服务器内部错误"

    def __init__(self, detail: str | None = None, **params: Any) -> None:
        self.detail = detail
        self.params = params
        super().__init__(detail or type(self).__name__)

    def message(self, lang: str) -> str:
        template = self.message_zh if lang == "zh-CN" else self.message_en
        try:
            text = template.format(**self.params)
        except (KeyError, IndexError):
            text = template
        if self.detail and lang != "zh-CN":
            return f"{text}: {self.detail}"
        return text


# --- 400 -------------------------------------------------------------------------------------------
def parameter_name(path: str) -> str:
    """The name GenAuth gives a parameter in its messages: its own name, without the path to it.

    >>> parameter_name("options.pagination.page"), parameter_name("list[2].email"), parameter_name("userIds")
    ('page', 'email', 'userIds')
    """
    leaf = path.rsplit(".", 1)[-1]
    return leaf.split("[", 1)[0] or path


class InvalidParameter(TwofoldError):
    """A request field is missing, malformed or out of range.

    ``field`` is its path in the request (``options.pagination.page``).  The Chinese message is GenAuth's
    and names the parameter by its own name ("参数 page 格式错误"); the English one gives the path.
    """

    api_code = 40001
    status_code = 400
    message_en = "Invalid parameter {field}"
    message_zh = "参数 {name} 格式错误"

    def __init__(self, field: str, detail: str | None = None) -> None:
        super().__init__(detail, field=field, name=parameter_name(field))
        self.field = field


class MissingUserIdentifier(TwofoldError):
    api_code = 40002
    status_code = 400
    message_en = "Must contain one of the following fields: username, phone, email"
    message_zh = "Must contain one of the following fields: username, phone, email"


class InvalidMfaPolicy(InvalidParameter):
    api_code = 40003


class InvalidOtpSecret(InvalidParameter):
    api_code = 40004


class PageLimitExceeded(InvalidParameter):
    """A list page larger than GenAuth's largest (50); the wording is GenAuth's."""

    api_code = 40006
    message_en = "limit must less than {max}"
    message_zh = "limit must less than {max}"

    def __init__(self, field: str = "limit", maximum: int = 50) -> None:
        super().__init__(field)
        self.params["max"] = maximum


class PhoneRequired(InvalidParameter):
    """A phone country code without a phone number; the wording is GenAuth's."""

    api_code = 40007
    message_en = "phone cannot be empty"
    message_zh = "phone cannot be empty"

    def __init__(self, field: str = "phone") -> None:
        super().__init__(field)


class CustomDataTooLong(InvalidParameter):
    """A custom data value longer than GenAuth's bound; the wording is GenAuth's."""

    api_code = 40008
    message_en = "customData must be less than 1024 characters"
    message_zh = "customData must be less than 1024 characters"

    def __init__(self, field: str = "customData") -> None:
        super().__init__(field)


class MalformedBody(TwofoldError):
    api_code = 40005
    status_code = 400
    message_en = "Request body is not valid JSON"
    message_zh = "请求体不是合法的 JSON"


# --- 401 / 403 -------------------------------------------------------------------------------------
class AuthenticationFailed(TwofoldError):
    """Every authentication failure looks like this on the wire; the reason goes to the log only."""

    api_code = 40100
    status_code = 401
    message_en = "Authentication failed"
    message_zh = "认证失败"

    def __init__(self, reason: str) -> None:
        super().__init__()
        self.reason = reason


class PermissionDenied(TwofoldError):
    api_code = 40300
    status_code = 403
    message_en = "This access key is not allowed to perform this operation"
    message_zh = "该访问密钥无权执行此操作"


# --- 404 -------------------------------------------------------------------------------------------
class NotFound(TwofoldError):
    api_code = 40400
    status_code = 404
    message_en = "Resource not found"
    message_zh = "资源不存在"


class UserNotFound(NotFound):
    api_code = 40401
    message_en = "User does not exist"
    message_zh = "用户不存在"


class ApplicationNotFound(NotFound):
    api_code = 40402
    message_en = "Application does not exist"
    message_zh = "应用不存在"


class AccessKeyNotFound(NotFound):
    api_code = 40403
    message_en = "Access key does not exist"
    message_zh = "访问密钥不存在"


class OtpNotBound(NotFound):
    api_code = 40404
    message_en = "The user has no OTP authenticator bound"
    message_zh = "用户未绑定 OTP"


class RouteNotFound(NotFound):
    api_code = 40405
    message_en = "No such endpoint"
    message_zh = "接口不存在"


# --- 409 -------------------------------------------------------------------------------------------
class Conflict(TwofoldError):
    api_code = 40900
    status_code = 409
    message_en = "Conflict"
    message_zh = "数据冲突"


class UserAlreadyExists(Conflict):
    api_code = 40901
    message_en = "A user with this {field} already exists"
    message_zh = "{field} 已被占用"

    def __init__(self, field: str) -> None:
        super().__init__(field=field)
        self.field = field


class IdentityAlreadyLinked(Conflict):
    api_code = 40902
    message_en = "This external identity is already linked to a user"
    message_zh = "该外部身份已绑定用户"


class VersionConflict(Conflict):
    api_code = 40903
    message_en = "The record was changed by someone else (version mismatch)"
    message_zh = "记录已被修改（版本不匹配）"




# --- refusals of meaning, not of format ----------------------------------------------------------
class ConflictingMfaSetting(InvalidParameter):
    """A well-formed MFA setting that contradicts another part of the same request (a factor listed
    twice, a factor both enabled and disabled)."""

    api_code = 40030
    message_en = "Invalid parameter {field}: it conflicts with another part of the request"
    message_zh = "参数 {name} 与请求中的其他设置冲突"


class ProfileFieldMismatch(InvalidParameter):
    """set-mfa-status echoes a profile field (phone, username, ...) with a value the user does not have."""

    api_code = 40031
    message_en = "Invalid parameter {field}: it differs from the user's profile (change it with update-user)"
    message_zh = "参数 {name} 与用户资料不一致，请通过 update-user 修改"



# --- 503 -------------------------------------------------------------------------------------------
# Raised by storage/ (storage/errors.py subclasses them), not from input: the request may be retried.
class DatabaseUnavailable(TwofoldError):
    """The database cannot be reached: refused, lost, or shutting down."""

    api_code = 50301
    status_code = 503
    message_en = "Database unavailable, please retry later"
    message_zh = "数据库不可用，请稍后重试"


class DatabaseBusy(TwofoldError):
    """A write waited for the database's write lock longer than its configured limit."""

    api_code = 50302
    status_code = 503
    message_en = "Database busy, please retry later"
    message_zh = "数据库繁忙，请稍后重试"


# --- one-time codes and their delivery (docs/delivery.md) -----------------------------------------
class SmsSendTooFrequent(TwofoldError):
    """A second SMS code to the same phone within the send interval (GenAuth answers statusCode 422)."""

    api_code = 42201
    status_code = 422
    message_en = "Codes are sent at most once a minute to the same phone number; please retry later"
    message_zh = "发送过于频繁，请稍后再试"


class EmailSendTooFrequent(TwofoldError):
    """A second email code to the same address within the send interval (GenAuth's apiCode 2080)."""

    api_code = 2080
    status_code = 400
    message_en = "Codes are sent at most once a minute to the same email address; please retry later"
    message_zh = "邮件发送过于频繁，请稍后再试"


class SendQuotaExceeded(TwofoldError):
    """The hourly quota of codes of this client IP or of this user pool is spent."""

    api_code = 42902
    status_code = 429
    message_en = "Too many codes were sent; please retry later"
    message_zh = "验证码发送次数已达上限，请稍后再试"


class DeliveryFailed(TwofoldError):
    """The SMTP server or the SMS provider did not take the message (the reason is logged)."""

    api_code = 50303
    status_code = 503
    message_en = "The code could not be delivered, please retry later"
    message_zh = "验证码发送失败，请稍后重试"
# --- end of one-time codes and their delivery --------------------------------------------------


# --- sign-in (docs/signin.md) -------------------------------------------------------------------
class InvalidCredentials(AuthenticationFailed):
    """A sign-in refused: wrong password, unknown account, wrong or missing client secret, a user who
    may not sign in.  All look the same on the wire; ``reason`` goes to the log only."""

    api_code = 40110
    status_code = 401
    message_en = "Incorrect account or password"
    message_zh = "账号或密码错误"


class SignInThrottled(TwofoldError):
    """Too many failed password sign-ins for this account or from this address in the window.  Counted
    per identifier whether or not the account exists, so it reveals nothing about accounts."""

    api_code = 42901
    status_code = 429
    message_en = "Too many failed sign-in attempts; try again later"
    message_zh = "登录失败次数过多，请稍后再试"


class InvalidUserToken(AuthenticationFailed):
    """An end-user access token that is missing, malformed, expired, revoked or not Twofold's."""

    api_code = 40111
    status_code = 401
    message_en = "Invalid or expired access token"
    message_zh = "access_token 无效或已过期"


class MfaTokenInvalid(AuthenticationFailed):
    """An mfaToken that is malformed, expired, already spent or for another user or application."""

    api_code = 2021
    status_code = 401
    message_en = "The mfaToken is invalid or expired; sign in again"
    message_zh = "mfaToken 无效或已过期，请重新登录"


class MfaRequired(TwofoldError):
    """Not an error but an outcome of ``/api/v3/signin``: the policy asks for MFA.  The body carries the
    trigger data and an mfaToken (docs/wire.md#mfa-required); the class fixes the codes."""

    api_code = 1636
    status_code = 302
    message_en = "Multi-factor authentication required"
    message_zh = "需要进行多因素认证"


class OAuthError(TwofoldError):
    """An error of the standard ``/oidc`` endpoints.  They answer as RFC 6749 §5.2 says, not in the
    envelope: HTTP ``http_status`` with ``{error, error_description}``.  ``reason`` is logged only."""

    api_code = 40120
    status_code = 400
    http_status: ClassVar[int] = 400
    oauth_error: ClassVar[str] = "invalid_request"
    message_en = "The request is missing a parameter or is malformed"
    message_zh = "请求缺少参数或格式错误"

    def __init__(self, reason: str = "") -> None:
        super().__init__()
        self.reason = reason


class OAuthInvalidClient(OAuthError):
    api_code = 40121
    status_code = 401
    http_status = 401
    oauth_error = "invalid_client"
    message_en = "Client authentication failed"
    message_zh = "客户端认证失败"


class OAuthInvalidGrant(OAuthError):
    api_code = 40122
    oauth_error = "invalid_grant"
    message_en = "The refresh token is invalid, expired, revoked or was already used"
    message_zh = "refresh_token 无效、已过期、已撤销或已被使用"


class OAuthUnsupportedGrantType(OAuthError):
    api_code = 40123
    oauth_error = "unsupported_grant_type"
    message_en = "Only grant_type=refresh_token is supported"
    message_zh = "仅支持 grant_type=refresh_token"


class UnsupportedConnection(InvalidParameter):
    """A sign-in ``connection`` Twofold does not serve (yet): LDAP, AD, PASSCODE."""

    api_code = 40040
    message_en = "Invalid parameter {field}: this connection is not supported"
    message_zh = "参数 {name} 不支持该登录方式"


ALL_ERRORS: tuple[type[TwofoldError], ...] = (
    TwofoldError,
    InvalidParameter,
    MissingUserIdentifier,
    InvalidMfaPolicy,
    InvalidOtpSecret,
    MalformedBody,
    ConflictingMfaSetting,
    ProfileFieldMismatch,
    PageLimitExceeded,
    PhoneRequired,
    CustomDataTooLong,
    AuthenticationFailed,
    PermissionDenied,
    NotFound,
    UserNotFound,
    ApplicationNotFound,
    AccessKeyNotFound,
    OtpNotBound,
    RouteNotFound,
    Conflict,
    UserAlreadyExists,
    IdentityAlreadyLinked,
    VersionConflict,
    DatabaseUnavailable,
    DatabaseBusy,
    SmsSendTooFrequent,
    EmailSendTooFrequent,
    SendQuotaExceeded,
    DeliveryFailed,
    InvalidCredentials,
    SignInThrottled,
    InvalidUserToken,
    MfaTokenInvalid,
    MfaRequired,
    UnsupportedConnection,
    OAuthError,
    OAuthInvalidClient,
    OAuthInvalidGrant,
    OAuthUnsupportedGrantType,
)
