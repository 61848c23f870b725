"""The one entry point the sign-in step calls to check an MFA code: lock, verification, counting, audit.

``MfaCheck.check_totp(pool_id, user_id, code)`` answers one bool.  Behind it:

1. a locked factor (``domain/lockout.py``) is not verified at all, and answers False exactly like a
   wrong code; the reason goes to the audit trail (``mfa.factor.failed``, ``reason: locked``) and the
   administrator's view (``MfaAdminService.lock_status``) only;
2. the code is checked (``services/totp_check.py``) and accepted with a compare-and-set;
3. a wrong code is counted in one atomic statement that also sets the lock when the count reaches a
   multiple of the limit (``mfa.factor.lockout``); a success sets the count back to zero.

Failures are counted per user and factor, and separately from anything about passwords.  A right code
of a step already used (a replay, or the losers of a race for one code) is refused but not counted:
it is not a guess.  The recovery code counts as the OTP factor: a locked OTP factor refuses it too.
Audit events never contain the code.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Protocol

from twofold import metrics
from twofold.domain.lockout import LockoutPolicy
from twofold.domain.mfa import Factor
from twofold.request_context import current_request_id
from twofold.services import audit
from twofold.services.context import Caller, Clock, Principal
from twofold.services.totp_check import Outcome, TotpChecker
from twofold.storage.database import Connection, Database
from twofold.storage.errors import ForeignKeyViolation
from twofold.storage.repositories import audit as audit_repo
from twofold.storage.repositories import mfa_failures as failures_repo
from twofold.storage.repositories.otp import StoredAuthenticator

VERIFIED = "mfa.factor.verified"
FAILED = "mfa.factor.failed"
LOCKOUT = "mfa.factor.lockout"
RECOVERY_CODE_USED = "mfa.recovery_code.used"
LOCKED = "locked"  # the metrics' result of an attempt on a locked factor


class CodeCandidate(Protocol):
    """A code compared with what was read (``totp_check.Candidate``; an SMS or email code check
    brings its own): ``accept`` is its compare-and-set, run in the atomic write with the counters."""

    async def accept(self, conn: Connection, then: failures_repo.OnAccept | None = None) -> Outcome: ...


@dataclass(frozen=True)
class Attempt:
    """Who is trying, for the audit trail: the sign-in's request and client, and the application."""

    request_id: str | None = None  # default: the current request's id
    client_ip: str = "-"
    app_id: str | None = None


class MfaCheck:
    def __init__(self, db: Database, clock: Clock, totp: TotpChecker, policy: LockoutPolicy) -> None:
        self._db = db
        self._clock = clock
        self.totp = totp
        self.policy = policy

    async def check_totp(self, pool_id: str, user_id: str, code: str, attempt: Attempt | None = None) -> bool:
        """True iff the factor is not locked and ``code`` is the user's TOTP code of a step not used yet.
        The lock and the authenticator are read in one query; the code is compared only if not locked."""
        stored, until = await self.totp.read_with_lock(pool_id, user_id, str(Factor.OTP))
        return await self.check_totp_read(pool_id, user_id, code, stored, until, attempt)

    async def check_totp_read(
        self,
        pool_id: str,
        user_id: str,
        code: str,
        stored: StoredAuthenticator | None,
        until: int | None,
        attempt: Attempt | None = None,
    ) -> bool:
        """``check_totp`` with the authenticator and the lock already read (``TotpChecker.read_with_lock``
        or ``read_by_sign_in``)."""

        async def prepare() -> CodeCandidate:
            return await self.totp.totp_candidate(pool_id, user_id, stored, code)

        return await self._decide(pool_id, user_id, Factor.OTP, until, prepare, attempt, VERIFIED)

    async def check_recovery_code(
        self, pool_id: str, user_id: str, code: str, attempt: Attempt | None = None, replace_with: str | None = None
    ) -> bool:
        """True iff the OTP factor is not locked and ``code`` is the user's recovery code, now spent
        (and replaced by ``replace_with`` in the same compare-and-set, when given)."""
        return await self.check_factor(
            pool_id,
            user_id,
            Factor.OTP,
            lambda: self.totp.prepare_recovery_code(pool_id, user_id, code, replace_with),
            attempt,
            success_action=RECOVERY_CODE_USED,
        )

    async def check_factor(
        self,
        pool_id: str,
        user_id: str,
        factor: Factor,
        prepare: Callable[[], Awaitable[CodeCandidate]],
        attempt: Attempt | None = None,
        success_action: str = VERIFIED,
    ) -> bool:
        """The lock, the check and the counting for any factor: ``prepare`` reads and compares (no
        write); its ``accept`` is the compare-and-set, run with the counters and the audit event in
        one atomic write.  SMS and EMAIL codes are checked through here too, with their own candidate
        (``accept`` answers ACCEPTED, WRONG, REPLAYED or NOT_BOUND; only WRONG is counted)."""
        async with self._db.read() as conn:
            until = await failures_repo.locked_until(conn, pool_id, user_id, factor)
        return await self._decide(pool_id, user_id, factor, until, prepare, attempt, success_action)

    async def _decide(
        self,
        pool_id: str,
        user_id: str,
        factor: Factor,
        until: int | None,
        prepare: Callable[[], Awaitable[CodeCandidate]],
        attempt: Attempt | None,
        success_action: str,
    ) -> bool:
        """``check_factor`` once the lock (``until``) is known."""
        attempt = attempt or Attempt()
        principal = Principal(pool_id, f"user:{user_id}", frozenset())
        caller = Caller(principal, attempt.request_id or current_request_id(), attempt.client_ip)
        about: dict[str, Any] = {"factor": str(factor)}
        if attempt.app_id is not None:
            about["appId"] = attempt.app_id
        label = "RECOVERY_CODE" if success_action == RECOVERY_CODE_USED else str(factor)
        if until is not None and until > self._clock():
            await self._db.atomic(self._refused(caller, user_id, factor, about, Outcome.WRONG, locked=True))
            metrics.MFA_VERIFICATIONS.labels(label, LOCKED).inc()
            return False
        candidate = await prepare()

        async def write(conn: Connection) -> tuple[Outcome, str | None]:
            success = self._event(caller, success_action, user_id, about)
            then = failures_repo.OnAccept(pool_id, user_id, str(factor), success)
            outcome = await candidate.accept(conn, then)  # with a win, the count cleared and the event
            if outcome is Outcome.ACCEPTED:
                return outcome, None
            return outcome, await self._refused(caller, user_id, factor, about, outcome)(conn)

        try:
            outcome, refusal = await self._db.atomic(write)
        except ForeignKeyViolation:  # the user was deleted meanwhile: nothing to count
            return False
        # Counted once committed (a retried transaction is not counted twice).
        metrics.MFA_VERIFICATIONS.labels(label, LOCKED if refusal == LOCKED else str(outcome)).inc()
        if refusal == LOCKOUT:
            metrics.LOCKOUTS.labels(str(factor)).inc()
        return outcome is Outcome.ACCEPTED

    def _refused(
        self,
        caller: Caller,
        user_id: str,
        factor: Factor,
        about: dict[str, Any],
        outcome: Outcome,
        locked: bool = False,
    ) -> Callable[[Connection], Awaitable[str | None]]:
        """The write for a refused attempt: count a wrong code (setting the lock on the limit), audit.
        It answers ``LOCKED`` when the factor was locked already, ``LOCKOUT`` when this failure locked it."""

        async def write(conn: Connection) -> str | None:
            refusal: str | None = LOCKED if locked else None
            details: dict[str, Any] = {"reason": "locked" if locked else str(outcome)}
            if outcome is Outcome.WRONG and not locked:
                count = await failures_repo.record_failure(
                    conn, caller.pool_id, user_id, str(factor), self._clock(), self.policy
                )
                if count is None:  # locked by a parallel failure after our read
                    details["reason"] = "locked"
                    refusal = LOCKED
                else:
                    details["failures"] = count.failures
                    if self.policy.lock_ms(count.failures) is not None:
                        lock = {"failures": count.failures, "lockedUntil": count.locked_until}
                        await audit_repo.insert(conn, self._event(caller, LOCKOUT, user_id, {**about, **lock}))
                        refusal = LOCKOUT
            await audit_repo.insert(conn, self._event(caller, FAILED, user_id, {**about, **details}))
            return refusal

        return write

    def _event(self, caller: Caller, action: str, user_id: str, after: dict[str, Any]) -> audit_repo.AuditRow:
        return audit.event(self._clock, caller, action, user_id, None, after)
