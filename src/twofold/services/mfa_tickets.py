"""mfaTokens: minted by a sign-in that needs MFA, verified by enrolment, spent once by the MFA step.

``consume_mfa_token`` is the one way an mfaToken turns into tokens: it verifies the token and records
its ``jti`` as spent with an ``INSERT ... ON CONFLICT DO NOTHING`` on the primary key, so of any number
of concurrent consumers, in any number of processes or instances on one database, exactly one wins.
"""

from __future__ import annotations

import jwt

from twofold.auth import mfa_tokens
from twofold.auth.mfa_tokens import MfaTicket
from twofold.errors import MfaTokenInvalid
from twofold.services.context import Clock
from twofold.storage.database import Database
from twofold.storage.repositories import mfa_tickets as tickets_repo

__all__ = ["MfaTicket", "MfaTicketService"]


class MfaTicketService:
    def __init__(self, db: Database, key: bytes, issuer: str, ttl_seconds: int, clock: Clock) -> None:
        self._db = db
        self._key = key
        self._issuer = issuer
        self._ttl = ttl_seconds
        self._clock = clock

    def mint(self, pool_id: str, user_id: str, app_id: str, scope: str, connection: str = "PASSWORD") -> str:
        """A fresh mfaToken for one sign-in (a new ``jti``), valid ``mfa_token_ttl_seconds`` (≤ 300);
        ``connection`` says how the first factor was passed."""
        return mfa_tokens.mint(
            self._key, self._issuer, pool_id, user_id, app_id, scope, self._clock() // 1000, self._ttl, connection
        )

    def _decode(self, token: str | None) -> MfaTicket:
        if not token:
            raise MfaTokenInvalid("no mfaToken")
        try:
            return mfa_tokens.decode(self._key, token, self._issuer, self._clock() // 1000)
        except (jwt.InvalidTokenError, ValueError, TypeError, KeyError) as exc:
            raise MfaTokenInvalid(f"mfaToken refused: {exc}") from None

    async def verify_mfa_token(self, token: str | None) -> MfaTicket:
        """The ticket of a valid, unspent mfaToken, leaving it unspent (enrolment uses this)."""
        ticket = self._decode(token)
        async with self._db.read() as conn:
            if await tickets_repo.is_spent(conn, ticket.jti):
                raise MfaTokenInvalid("mfaToken already spent")
        return ticket

    async def introspect(self, token: str | None) -> MfaTicket | None:
        """``/mfa/token/introspection``: the ticket of a live, unspent mfaToken, else None."""
        try:
            return await self.verify_mfa_token(token)
        except MfaTokenInvalid:
            return None

    async def consume_mfa_token(self, token: str | None) -> MfaTicket:
        """Verify and spend, atomically: the first caller gets the ticket, every later one (or any
        concurrent one that lost) gets ``MfaTokenInvalid``.  Call it only once the factor is verified."""
        return await self.consume(self._decode(token))

    async def consume(self, ticket: MfaTicket) -> MfaTicket:
        """Spend the mfaToken of ``ticket``, which ``verify_mfa_token`` returned earlier in the same
        request (so the token is not decoded twice); expiry is checked again, now.  What makes it
        single-use is the database's ``jti`` insert, never anything this process remembers."""
        now = self._clock()
        if ticket.expires_at <= now // 1000:
            raise MfaTokenInvalid("mfaToken expired")
        async with self._db.transaction() as conn:
            won = await tickets_repo.spend(conn, ticket.jti, ticket.user_id, now, ticket.expires_at * 1000)
            if won and now % 64 == 0:  # now and then, forget jtis whose tokens expired anyway
                await tickets_repo.purge_expired(conn, now - 60_000)
        if not won:
            raise MfaTokenInvalid("mfaToken already spent")
        return ticket
