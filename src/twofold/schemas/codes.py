"""Wire models of sending one-time codes and of the v2 SMS/email MFA step (docs/wire.md#send-codes)."""

from __future__ import annotations

from twofold.schemas.common import CountryCodeText, EmailText, PhoneText, WireModel, WordText


class SendSmsRequest(WireModel):
    """``POST /api/v3/send-sms`` (genauth ``send_sms``, Node ``sendSms``)."""

    channel: WordText | None = None
    phone_number: PhoneText | None = None
    phone_country_code: CountryCodeText | None = None


class SendEmailRequest(WireModel):
    """``POST /api/v3/send-email`` (genauth ``send_email``, Node ``sendEmail``)."""

    channel: WordText | None = None
    email: EmailText | None = None


class V2EmailSendRequest(WireModel):
    """``POST /api/v2/email/send`` (Guard's MFA screen: ``scene: "MFA_VERIFY_CODE"``)."""

    email: EmailText | None = None
    scene: WordText | None = None


class V2SmsSendRequest(WireModel):
    """``POST /api/v2/sms/send`` (authing-js-sdk ``sendSmsCode(phone, phoneCountryCode, scene)``)."""

    phone: PhoneText | None = None
    phone_country_code: CountryCodeText | None = None
    scene: WordText | None = None


class SmsMfaVerifyRequest(WireModel):
    """``POST /api/v2/applications/mfa/sms/verify`` (authing-js-sdk ``verifyAppSmsMfa``)."""

    phone: PhoneText | None = None
    code: WordText | None = None
    phone_country_code: CountryCodeText | None = None


class EmailMfaVerifyRequest(WireModel):
    """``POST /api/v2/applications/mfa/email/verify`` (authing-js-sdk ``verifyAppEmailMfa``)."""

    email: EmailText | None = None
    code: WordText | None = None
