"""Factor enrolment over v3 (docs/signin.md#enrolment): OTP, SMS and EMAIL, and the user's own
enrolled factors (docs/signin.md#enrolled-factors).

The token arrives in ``authorization`` (bare or ``Bearer``): a user access token, or, to enrol, the
mfaToken of a sign-in that must enrol that factor first.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from starlette.responses import Response

from twofold.api import envelope
from twofold.api.deps import ServicesDep
from twofold.api.query import query
from twofold.api.routing import LeanRoute
from twofold.api.v3 import PREFIX
from twofold.api.v3.signin import request_facts
from twofold.domain.signin import bearer_token
from twofold.schemas.enrolment import (
    EnrollFactorRequest,
    FactorIdQuery,
    ResetFactorRequest,
    SendEnrollFactorRequest,
)
from twofold.services.enrolment_factors import EnrolledFactor

router = APIRouter(prefix=PREFIX, tags=["enrolment"], route_class=LeanRoute)


def _token(request: Request) -> str | None:
    return bearer_token(request.headers.get("authorization"))


def factor_dto(factor: EnrolledFactor) -> dict[str, Any]:
    return {"factorId": factor.factor_id, "factorType": str(factor.factor_type), "profile": factor.profile}


@router.post("/send-enroll-factor-request")
async def send_enroll_factor_request(
    request: Request, body: SendEnrollFactorRequest, services: ServicesDep
) -> Response:
    started = await services.enrolment.start(
        _token(request), body.factor_type, body.profile, request_facts(request).client_ip
    )
    data: dict[str, Any] = {"enrollmentToken": started.enrollment_token}
    if started.otp is not None:
        data["otpData"] = {
            "qrCodeUri": started.otp.qr_code_uri,
            "qrCodeDataUrl": started.otp.qr_code_data_url,
            "recoveryCode": started.otp.recovery_code,
        }
    return envelope.ok(data)


@router.post("/enroll-factor")
async def enroll_factor(request: Request, body: EnrollFactorRequest, services: ServicesDep) -> Response:
    await services.enrolment.confirm(
        _token(request),
        body.factor_type,
        body.enrollment_token,
        body.enrollment_data.pass_code if body.enrollment_data else None,
        request_facts(request),
    )
    return envelope.ok(None)


@router.get("/list-enrolled-factors")
async def list_enrolled_factors(request: Request, services: ServicesDep) -> Response:
    return envelope.ok([factor_dto(f) for f in await services.factors.list_enrolled(_token(request))])


@router.get("/get-factor")
async def get_factor(
    request: Request, q: Annotated[FactorIdQuery, Depends(query(FactorIdQuery))], services: ServicesDep
) -> Response:
    return envelope.ok(factor_dto(await services.factors.get(_token(request), q.factor_id)))


@router.post("/reset-factor")
async def reset_factor(request: Request, body: ResetFactorRequest, services: ServicesDep) -> Response:
    await services.factors.reset(_token(request), body.factor_id, request_facts(request))
    return envelope.ok(None)


@router.get("/list-factors-to-enroll")
async def list_factors_to_enroll(request: Request, services: ServicesDep) -> Response:
    return envelope.ok([{"factorType": str(f)} for f in await services.factors.to_enroll(_token(request))])
