"""The MFA step of a sign-in: a code for one of the challenged factors, then the token set.

The caller holds the mfaToken a sign-in answered with apiCode 1636 (docs/wire.md#mfa-required). The
code is checked by ``MfaCheck`` (lockout, replay guard, counting); only a right code spends the
mfaToken, so a wrong one can be retried with the same token until it expires or the factor locks.
A signed-in user may verify their authenticator with their access token instead: then the answer is
only whether the code was right.
"""

from __future__ import annotations

from dataclasses import dataclass

from twofold.domain.identifiers import UserIdType
from twofold.domain.mfa import Factor
from twofold.domain.signin import TokenSet
from twofold.errors import InvalidUserToken, MfaTokenInvalid
from twofold.services.mfa import MfaService
from twofold.services.mfa_failures import Attempt, MfaCheck
from twofold.services.mfa_tickets import MfaTicketService
from twofold.services.signin import RequestFacts, SignInService
from twofold.services.tokens import TokenService
from twofold.services.users import UserService


@dataclass(frozen=True)
class StepResult:
    verified: bool
    tokens: TokenSet | None = None  # present when an mfaToken's sign-in was completed


class MfaStepService:
    def __init__(
        self,
        tickets: MfaTicketService,
        check: MfaCheck,
        tokens: TokenService,
        mfa: MfaService,
        users: UserService,
        signin: SignInService,
    ) -> None:
        self._tickets = tickets
        self._check = check
        self._tokens = tokens
        self._mfa = mfa
        self._users = users
        self._signin = signin

    async def verify_totp(self, token: str | None, code: str, facts: RequestFacts) -> StepResult:
        """``mfa-totp-verify``: with an mfaToken, a right code for a challenged OTP finishes the sign-in."""
        try:
            ticket = await self._tickets.verify_mfa_token(token)
        except MfaTokenInvalid:
            try:
                claims = await self._tokens.verify_access_token(token)
            except InvalidUserToken:
                raise MfaTokenInvalid("neither a live mfaToken nor an access token") from None
            attempt = Attempt(facts.request_id, facts.client_ip, claims.app_id)
            return StepResult(await self._check.check_totp(claims.pool_id, claims.user_id, code, attempt))
        view = await self._users.get_user(ticket.pool_id, ticket.user_id, str(UserIdType.USER_ID))
        requirement = await self._mfa.requirement(ticket.pool_id, ticket.app_id, view.user)
        if Factor.OTP not in {c.factor for c in requirement.challenges}:
            return StepResult(False)  # the policy does not challenge OTP for this sign-in
        attempt = Attempt(facts.request_id, facts.client_ip, ticket.app_id)
        if not await self._check.check_totp(ticket.pool_id, ticket.user_id, code, attempt):
            return StepResult(False)
        spent = await self._tickets.consume_mfa_token(token)
        return StepResult(True, await self._signin.complete_mfa(spent, str(Factor.OTP), facts))



