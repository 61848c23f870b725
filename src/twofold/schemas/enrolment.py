"""Wire models of factor enrolment (docs/signin.md#enrolment)."""

from __future__ import annotations

from typing import Any

from twofold.schemas.common import Text, WireModel, WordText


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
