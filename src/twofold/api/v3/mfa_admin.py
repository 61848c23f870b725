"""Twofold extension: administrators' MFA actions (docs/mfa-status.md#lockout).

* ``GET  /api/v3/twofold/get-mfa-lock-status?userId=&userIdType=``: per factor, the consecutive
  failures and the lock (the one place a lock is visible: to the user it looks like a wrong code);
* ``POST /api/v3/twofold/unlock-mfa {userId, userIdType?, factor?}``: clear the failure count (and
  so the lock) of one factor, or of all;
* ``POST /api/v3/twofold/reset-mfa-factor {userId, userIdType?, factor?}``: forget one factor or all
  (OTP: the authenticator is removed) and their counters.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends
from starlette.responses import Response

from twofold.api import envelope
from twofold.api.deps import CallerDep, ServicesDep
from twofold.api.query import query
from twofold.api.routing import LeanRoute
from twofold.api.v3 import PREFIX
from twofold.api.v3.dto import iso
from twofold.schemas.common import UserRefText, WireModel, WordText

router = APIRouter(prefix=PREFIX, tags=["twofold"], route_class=LeanRoute)


class MfaLockQuery(WireModel):
    user_id: UserRefText | None = None
    user_id_type: WordText | None = None


class MfaFactorRequest(WireModel):
    user_id: UserRefText | None = None
    user_id_type: WordText | None = None
    factor: WordText | None = None  # OTP, SMS, EMAIL or FACE; left out: every factor


@router.get("/twofold/get-mfa-lock-status")
async def get_mfa_lock_status(
    q: Annotated[MfaLockQuery, Depends(query(MfaLockQuery))], caller: CallerDep, services: ServicesDep
) -> Response:
    user_id, locks = await services.mfa_admin.lock_status(caller.pool_id, q.user_id, q.user_id_type)
    factors: list[dict[str, Any]] = [
        {
            "factor": str(lock.factor),
            "failures": lock.failures,
            "locked": lock.locked,
            "lockedUntil": iso(lock.locked_until) if lock.locked else None,
            "lastFailureAt": iso(lock.last_failure_at),
        }
        for lock in locks
    ]
    return envelope.ok({"userId": user_id, "factors": factors})


@router.post("/twofold/unlock-mfa")
async def unlock_mfa(body: MfaFactorRequest, caller: CallerDep, services: ServicesDep) -> Response:
    cleared = await services.mfa_admin.unlock(caller, body.user_id, body.user_id_type, body.factor)
    return envelope.ok({"success": True, "unlockedFactors": [str(f) for f in cleared]})


@router.post("/twofold/reset-mfa-factor")
async def reset_mfa_factor(body: MfaFactorRequest, caller: CallerDep, services: ServicesDep) -> Response:
    result = await services.mfa_admin.reset_factor(caller, body.user_id, body.user_id_type, body.factor)
    return envelope.ok(
        {
            "success": True,
            "userId": result.user_id,
            "factors": [str(f) for f in result.factors],
            "otpRemoved": result.otp_removed,
        }
    )
