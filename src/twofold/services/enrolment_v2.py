"""The v2 enrolment calls of ``authing-js-sdk`` ``MfaAuthenticationClient`` and GenAuth's login UI
(docs/signin.md#v2-enrolment, docs/wire.md#v2-mfa).

* ``authenticators``: ``GET /api/v2/mfa/authenticator``, the user's bound TOTP authenticator (never
  its secret or recovery code), with a user access token or any live mfaToken of the user.
* ``associate``: ``POST /api/v2/mfa/totp/associate``, a new pending OTP enrolment (as v3
  ``send-enroll-factor-request``), with the secret for typing in by hand.
* ``confirm``: ``POST /api/v2/mfa/totp/associate/confirm {totp}``, binds the user's newest live pending
  OTP enrolment (v2 names no enrollmentToken).  With an mfaToken the confirming code is also the
  sign-in's MFA step: the mfaToken is spent and the token set issued, as Guard ends the flow then.
* ``bindable``: ``POST /api/v2/applications/mfa/check {phone | email}``, whether the address can be
  bound: whether it is a valid phone number or email address.  It never says whether another user
  has it (no oracle): binding proves possession with a code anyway.
"""

from __future__ import annotations

from dataclasses import dataclass

from twofold.domain.identifiers import UserIdType
from twofold.domain.mfa import Factor
from twofold.domain.passcodes import Email, Phone
from twofold.errors import InvalidParameter
from twofold.services.context import Clock
from twofold.services.enrolment import EnrolmentService, OtpEnrolment
from twofold.services.enrolment_common import Authoriser, FactorIds
from twofold.services.mfa_step import StepResult
from twofold.services.mfa_tickets import MfaTicketService
from twofold.services.signin import RequestFacts, SignInService
from twofold.services.users import UserService
from twofold.storage.database import Database
from twofold.storage.repositories import enrolments as enrolments_repo
from twofold.storage.repositories import otp as otp_repo


@dataclass(frozen=True)
class Authenticator:
    id: str
    user_id: str
    created_at: int  # ms
    enabled: bool


class V2Enrolment:
    def __init__(
        self,
        db: Database,
        clock: Clock,
        authoriser: Authoriser,
        ids: FactorIds,
        enrolment: EnrolmentService,
        tickets: MfaTicketService,
        signin: SignInService,
        users: UserService,
    ) -> None:
        self._db = db
        self._clock = clock
        self._auth = authoriser
        self._ids = ids
        self._enrolment = enrolment
        self._tickets = tickets
        self._signin = signin
        self._users = users

    async def authenticators(self, token: str | None) -> list[Authenticator]:
        subject = await self._auth.user_or_ticket(token)
        state = await self._auth.state(subject)
        if not state.has_totp_secret:
            return []
        async with self._db.read() as conn:
            row = await otp_repo.get(conn, subject.pool_id, subject.user_id)
        if row is None:
            return []
        factor_id = self._ids.of(subject.pool_id, subject.user_id, Factor.OTP)
        return [Authenticator(factor_id, subject.user_id, int(row["created_at"]), state.status.totp_enabled)]

    async def associate(self, token: str | None) -> OtpEnrolment:
        subject = await self._auth.enrolling(token, Factor.OTP)
        return await self._enrolment.start_otp_for(subject)

    async def confirm(self, token: str | None, code: str | None, facts: RequestFacts) -> StepResult:
        """Bind the newest pending authenticator with ``code`` (``EnrolmentCodeWrong`` if wrong, nothing
        changed); with an mfaToken, then finish its sign-in (``StepResult.tokens``)."""
        subject = await self._auth.enrolling(token, Factor.OTP)
        async with self._db.read() as conn:
            pending = await enrolments_repo.find_latest_live(
                conn, subject.pool_id, subject.user_id, str(Factor.OTP), self._clock()
            )
        await self._enrolment.confirm_otp_pending(subject, pending, code, facts)
        if subject.ticket is None:
            return StepResult(True)
        spent = await self._tickets.consume(subject.ticket)
        tokens = await self._signin.complete_mfa(spent, str(Factor.OTP), facts)
        view = await self._users.get_user(spent.pool_id, spent.user_id, str(UserIdType.USER_ID))
        return StepResult(True, tokens, view, tokens.expires_at)

    async def bindable(self, token: str | None, phone: str | None, email: str | None) -> bool:
        await self._auth.user_or_ticket(token)
        if not phone and not email:
            raise InvalidParameter("phone")
        try:
            if phone:
                Phone.parse(phone, None, "phone")
            if email:
                Email.parse(email, "email")
        except InvalidParameter:
            return False
        return True
