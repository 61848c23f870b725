"""Administrators' MFA actions: see a user's factor locks, unlock a factor, reset one factor or all.

* ``lock_status``: per factor, the consecutive failures, when the lock ends, whether it holds now.
* ``unlock``: sets the failure count of one factor (or all) back to zero, which lifts any lock.
* ``reset_factor``: forgets what the user enrolled for one factor (or all) and their counters: for
  OTP the authenticator is removed (its secret, recovery code and last used step), so the next
  sign-in that challenges OTP enrols a new one.  SMS and EMAIL keep the user's phone and email (they
  belong to the profile); FACE has nothing enrolled yet.

Reset hooks: ``add_reset_hook(hook)`` registers ``hook(conn, pool_id, user_id, factors)``, run in the
reset's own transaction after the factors are removed.  The sign-in flow registers the revocation of
the user's refresh tokens there (issue 10: a reset also revokes them), so a reset and the revocation
commit or fail together.
"""

from __future__ import annotations

from collections.abc import Awaitable, Sequence
from dataclasses import dataclass
from typing import Protocol

from twofold.domain.identifiers import parse_user_id_type, parse_user_ref
from twofold.domain.mfa import ALL_FACTORS, Factor
from twofold.services import audit
from twofold.services.context import Caller, Clock
from twofold.services.mfa_input import parse_factors
from twofold.services.users import UserService
from twofold.storage.database import Connection, Database
from twofold.storage.repositories import mfa_failures as failures_repo
from twofold.storage.repositories import otp as otp_repo

UNLOCK = "mfa.unlock"
RESET = "mfa.factor.reset"


class ResetHook(Protocol):
    def __call__(
        self, conn: Connection, pool_id: str, user_id: str, factors: Sequence[Factor]
    ) -> Awaitable[None]: ...


@dataclass(frozen=True)
class FactorLock:
    factor: Factor
    failures: int  # consecutive failures since the last success or unlock
    locked_until: int | None  # ms; the end of the last lock, if there was one
    locked: bool  # whether the lock holds now
    last_failure_at: int | None


@dataclass(frozen=True)
class ResetResult:
    user_id: str
    factors: list[Factor]
    otp_removed: bool


def _factors(factor: str | None) -> list[Factor]:
    """One factor, or all of them when none is named (an empty name is refused, not "all")."""
    if factor is None:
        return list(ALL_FACTORS)
    return parse_factors([factor], "factor")


class MfaAdminService:
    def __init__(self, db: Database, clock: Clock, users: UserService) -> None:
        self._db = db
        self._clock = clock
        self._users = users
        self._reset_hooks: list[ResetHook] = []

    def add_reset_hook(self, hook: ResetHook) -> None:
        """Run ``hook`` in every reset's transaction (the sign-in flow revokes refresh tokens there)."""
        self._reset_hooks.append(hook)

    async def lock_status(
        self, pool_id: str, user_id: str | None, user_id_type: str | None
    ) -> tuple[str, list[FactorLock]]:
        """The user's id and, for every factor, its failure count and lock."""
        ref = parse_user_ref(user_id, parse_user_id_type(user_id_type))
        async with self._db.read() as conn:
            user = await self._users.resolve(conn, pool_id, ref)
            counts = {c.factor: c for c in await failures_repo.list_for_user(conn, pool_id, user.id)}
        now = self._clock()
        locks = []
        for factor in ALL_FACTORS:
            count = counts.get(str(factor))
            if count is None:
                locks.append(FactorLock(factor, 0, None, False, None))
                continue
            until = count.locked_until
            locked = until is not None and until > now
            locks.append(FactorLock(factor, count.failures, until, locked, count.last_failure_at))
        return user.id, locks

    async def unlock(
        self, caller: Caller, user_id: str | None, user_id_type: str | None, factor: str | None = None
    ) -> list[Factor]:
        """Set the failure count of ``factor`` (default: every factor) back to zero; the factors that
        had one.  Idempotent: unlocking a factor with no failures changes nothing but the audit trail."""
        factors = _factors(factor)
        ref = parse_user_ref(user_id, parse_user_id_type(user_id_type))
        async with self._db.transaction() as conn:
            user = await self._users.resolve(conn, caller.pool_id, ref)
            before = {c.factor: c for c in await failures_repo.list_for_user(conn, caller.pool_id, user.id)}
            cleared = [f for f in factors if await failures_repo.clear(conn, caller.pool_id, user.id, str(f))]
            await audit.record(
                conn,
                self._clock,
                caller,
                UNLOCK,
                user.id,
                {
                    str(f): {"failures": before[str(f)].failures, "lockedUntil": before[str(f)].locked_until}
                    for f in cleared
                },
                {"factors": [str(f) for f in factors]},
            )
        return cleared

    async def reset_factor(
        self, caller: Caller, user_id: str | None, user_id_type: str | None, factor: str | None = None
    ) -> ResetResult:
        """Forget ``factor`` (default: every factor) for the user, with its counters; the reset hooks
        (refresh-token revocation) run in the same transaction."""
        factors = _factors(factor)
        ref = parse_user_ref(user_id, parse_user_id_type(user_id_type))
        async with self._db.transaction() as conn:
            user = await self._users.resolve(conn, caller.pool_id, ref)
            removed = Factor.OTP in factors and await otp_repo.delete(conn, caller.pool_id, user.id)
            for f in factors:
                await failures_repo.clear(conn, caller.pool_id, user.id, str(f))
            for hook in self._reset_hooks:
                await hook(conn, caller.pool_id, user.id, factors)
            await audit.record(
                conn,
                self._clock,
                caller,
                RESET,
                user.id,
                {"otpBound": removed} if Factor.OTP in factors else None,
                {"factors": [str(f) for f in factors], "otpRemoved": removed},
            )
        return ResetResult(user.id, factors, removed)
