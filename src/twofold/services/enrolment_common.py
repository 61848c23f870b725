"""What every enrolment path shares (docs/signin.md#enrolment): who may enrol, the factor ids, and the
one way an enrolment changes the user's MFA status.

* **Who.** A user access token may enrol, list, read and reset the user's own factors.  An mfaToken
  (left unspent) may enrol one factor, and only when its sign-in cannot finish otherwise: the factor
  is challenged and not bound yet, and *no* challenged factor is enrolled.  So a password alone never
  adds a second way past a factor the user already has (an attacker with the password cannot bind
  their own phone next to the user's authenticator).
* **Factor ids** are an HMAC-SHA256 (key derived from the master key) of the pool, the user, the
  factor type and, for SMS and EMAIL, the target: stable while the factor is unchanged, different for
  every user, and not computable by anyone without the key.  A replaced phone gets a new id, so a
  stale id never resets the new one.
* **Status writes** go through ``mfa_writes`` under the user's lock, with the enrolment's own audit
  event, in the caller's transaction.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable
from dataclasses import dataclass

from twofold.domain.identifiers import UserIdType
from twofold.domain.mfa import Factor, MfaStatus, Requirement
from twofold.errors import InvalidUserToken, MfaTokenInvalid, VersionConflict
from twofold.services import audit, mfa_writes
from twofold.services.context import Caller, Clock, Principal
from twofold.services.mfa import MfaService, UserMfa
from twofold.services.mfa_tickets import MfaTicket, MfaTicketService
from twofold.services.tokens import TokenService
from twofold.storage.database import Connection
from twofold.storage.repositories import mfa as mfa_repo

ENROLLMENT_TTL_MS = 60_000  # as GenAuth's enrollmentToken
ENROLLED_ACTION = "mfa.factor.enrolled"
RESET_ACTION = "mfa.factor.reset"


@dataclass(frozen=True)
class Subject:
    """The user an enrolment call acts for, the application they signed in to, and ``ticket`` when the
    call came with an mfaToken."""

    pool_id: str
    user_id: str
    app_id: str
    ticket: MfaTicket | None = None


def token_digest(token: str) -> str:
    """Pending enrolments are kept under the SHA-256 of their enrollmentToken, never the token."""
    return hashlib.sha256(token.encode()).hexdigest()


def caller_of(subject: Subject, request_id: str, client_ip: str) -> Caller:
    return Caller(Principal(subject.pool_id, f"user:{subject.user_id}", frozenset()), request_id, client_ip)


def may_enrol_during_sign_in(requirement: Requirement, factor: Factor) -> bool:
    """An mfaToken's sign-in may enrol ``factor``: challenged, not bound, and nothing challenged is."""
    challenged = {c.factor: c.needs_enrolment for c in requirement.challenges}
    return challenged.get(factor) is True and all(challenged.values())


class FactorIds:
    def __init__(self, key: bytes) -> None:
        """``key``: ``derive_key(master, "twofold/factor-id/v1")``."""
        self._key = key

    def of(self, pool_id: str, user_id: str, factor: Factor, target: str = "") -> str:
        text = "\n".join((pool_id, user_id, str(factor), target))
        return hmac.new(self._key, text.encode(), hashlib.sha256).hexdigest()[:24]


class Authoriser:
    def __init__(self, tokens: TokenService, tickets: MfaTicketService, mfa: MfaService) -> None:
        self._tokens = tokens
        self._tickets = tickets
        self._mfa = mfa

    async def user(self, token: str | None) -> Subject:
        """A user access token only (list, read, reset)."""
        claims = await self._tokens.verify_access_token(token)
        return Subject(claims.pool_id, claims.user_id, claims.app_id)

    async def user_or_ticket(self, token: str | None) -> Subject:
        """A user access token, or any live mfaToken (reads that show no secret)."""
        try:
            return await self.user(token)
        except InvalidUserToken:
            pass
        try:
            ticket = await self._tickets.verify_mfa_token(token)
        except MfaTokenInvalid:
            raise InvalidUserToken("neither an access token nor a live mfaToken") from None
        return Subject(ticket.pool_id, ticket.user_id, ticket.app_id, ticket)

    async def enrolling(self, token: str | None, factor: Factor) -> Subject:
        """A user access token, or the mfaToken of a sign-in that must enrol ``factor`` (left unspent)."""
        subject = await self.user_or_ticket(token)
        if subject.ticket is None:
            return subject
        state = await self._mfa.get_status(subject.pool_id, subject.user_id, str(UserIdType.USER_ID))
        requirement = await self._mfa.requirement(subject.pool_id, subject.ticket.app_id, state.user)
        if not may_enrol_during_sign_in(requirement, factor):
            raise MfaTokenInvalid(f"this sign-in does not ask to enrol {factor}")
        return subject

    async def state(self, subject: Subject) -> UserMfa:
        return await self._mfa.get_status(subject.pool_id, subject.user_id, str(UserIdType.USER_ID))


async def write_status(
    conn: Connection,
    clock: Clock,
    caller: Caller,
    user_id: str,
    fallback: MfaStatus,
    change: Callable[[MfaStatus], MfaStatus],
    action: str,
    after: dict[str, object],
) -> None:
    """Change the user's status (``fallback`` when none is stored) under their lock, through the one
    status write path, and record ``action``; in the caller's transaction."""
    _, seen = await mfa_repo.lock_current(conn, caller.pool_id, user_id)
    status = seen.status() if seen is not None else fallback
    write = mfa_writes.prepare(clock, caller, user_id, change(status), seen)
    if await write.run(conn) is None:
        raise VersionConflict()
    await audit.record(conn, clock, caller, action, user_id, after=after)
