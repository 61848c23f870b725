"""Errors of one-time codes and their delivery (docs/delivery.md)."""

from __future__ import annotations

from twofold.errors.core import InvalidParameter, TwofoldError


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


class SendTargetNotAllowed(TwofoldError):
    """A code on an MFA channel to an address or number that is not the caller's own (``mfaPhone``/
    ``mfaEmail``, phone or email).  The answer depends only on the caller's own data: it says nothing
    about whether the target belongs to anyone else (docs/delivery.md#who-may-send-to-whom)."""

    api_code = 40310
    status_code = 403
    message_en = "Codes on this channel are sent only to your own phone number or email address"
    message_zh = "该用途的验证码只能发送到您本人的手机号或邮箱"


class UnsupportedChannel(InvalidParameter):
    """A ``channel`` (or v2 ``scene``) Twofold does not send codes for (registration, password reset, ...)."""

    api_code = 40041
    message_en = "Invalid parameter {field}: codes are not sent for this purpose"
    message_zh = "参数 {name} 不支持该验证码用途"
