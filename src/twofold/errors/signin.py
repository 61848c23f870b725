"""Errors of sign-in and of the standard ``/oidc`` endpoints (docs/signin.md)."""

from __future__ import annotations

from typing import ClassVar

from twofold.errors.core import AuthenticationFailed, InvalidParameter, TwofoldError


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


class WrongTotpCode(AuthenticationFailed):
    """v2 MFA step (docs/wire.md#v2-mfa): the TOTP code is wrong, replayed, not challenged, or the OTP
    factor is locked; all look the same.  The mfaToken stays usable."""

    api_code = 6001
    status_code = 400
    message_en = "The MFA code is incorrect"
    message_zh = "MFA 验证码错误"


class WrongRecoveryCode(AuthenticationFailed):
    """v2 MFA step: the recovery code is wrong or already used, or the OTP factor is locked."""

    api_code = 6002
    status_code = 400
    message_en = "The recovery code is incorrect"
    message_zh = "恢复代码错误"


class WrongPasscode(AuthenticationFailed):
    """v2 MFA step (``/api/v2/applications/mfa/sms|email/verify``): the SMS or email code is wrong,
    expired, spent, out of attempts, for a phone or address that is not the user's bound one, of a
    factor the sign-in does not challenge, or the factor is locked; all look the same."""

    api_code = 2001
    status_code = 400
    message_en = "The verification code is incorrect or expired"
    message_zh = "验证码错误或已过期"


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
    """A sign-in ``connection`` Twofold does not serve (yet): LDAP, AD."""

    api_code = 40040
    message_en = "Invalid parameter {field}: this connection is not supported"
    message_zh = "参数 {name} 不支持该登录方式"
