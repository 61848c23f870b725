"""The MFA step of a sign-in: a code for one of the challenged factors, then the token set.

The caller holds the mfaToken a sign-in answered with apiCode 1636 (docs/wire.md#mfa-required). The
code is checked by ``MfaCheck`` (lockout, replay guard, counting); only a right code spends the
mfaToken, so a wrong one can be retried with the same token until it expires or the factor locks.
A signed-in user may verify their authenticator with their access token instead: then the answer is
only whether the code was right.

The v2 calls of GenAuth's login UI and ``authing-js-sdk`` (docs/wire.md#v2-mfa) take only an mfaToken:
``complete_with_totp`` and ``verify_recovery_code``.  A right recovery code is replaced by a new one in
the same compare-and-set that spends it; the new code is answered once (``StepResult.recovery_code``).
``complete_with_passcode`` finishes with the SMS or EMAIL factor: a code sent on ``CHANNEL_VERIFY_MFA``
to the factor's bound phone or address (``mfaPhone``/``mfaEmail``, else the user's own), checked by
``MfaCheck`` too, so its failures count into the same per-user, per-factor lockout as OTP.
"""

from __future__ import annotations

from dataclasses import dataclass

from twofold.auth.user_tokens import ACCESS_TYPE, is_of_type
from twofold.domain.identifiers import UserIdType
from twofold.domain.mfa import Factor
from twofold.domain.passcodes import Channel, Target, bound_target
from twofold.domain.signin import TokenSet
from twofold.errors import InvalidUserToken, MfaTokenInvalid
from twofold.services.mfa import MfaService
from twofold.services.mfa_failures import Attempt, MfaCheck
from twofold.services.mfa_tickets import MfaTicket, MfaTicketService
from twofold.services.passcodes import PasscodeCandidate, PasscodeService, normalized
from twofold.services.signin import RequestFacts, SignInService
from twofold.services.tokens import TokenService
from twofold.services.totp_check import new_recovery_code
from twofold.services.users import UserService, UserView


@dataclass(frozen=True)
class StepResult:
    verified: bool
    tokens: TokenSet | None = None  # present when an mfaToken's sign-in was completed
    user: UserView | None = None  # with ``tokens``: the user who signed in
    expires_at: int | None = None  # with ``tokens``: when the access token expires (epoch seconds)
    recovery_code: str | None = None  # after a recovery code: the user's new one, shown this once


class MfaStepService:
    def __init__(
        self,
        tickets: MfaTicketService,
        check: MfaCheck,
        tokens: TokenService,
        mfa: MfaService,
        users: UserService,
        signin: SignInService,
        passcodes: PasscodeService,
    ) -> None:
        self._tickets = tickets
        self._check = check
        self._tokens = tokens
        self._mfa = mfa
        self._users = users
        self._signin = signin
        self._passcodes = passcodes

    async def verify_totp(self, token: str | None, code: str, facts: RequestFacts) -> StepResult:
        """``mfa-totp-verify``: with an mfaToken, a right code for a challenged OTP finishes the sign-in;
        with an access token, the answer is only whether the code was right.  The token's (unverified)
        ``typ`` says which of the two to verify it as, so it is verified once: an access token can never
        pass as an mfaToken (another algorithm and key), nor the other way round."""
        if token and is_of_type(token, ACCESS_TYPE):
            try:  # the revocation state of the token's sign-in is read with the authenticator: one query
                signed = await self._tokens.signed_claims(token)
                read = await self._check.totp.read_by_sign_in(signed.family_id, signed.user_id, str(Factor.OTP))
                claims = self._tokens.live_claims(signed, read.family)
            except InvalidUserToken:
                raise MfaTokenInvalid("neither a live mfaToken nor an access token") from None
            attempt = Attempt(facts.request_id, facts.client_ip, claims.app_id)
            passed = await self._check.check_totp_read(
                claims.pool_id, claims.user_id, code, read.stored, read.locked_until, attempt
            )
            return StepResult(passed)
        try:
            ticket = await self._tickets.verify_mfa_token(token)
        except MfaTokenInvalid:
            raise MfaTokenInvalid("neither a live mfaToken nor an access token") from None
        return await self._finish_otp(ticket, code, facts)

    async def complete_with_totp(self, token: str | None, code: str, facts: RequestFacts) -> StepResult:
        """v2 ``/api/v2/mfa/totp/verify``: only an mfaToken (``MfaTokenInvalid`` otherwise)."""
        ticket = await self._tickets.verify_mfa_token(token)
        return await self._finish_otp(ticket, code, facts)

    async def verify_recovery_code(self, token: str | None, code: str, facts: RequestFacts) -> StepResult:
        """v2 ``/api/v2/mfa/totp/recovery``: the recovery code of a challenged OTP factor finishes the
        sign-in like a TOTP code; it counts, and locks, as the OTP factor.  The spent code is replaced
        by a new one, which the result carries."""
        ticket = await self._tickets.verify_mfa_token(token)
        view = await self._challenged_user(ticket)
        if view is None:
            return StepResult(False)
        fresh = new_recovery_code()
        attempt = Attempt(facts.request_id, facts.client_ip, ticket.app_id)
        if not await self._check.check_recovery_code(ticket.pool_id, ticket.user_id, code, attempt, fresh):
            return StepResult(False)
        done = await self._complete(ticket, view, facts)
        return StepResult(True, done.tokens, done.user, done.expires_at, fresh)

    async def complete_with_passcode(
        self, token: str | None, factor: Factor, target: Target, code: str, facts: RequestFacts
    ) -> StepResult:
        """v2 ``/api/v2/applications/mfa/sms|email/verify``: only an mfaToken.  Not verified (and not
        counted) when the sign-in does not challenge ``factor`` or ``target`` is not its bound phone or
        address; else ``MfaCheck`` locks, checks and counts as for OTP."""
        ticket = await self._tickets.verify_mfa_token(token)
        view = await self._challenged_user(ticket, factor)
        if view is None:
            return StepResult(False)
        state = await self._mfa.get_status(ticket.pool_id, ticket.user_id, str(UserIdType.USER_ID))
        bound = bound_target(state.user, state.status, medium_is_sms=factor is Factor.SMS)
        if bound is None or bound.key != normalized(target).key:
            return StepResult(False)
        attempt = Attempt(facts.request_id, facts.client_ip, ticket.app_id)

        async def prepare() -> PasscodeCandidate:
            return await self._passcodes.prepare_check(ticket.pool_id, Channel.CHANNEL_VERIFY_MFA, bound, code)

        if not await self._check.check_factor(ticket.pool_id, ticket.user_id, factor, prepare, attempt):
            return StepResult(False)
        return await self._complete(ticket, view, facts, factor)

    async def _challenged_user(self, ticket: MfaTicket, factor: Factor = Factor.OTP) -> UserView | None:
        """The ticket's user, when this sign-in challenges ``factor`` (None: it does not)."""
        view = await self._users.get_user(ticket.pool_id, ticket.user_id, str(UserIdType.USER_ID))
        requirement = await self._mfa.requirement(ticket.pool_id, ticket.app_id, view.user)
        if factor not in {c.factor for c in requirement.challenges}:
            return None
        return view

    async def _finish_otp(self, ticket: MfaTicket, code: str, facts: RequestFacts) -> StepResult:
        view = await self._challenged_user(ticket)
        if view is None:
            return StepResult(False)  # the policy does not challenge OTP for this sign-in
        attempt = Attempt(facts.request_id, facts.client_ip, ticket.app_id)
        if not await self._check.check_totp(ticket.pool_id, ticket.user_id, code, attempt):
            return StepResult(False)
        return await self._complete(ticket, view, facts)

    async def _complete(
        self, ticket: MfaTicket, view: UserView, facts: RequestFacts, factor: Factor = Factor.OTP
    ) -> StepResult:
        """The factor passed: spend the mfaToken of ``ticket`` (verified at the start of this request; a
        lost race, or expiry meanwhile, is ``MfaTokenInvalid``), issue the tokens."""
        spent = await self._tickets.consume(ticket)
        tokens = await self._signin.complete_mfa(spent, str(factor), facts)
        return StepResult(True, tokens, view, tokens.expires_at)
