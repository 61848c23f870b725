"""MFA across a pool, for the admin console: adoption per factor, the locked factors, and when each
of a user's factors was last used.

* ``adoption`` counts, for each factor, the users who have it enrolled (``domain.mfa.is_enrolled``:
  bound, and flagged for OTP and FACE) and the users whose policy challenges it without it being
  enrolled (their next sign-in must enrol it first).  It reads every user of the pool once, grouped in
  the database by their status document and whether they have a phone, an email, a TOTP secret (few
  groups when users share policies): the console reuses the result for a minute.
* ``locked`` reads ``mfa_failures`` (rows only for factors with failures), never the users table.
* ``last_uses`` reads the user's ``mfa.factor.verified`` and ``mfa.recovery_code.used`` audit events
  (the ``(pool_id, target_user_id, id)`` index), newest first.
"""

from __future__ import annotations

from dataclasses import dataclass

import orjson

from twofold.domain.mfa import ALL_FACTORS, Factor, MfaStatus, bindings_for, default_status, is_enrolled
from twofold.services.context import Clock
from twofold.services.mfa_failures import RECOVERY_CODE_USED, VERIFIED
from twofold.services.mfa_input import parse_factors
from twofold.storage.database import Database
from twofold.storage.repositories import audit as audit_repo
from twofold.storage.repositories import mfa_overview as overview_repo
from twofold.storage.repositories import pools as pools_repo

LAST_USE_EVENTS = 200  # the user's newest verifications read for their factors' last use


@dataclass(frozen=True)
class FactorAdoption:
    factor: Factor
    enrolled: int
    required_not_enrolled: int


@dataclass(frozen=True)
class LockedFactor:
    user_id: str
    email: str | None
    factor: str
    failures: int
    locked_until: int  # ms


class MfaOverviewService:
    def __init__(self, db: Database, clock: Clock) -> None:
        self._db = db
        self._clock = clock

    async def adoption(self, pool_id: str) -> tuple[list[FactorAdoption], int]:
        """Per factor (OTP, SMS, EMAIL, FACE): enrolled, and required but not enrolled; and how many
        users have a factor locked now."""
        enrolled = dict.fromkeys(ALL_FACTORS, 0)
        missing = dict.fromkeys(ALL_FACTORS, 0)
        async with self._db.read() as conn:
            pool = await pools_repo.get(conn, pool_id)
            pool_factors = parse_factors(pool.mfa_enabled_factors if pool else [], "enabledFactors")
            for row in await overview_repo.adoption_groups(conn, pool_id):
                has_otp, n = bool(row["has_otp"]), int(row["n"])
                document = row["document"]
                status = (
                    default_status(pool_factors, has_otp)
                    if document is None
                    else MfaStatus.from_document(orjson.loads(document), 0)
                )
                # only whether there is a phone or an email matters to what is bound
                phone = "-" if row["has_phone"] else None
                bindings = bindings_for(status, has_otp, phone, None, "-" if row["has_email"] else None)
                challenged = status.challenged_factors()
                for factor in ALL_FACTORS:
                    if is_enrolled(status, bindings, factor):
                        enrolled[factor] += n
                    elif factor in challenged:
                        missing[factor] += n
            locked = await overview_repo.count_locked(conn, pool_id, self._clock())
        return [FactorAdoption(f, enrolled[f], missing[f]) for f in ALL_FACTORS], locked

    async def locked(self, pool_id: str, limit: int = 20) -> list[LockedFactor]:
        """The factors locked now, the latest lock to end first."""
        async with self._db.read() as conn:
            rows = await overview_repo.locked(conn, pool_id, self._clock(), max(1, min(limit, 100)))
        return [
            LockedFactor(r["user_id"], r["email"], r["factor"], int(r["failures"]), int(r["locked_until"]))
            for r in rows
        ]

    async def last_uses(self, pool_id: str, user_id: str) -> dict[Factor, int]:
        """When each of the user's factors was last verified (ms), from the audit trail: only the
        factors verified among the user's newest ``LAST_USE_EVENTS`` verifications."""
        found: dict[Factor, int] = {}
        async with self._db.read() as conn:
            for action in (VERIFIED, RECOVERY_CODE_USED):
                rows = await audit_repo.list_events(conn, pool_id, user_id, action, None, LAST_USE_EVENTS)
                for row in rows:
                    try:
                        after = orjson.loads(row["after"]) if row["after"] else {}
                        factor = Factor(str(after.get("factor")))
                    except (orjson.JSONDecodeError, ValueError, AttributeError):
                        continue
                    found[factor] = max(found.get(factor, 0), int(row["at"]))
        return found
