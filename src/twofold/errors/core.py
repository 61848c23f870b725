"""The general errors: the base class, and what any endpoint may answer (400, 401/403, 404, 409, 503)."""

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


class BodyTooLarge(TwofoldError):
    """The body is over ``TWOFOLD_MAX_BODY_BYTES``: refused before it is read any further."""

    api_code = 41300
    status_code = 413
    message_en = "Request body is too large"
    message_zh = "请求体过大"


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


class DatabaseFull(TwofoldError):
    """The database's disk is full (SQLite could not grow its file or its WAL): nothing was written."""

    api_code = 50304
    status_code = 503
    message_en = "Database storage full, please retry later"
    message_zh = "数据库存储空间已满，请稍后重试"
