"""Errors of factor enrolment (docs/signin.md#enrolment)."""

from __future__ import annotations

from twofold.errors.core import InvalidParameter, NotFound, TwofoldError


class UnsupportedFactorType(InvalidParameter):
    """A ``factorType`` Twofold cannot enrol: OTP, SMS and EMAIL are served, FACE is not."""

    api_code = 40060
    message_en = "Invalid parameter {field}: this factor type cannot be enrolled"
    message_zh = "参数 {name} 不支持绑定该认证因素"


class EnrollmentTokenInvalid(TwofoldError):
    """An enrollmentToken that is unknown, already used, for another user, or older than 60 seconds."""

    api_code = 40061
    status_code = 400
    message_en = "The enrollmentToken is invalid or expired; request a new enrolment"
    message_zh = "enrollmentToken 无效或已过期，请重新发起绑定"


class EnrolmentCodeWrong(TwofoldError):
    """The code sent to confirm an enrolment is not the authenticator's current one; nothing changed."""

    api_code = 40062
    status_code = 400
    message_en = "The verification code is incorrect"
    message_zh = "验证码错误"


class FactorNotFound(NotFound):
    """``get-factor`` / ``reset-factor`` with a factorId that is none of the caller's enrolled factors
    (another user's ids are just as unknown)."""

    api_code = 40063
    message_en = "The MFA factor does not exist"
    message_zh = "MFA 认证要素不存在"
