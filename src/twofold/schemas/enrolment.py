"""Wire models of factor enrolment (docs/signin.md#enrolment)."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from twofold.schemas.common import EmailText, PhoneText, ShortText, Text, WireModel, WordText


class SendEnrollFactorRequest(WireModel):
    """``send-enroll-factor-request``: ``profile`` is empty for OTP."""

    factor_type: WordText | None = None
    profile: dict[str, Any] | None = None


class EnrollmentData(WireModel):
    pass_code: WordText | None = None


class EnrollFactorRequest(WireModel):
    factor_type: WordText | None = None
    enrollment_token: Text | None = None
    enrollment_data: EnrollmentData | None = None


class FactorIdQuery(WireModel):
    """``get-factor?factorId=…``."""

    factor_id: ShortText | None = None


class ResetFactorRequest(WireModel):
    factor_id: ShortText | None = None


class AuthenticatorQuery(WireModel):
    """v2 ``GET /api/v2/mfa/authenticator?type=totp&source=SELF|APPLICATION``."""

    type: WordText | None = None
    source: WordText | None = None


class AssociateRequest(WireModel):
    """v2 ``associate`` / ``associate/confirm`` (snake case members, as authing-js-sdk sends them)."""

    authenticator_type: WordText | None = Field(default=None, alias="authenticator_type")
    totp: WordText | None = None
    source: WordText | None = None


class BindableRequest(WireModel):
    """v2 ``applications/mfa/check``: one of ``phone`` / ``email``."""

    phone: PhoneText | None = None
    email: EmailText | None = None
