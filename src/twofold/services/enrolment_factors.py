"""The user's own enrolled factors (docs/signin.md#enrolled-factors): ``list-enrolled-factors``,
``get-factor``, ``reset-factor``, ``list-factors-to-enroll``; a user access token only.

A factor is listed when the user enrolled it: OTP with a bound authenticator and ``totpMfaEnabled``,
SMS with ``mfaPhone``, EMAIL with ``mfaEmail`` (the user's own phone and email, which codes fall back
to, belong to the profile and are not factors one can reset).  ``reset-factor`` unbinds one of them
through the one status write, audited ``mfa.factor.reset``: OTP loses its authenticator (secret,
recovery code, last step) and ``totpMfaEnabled``; SMS and EMAIL lose ``mfaPhone``/``mfaEmail``.  It
revokes nothing else: the user is signed in with a token that passed MFA, and their other sign-ins
stay (an administrator's reset, ``services/mfa_admin.py``, revokes them all).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from twofold.domain.mfa import Factor, MfaStatus
from twofold.errors import FactorNotFound
from twofold.services.context import Clock
from twofold.services.enrolment_common import RESET_ACTION, Authoriser, FactorIds, caller_of, write_status
from twofold.services.mfa import MfaService, UserMfa
from twofold.services.signin import RequestFacts
from twofold.storage.database import Database
from twofold.storage.repositories import otp as otp_repo

ENROLLABLE: tuple[Factor, ...] = (Factor.OTP, Factor.SMS, Factor.EMAIL)  # FACE is not served


@dataclass(frozen=True)
class EnrolledFactor:
    factor_id: str
    factor_type: Factor
    profile: dict[str, Any]


def phone_target(status: MfaStatus) -> str:
    return f"{status.mfa_phone_country_code or ''}{status.mfa_phone or ''}"


def enrolled(ids: FactorIds, pool_id: str, state: UserMfa) -> list[EnrolledFactor]:
    status, user_id = state.status, state.user.id
    found = []
    if state.has_totp_secret and status.totp_enabled:
        found.append(EnrolledFactor(ids.of(pool_id, user_id, Factor.OTP), Factor.OTP, {}))
    if status.mfa_phone:
        profile = {"phoneNumber": status.mfa_phone, "phoneCountryCode": status.mfa_phone_country_code}
        found.append(
            EnrolledFactor(ids.of(pool_id, user_id, Factor.SMS, phone_target(status)), Factor.SMS, profile)
        )
    if status.mfa_email:
        found.append(
            EnrolledFactor(
                ids.of(pool_id, user_id, Factor.EMAIL, status.mfa_email), Factor.EMAIL, {"email": status.mfa_email}
            )
        )
    return found


class FactorService:
    def __init__(
        self, db: Database, clock: Clock, authoriser: Authoriser, ids: FactorIds, mfa: MfaService
    ) -> None:
        self._db = db
        self._clock = clock
        self._auth = authoriser
        self._ids = ids
        self._mfa = mfa

    async def list_enrolled(self, token: str | None) -> list[EnrolledFactor]:
        subject = await self._auth.user(token)
        return enrolled(self._ids, subject.pool_id, await self._auth.state(subject))

    async def get(self, token: str | None, factor_id: str | None) -> EnrolledFactor:
        """The caller's factor ``factor_id``; ``FactorNotFound`` for any other id (another user's too)."""
        for factor in await self.list_enrolled(token):
            if factor_id and factor.factor_id == factor_id:
                return factor
        raise FactorNotFound()

    async def to_enroll(self, token: str | None) -> list[Factor]:
        """The factors the caller's application offers (in its order) that they have not enrolled."""
        subject = await self._auth.user(token)
        offered = await self._mfa.app_factors(subject.pool_id, subject.app_id)
        have = {f.factor_type for f in enrolled(self._ids, subject.pool_id, await self._auth.state(subject))}
        return [f for f in offered if f in ENROLLABLE and f not in have]

    async def reset(self, token: str | None, factor_id: str | None, facts: RequestFacts) -> Factor:
        """Unbind the caller's factor ``factor_id``; the factor type that was unbound."""
        subject = await self._auth.user(token)
        state = await self._auth.state(subject)
        factor = next(
            (f for f in enrolled(self._ids, subject.pool_id, state) if factor_id and f.factor_id == factor_id),
            None,
        )
        if factor is None:
            raise FactorNotFound()
        kind = factor.factor_type

        def unbound(status: MfaStatus) -> MfaStatus:
            # the factor read above must still be the stored one (a phone replaced meanwhile is not reset)
            still = {f.factor_id for f in enrolled(self._ids, subject.pool_id, replace(state, status=status))}
            if kind is not Factor.OTP and factor.factor_id not in still:
                raise FactorNotFound()
            if kind is Factor.OTP:
                return replace(status, totp_enabled=False)
            if kind is Factor.SMS:
                return replace(status, mfa_phone=None, mfa_phone_country_code=None)
            return replace(status, mfa_email=None)

        caller = caller_of(subject, facts.request_id, facts.client_ip)
        async with self._db.transaction() as conn:
            await write_status(
                conn, self._clock, caller, subject.user_id, state.status, unbound, RESET_ACTION, {"factor": str(kind)}
            )
            if kind is Factor.OTP:
                await otp_repo.delete(conn, subject.pool_id, subject.user_id)
        return kind
