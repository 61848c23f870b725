"""MFA management endpoints (docs/wire.md#mfa-endpoints, M1-M10)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends
from starlette.responses import Response

from twofold.api import envelope
from twofold.api.deps import CallerDep, ServicesDep
from twofold.api.query import query
from twofold.api.routing import LeanRoute
from twofold.api.v3 import PREFIX
from twofold.domain.mfa import Factor
from twofold.schemas.mfa import (
    DisableGlobalMfaRequest,
    ImportOtpRequest,
    MfaStatusQuery,
    SetMfaStatusRequest,
    TriggerDataQuery,
    UpdateApplicationMfaRequest,
    UpdateGlobalMfaRequest,
)
from twofold.services.mfa import UserMfa

router = APIRouter(prefix=PREFIX, tags=["mfa"], route_class=LeanRoute)
StatusQuery = Annotated[MfaStatusQuery, Depends(query(MfaStatusQuery))]


def trigger_data_dto(state: UserMfa) -> dict[str, Any]:
    """``GetMfaInfoDataDto``; ``version`` is a Twofold extension, ``mfaToken`` is never stored."""
    doc = state.status.to_document()
    user = state.user
    return {
        "mfaToken": "",
        **doc,
        "nickname": user.nickname,
        "username": user.username,
        "phone": user.phone,
        "phoneCountryCode": user.phone_country_code,
        "version": state.status.version,
    }


def factors_dto(factors: list[Factor]) -> dict[str, Any]:
    return {"enabledFactors": [str(f) for f in factors]}


@router.post("/set-mfa-status")
async def set_mfa_status(body: SetMfaStatusRequest, caller: CallerDep, services: ServicesDep) -> Response:
    version = await services.mfa.set_status(
        caller, body.user_id, body.user_id_type, body.mfa_trigger_data.to_command(), body.version
    )
    return envelope.ok({"success": True, "version": version})


@router.get("/get-mfa-status")
async def get_mfa_status(q: StatusQuery, caller: CallerDep, services: ServicesDep) -> Response:
    return envelope.ok(
        trigger_data_dto(await services.mfa.get_status(caller.pool_id, q.user_id, q.user_id_type))
    )


@router.get("/get-user-mfa-info")
async def get_user_mfa_info(q: StatusQuery, caller: CallerDep, services: ServicesDep) -> Response:
    states = await services.mfa.get_info(caller.pool_id, q.user_id, q.user_id_type)

    def word(factor: Factor) -> str:
        return "enabled" if states[factor] else "disabled"

    return envelope.ok(
        {
            "totpStatus": word(Factor.OTP),
            "faceMfaStatus": word(Factor.FACE),
            "smsMfaStatus": word(Factor.SMS),
            "emailMfaStatus": word(Factor.EMAIL),
        }
    )


@router.get("/get-mfa-trigger-data")
async def get_mfa_trigger_data(
    q: Annotated[TriggerDataQuery, Depends(query(TriggerDataQuery))], caller: CallerDep, services: ServicesDep
) -> Response:
    state = await services.mfa.get_trigger_data(caller.pool_id, q.app_id, q.user_id, q.user_id_type)
    return envelope.ok(trigger_data_dto(state))


@router.post("/update-application-mfa-settings")
async def update_application_mfa_settings(
    body: UpdateApplicationMfaRequest, caller: CallerDep, services: ServicesDep
) -> Response:
    factors = await services.mfa.update_application_factors(
        caller, body.app_id, body.enabled_factors, body.disabled_factors
    )
    return envelope.ok(factors_dto(factors))


@router.get("/get-global-mfa-settings")
async def get_global_mfa_settings(caller: CallerDep, services: ServicesDep) -> Response:
    return envelope.ok(factors_dto(await services.mfa.get_global_factors(caller.pool_id)))


@router.post("/update-global-mfa-settings")
async def update_global_mfa_settings(
    body: UpdateGlobalMfaRequest, caller: CallerDep, services: ServicesDep
) -> Response:
    return envelope.ok(factors_dto(await services.mfa.set_global_factors(caller, body.enabled_factors)))


@router.post("/disable-global-mfa-settings")
async def disable_global_mfa_settings(
    body: DisableGlobalMfaRequest, caller: CallerDep, services: ServicesDep
) -> Response:
    return envelope.ok(factors_dto(await services.mfa.disable_global_factors(caller, body.disable_factors)))


@router.post("/import-otp")
async def import_otp(body: ImportOtpRequest, caller: CallerDep, services: ServicesDep) -> Response:
    await services.mfa.import_otp(caller, body.to_command())
    return envelope.ok(None)


@router.get("/get-otp-secret-by-user")
async def get_otp_secret_by_user(q: StatusQuery, caller: CallerDep, services: ServicesDep) -> Response:
    secret = await services.mfa.read_otp_secret(caller, q.user_id, q.user_id_type)
    return envelope.ok({"secret": secret})
