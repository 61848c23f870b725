"""Who may be sent a one-time code: the rules of ``send-sms``, ``send-email``, ``/api/v2/email/send``
and ``/api/v2/sms/send`` (docs/delivery.md#who-may-send-to-whom).

* **MFA channels** (``CHANNEL_VERIFY_MFA``, ``CHANNEL_BIND_MFA``, ``CHANNEL_UNBIND_MFA``): the caller
  holds an mfaToken or a user access token, and the target must be one of that user's own addresses
  (``mfaPhone``/``mfaEmail``, phone, email).  Anything else is ``SendTargetNotAllowed``, decided from
  the caller's own data only, so it tells nothing about who else has that number.  Never an arbitrary
  number: that would be an SMS-pumping relay.
* **CHANNEL_LOGIN**: the application is named by its app-id header.  A code is delivered only to an
  address of an active user of the application's pool; for any other address the send is counted
  against every limit like a real one, nothing is stored or delivered, and the caller gets the same
  success (audited as ``passcode.send.suppressed``).

The limits, storage and delivery are ``PasscodeService``'s.
"""

from __future__ import annotations

from twofold.domain.identifiers import UserIdType
from twofold.domain.passcodes import MFA_CHANNELS, Channel, Target, own_targets
from twofold.domain.signin import ClientCredentials
from twofold.domain.users import UserStatus
from twofold.errors import (
    ApplicationNotFound,
    InvalidParameter,
    InvalidUserToken,
    MfaTokenInvalid,
    SendTargetNotAllowed,
)
from twofold.services import audit
from twofold.services.app_secrets import AppSecretService
from twofold.services.context import Caller, Clock, Principal
from twofold.services.mfa import MfaService
from twofold.services.mfa_tickets import MfaTicketService
from twofold.services.passcodes import PasscodeService, normalized
from twofold.services.signin import RequestFacts, find_by_target
from twofold.services.tokens import TokenService
from twofold.storage.database import Database

REFUSED_ACTION = "passcode.send.refused"


class CodeSendService:
    def __init__(
        self,
        db: Database,
        clock: Clock,
        passcodes: PasscodeService,
        clients: AppSecretService,
        tickets: MfaTicketService,
        tokens: TokenService,
        mfa: MfaService,
    ) -> None:
        self._db = db
        self._clock = clock
        self._passcodes = passcodes
        self._clients = clients
        self._tickets = tickets
        self._tokens = tokens
        self._mfa = mfa

    async def send(
        self, channel: Channel, target: Target, app_id: str | None, token: str | None, facts: RequestFacts
    ) -> None:
        """Send a code on ``channel`` to ``target`` if the rules above allow it.  ``app_id``: the app-id
        header (CHANNEL_LOGIN); ``token``: the ``authorization`` token (the MFA channels)."""
        target = normalized(target)
        if channel in MFA_CHANNELS:
            await self._send_to_own(channel, target, token, facts)
        else:
            await self._send_for_login(channel, target, app_id, facts)

    async def _send_for_login(self, channel: Channel, target: Target, app_id: str | None, facts: RequestFacts) -> None:
        if not app_id:
            raise InvalidParameter("x-genauth-app-id", "name the application in the app-id header")
        check = await self._clients.authenticate(ClientCredentials(header_app_id=app_id))
        if check.app is None:
            raise ApplicationNotFound()
        pool_id = check.app.pool_id
        async with self._db.read() as conn:
            user = await find_by_target(conn, pool_id, target)
        actor = f"app:{check.app.app_id}"
        if user is None or user.status is not UserStatus.ACTIVATED:
            reason = "no such account" if user is None else f"the user is {user.status}"
            await self._passcodes.send(
                pool_id, channel, target, facts.client_ip, user_id=user.id if user else None, actor=actor,
                suppress=reason,
            )
            return
        await self._passcodes.send(pool_id, channel, target, facts.client_ip, user_id=user.id, actor=actor)

    async def _send_to_own(self, channel: Channel, target: Target, token: str | None, facts: RequestFacts) -> None:
        pool_id, user_id = await self._owner(token)
        state = await self._mfa.get_status(pool_id, user_id, str(UserIdType.USER_ID))
        if target.key not in own_targets(state.user, state.status):
            caller = Caller(Principal(pool_id, f"user:{user_id}", frozenset()), facts.request_id, facts.client_ip)
            about = {"channel": channel.value, "to": target.key.split(":", 1)[1], "reason": "not the user's own"}
            async with self._db.transaction() as conn:
                await audit.record(conn, self._clock, caller, REFUSED_ACTION, user_id, after=about)
            raise SendTargetNotAllowed()
        await self._passcodes.send(
            pool_id, channel, target, facts.client_ip, user_id=user_id, actor=f"user:{user_id}"
        )

    async def _owner(self, token: str | None) -> tuple[str, str]:
        """The pool and user of a live mfaToken or user access token; ``MfaTokenInvalid`` otherwise."""
        try:
            ticket = await self._tickets.verify_mfa_token(token)
            return ticket.pool_id, ticket.user_id
        except MfaTokenInvalid:
            try:
                claims = await self._tokens.verify_access_token(token)
            except InvalidUserToken:
                raise MfaTokenInvalid("neither a live mfaToken nor an access token") from None
            return claims.pool_id, claims.user_id
