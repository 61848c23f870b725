"""Factor enrolment over v3 (docs/signin.md#enrolment): OTP only, so far.

The token arrives in ``authorization`` (bare or ``Bearer``): a user access token, or the mfaToken of a
sign-in that must enrol OTP first.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.responses import Response

from twofold.api import envelope
from twofold.api.deps import ServicesDep
from twofold.api.routing import LeanRoute
from twofold.api.v3 import PREFIX
from twofold.api.v3.signin import request_facts
from twofold.domain.signin import bearer_token
from twofold.schemas.enrolment import EnrollFactorRequest, SendEnrollFactorRequest

router = APIRouter(prefix=PREFIX, tags=["enrolment"], route_class=LeanRoute)


@router.post("/send-enroll-factor-request")
async def send_enroll_factor_request(
    request: Request, body: SendEnrollFactorRequest, services: ServicesDep
) -> Response:
    started = await services.enrolment.start_otp(
        bearer_token(request.headers.get("authorization")), body.factor_type
    )
    return envelope.ok(
        {
            "enrollmentToken": started.enrollment_token,
            "otpData": {
                "qrCodeUri": started.qr_code_uri,
                "qrCodeDataUrl": started.qr_code_data_url,
                "recoveryCode": started.recovery_code,
            },
        }
    )


@router.post("/enroll-factor")
async def enroll_factor(request: Request, body: EnrollFactorRequest, services: ServicesDep) -> Response:
    await services.enrolment.confirm_otp(
        bearer_token(request.headers.get("authorization")),
        body.factor_type,
        body.enrollment_token,
        body.enrollment_data.pass_code if body.enrollment_data else None,
        request_facts(request),
    )
    return envelope.ok(None)


@router.get("/list-enrolled-factors")
async def list_enrolled_factors(request: Request, services: ServicesDep) -> Response:
    factors = await services.enrolment.list_factors(bearer_token(request.headers.get("authorization")))
    return envelope.ok(
        [{"factorId": f.factor_id, "factorType": str(f.factor_type), "profile": {}} for f in factors]
    )
