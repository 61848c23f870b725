"""Password sign-in (``POST /api/v3/signin``, docs/signin.md).

One rule shapes the code: every refusal looks and costs the same.  Whatever is wrong (the client
secret, the account, the password, the user's status) the caller gets ``InvalidCredentials`` after
exactly one Argon2 verification (a dummy hash when there is no user or no password) and one HMAC of the
client secret; the reason goes to the log and the audit trail.

When the user's MFA policy, as the application sees it (``MfaService.requirement``), asks for a factor,
no token is issued: the outcome is an ``MfaChallenge`` carrying the trigger data and a fresh mfaToken.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

from twofold.domain.identifiers import UserIdType, UserRef, parse_user_ref
from twofold.domain.passcodes import Channel, Email, Phone, Target
from twofold.domain.signin import ClientCredentials, PasscodeSignIn, PasswordSignIn, TokenSet, normalize_scope
from twofold.domain.users import User, UserStatus
from twofold.errors import (
    InvalidCredentials,
    InvalidParameter,
    MfaTokenInvalid,
    SignInThrottled,
    UnsupportedConnection,
)
from twofold.services import audit, login_history
from twofold.services.app_secrets import AppClient, AppSecretService
from twofold.services.context import Caller, Clock, Principal
from twofold.services.mfa import MfaService, UserMfa
from twofold.services.mfa_tickets import MfaTicket, MfaTicketService
from twofold.services.passcodes import PasscodeService
from twofold.services.passwords import verify_password
from twofold.services.signin_throttle import SignInThrottle, Slots
from twofold.services.tokens import TokenService
from twofold.storage.database import Connection, Database
from twofold.storage.repositories import signin_outcomes as outcomes_repo
from twofold.storage.repositories import users as users_repo
from twofold.storage.repositories.refresh_tokens import NewFamily

_IDENTIFIERS = ("email", "username", "phone", "account")
PASSCODE = "PASSCODE"
_FIRST_FACTOR_AMR = {"PASSWORD": "pwd", PASSCODE: "otp"}  # RFC 8176 amr of the first factor


@dataclass(frozen=True)
class MfaChallenge:
    """The sign-in needs MFA: the user's trigger data for this application, and the mfaToken."""

    state: UserMfa
    mfa_token: str


SignInOutcome = TokenSet | MfaChallenge


@dataclass(frozen=True)
class RequestFacts:
    """What the audit trail and the login history record about the request."""

    request_id: str
    client_ip: str
    user_agent: str = ""


def app_caller(pool_id: str, app_id: str, facts: RequestFacts) -> Caller:
    """An application acting for its user, as the audit trail names it (``app:<appId>``)."""
    principal = Principal(pool_id, f"app:{app_id}", frozenset())
    return Caller(principal, facts.request_id, facts.client_ip, facts.user_agent)


class SignInService:
    def __init__(
        self,
        db: Database,
        clock: Clock,
        clients: AppSecretService,
        mfa: MfaService,
        tickets: MfaTicketService,
        tokens: TokenService,
        throttle: SignInThrottle,
        passcodes: PasscodeService,
    ) -> None:
        self._db = db
        self._clock = clock
        self._clients = clients
        self._mfa = mfa
        self._tickets = tickets
        self._tokens = tokens
        self._throttle = throttle
        self._passcodes = passcodes

    async def sign_in(
        self,
        presented: ClientCredentials,
        connection: str,
        request: PasswordSignIn | PasscodeSignIn | None,
        facts: RequestFacts,
    ) -> SignInOutcome:
        """``POST /api/v3/signin``: ``connection`` PASSWORD (``passwordPayload``) or PASSCODE
        (``passCodePayload``)."""
        if connection == "PASSWORD":
            if not isinstance(request, PasswordSignIn):
                raise InvalidParameter("passwordPayload")
            return await self.sign_in_by_password(presented, request, facts)
        if connection == "PASSCODE":
            if not isinstance(request, PasscodeSignIn):
                raise InvalidParameter("passCodePayload")
            return await self.sign_in_by_passcode(presented, request, facts)
        raise UnsupportedConnection("connection", f"{connection[:32]!r}: only PASSWORD and PASSCODE are served")

    async def sign_in_by_password(
        self, presented: ClientCredentials, request: PasswordSignIn, facts: RequestFacts
    ) -> SignInOutcome:
        ref = _reference(request)
        if request.password is None or request.password == "":
            raise InvalidParameter("passwordPayload.password")
        if request.password_encrypt_type not in (None, "none"):
            raise InvalidParameter("options.passwordEncryptType", "only 'none' is supported; send it over TLS")
        scope = normalize_scope(request.scope)
        check = await self._clients.authenticate(presented)
        try:
            slots = await self._throttle.take(
                check.app.pool_id if check.app else None, _account_key(ref, request), facts.client_ip
            )
        except SignInThrottled:
            if check.app is not None:
                caller = app_caller(check.app.pool_id, check.app.app_id, facts)
                await self._record(caller, "signin.throttled", None, "too many failed attempts")
            raise
        user: User | None = None
        if check.app is not None:
            async with self._db.read() as conn:
                user = await _find(conn, check.app.pool_id, ref, request)
        password_ok = await verify_password(user.password_hash if user else None, request.password)
        reason = check.reason
        if not reason:
            if user is None:
                reason = "no such account"
            elif not password_ok:
                reason = "wrong password" if user.password_hash else "the user has no password"
            elif user.status is not UserStatus.ACTIVATED:
                reason = f"the user is {user.status}"
        if reason or check.client is None or user is None:
            if check.app is not None:
                caller = app_caller(check.app.pool_id, check.app.app_id, facts)
                await self._record(caller, "signin.failure", user.id if user else None, reason)
            raise InvalidCredentials(reason or "refused")
        # the password was right: its failures are forgiven, in the write that ends the sign-in
        return await self._first_factor_passed(check.client, user, scope, facts, "PASSWORD", ["pwd"], slots)

    async def sign_in_by_passcode(
        self, presented: ClientCredentials, request: PasscodeSignIn, facts: RequestFacts
    ) -> SignInOutcome:
        """A code sent on ``CHANNEL_LOGIN`` (docs/signin.md#passcode-sign-in).  Refused, throttled and
        recorded like a password: the same ``InvalidCredentials`` whatever is wrong."""
        target = _passcode_target(request)
        if not request.pass_code:
            raise InvalidParameter("passCodePayload.passCode")
        scope = normalize_scope(request.scope)
        check = await self._clients.authenticate(presented)
        pool_id = check.app.pool_id if check.app else None
        try:
            slots = await self._throttle.take(pool_id, _target_account_key(target), facts.client_ip)
        except SignInThrottled:
            if check.app is not None:
                caller = app_caller(check.app.pool_id, check.app.app_id, facts)
                await self._record(caller, "signin.throttled", None, "too many failed attempts", connection=PASSCODE)
            raise
        user: User | None = None
        code_ok = False
        if check.app is not None:  # the code is checked (an attempt used) even when the secret is wrong
            code_ok = await self._passcodes.check(check.app.pool_id, Channel.CHANNEL_LOGIN, target, request.pass_code)
            async with self._db.read() as conn:
                user = await find_by_target(conn, check.app.pool_id, target)
        reason = check.reason
        if not reason:
            if user is None:
                reason = "no such account"
            elif not code_ok:
                reason = "wrong code"
            elif user.status is not UserStatus.ACTIVATED:
                reason = f"the user is {user.status}"
        if reason or check.client is None or user is None:
            if check.app is not None:
                caller = app_caller(check.app.pool_id, check.app.app_id, facts)
                await self._record(caller, "signin.failure", user.id if user else None, reason, connection=PASSCODE)
            raise InvalidCredentials(reason or "refused")
        return await self._first_factor_passed(check.client, user, scope, facts, PASSCODE, ["otp"], slots)

    async def _first_factor_passed(
        self,
        client: AppClient,
        user: User,
        scope: str,
        facts: RequestFacts,
        connection: str,
        amr: list[str],
        slots: Slots,
    ) -> SignInOutcome:
        """The MFA decision: a challenge with an mfaToken when the policy asks for MFA, else the tokens.
        Either way one write ends the sign-in: the throttle's ``slots`` given back, the audit event, the
        login history and (with tokens) the new family (``_record``)."""
        caller = app_caller(client.pool_id, client.app_id, facts)
        requirement = await self._mfa.requirement(client.pool_id, client.app_id, user)
        if requirement.required:
            seen = await self._mfa.get_trigger_data(client.pool_id, client.app_id, user.id, "user_id")
            enabled = tuple(p for p in seen.status.policies if p.enabled)  # only what is challenged
            state = replace(seen, status=replace(seen.status, policies=enabled))
            token = self._tickets.mint(client.pool_id, user.id, client.app_id, scope, connection)
            factors = [str(c.factor) for c in requirement.challenges]
            extra: dict[str, object] = {"factors": factors}
            await self._record(caller, "signin.mfa.challenge", user.id, None, extra, connection, slots=slots)
            return MfaChallenge(state, token)
        family, tokens = self._tokens.new_family(user, client.app_id, scope, amr)
        await self._record(caller, "signin.success", user.id, None, connection=connection, slots=slots, family=family)
        return tokens

    async def complete_mfa(self, ticket: MfaTicket, factor: str, facts: RequestFacts) -> TokenSet:
        """Finish a sign-in whose MFA step passed: ``ticket`` comes from ``consume_mfa_token`` (already
        spent), ``factor`` is what was verified (``OTP``, ``SMS``, ...).  A user who is gone or may no
        longer sign in gets ``MfaTokenInvalid``, like a stale token."""
        async with self._db.read() as conn:
            found = await users_repo.find(conn, ticket.pool_id, UserRef(UserIdType.USER_ID, ticket.user_id))
        user = found[0] if found else None
        if user is None or user.status is not UserStatus.ACTIVATED:
            raise MfaTokenInvalid("the user of this mfaToken is gone or may not sign in")
        amr = [_FIRST_FACTOR_AMR.get(ticket.connection, "pwd"), "mfa", factor.lower()]
        family, tokens = self._tokens.new_family(user, ticket.app_id, ticket.scope, amr)
        caller = app_caller(ticket.pool_id, ticket.app_id, facts)
        await self._record(caller, "signin.success", user.id, None, {"factor": factor}, ticket.connection, family=family)
        return tokens

    async def _record(
        self,
        caller: Caller,
        action: str,
        user_id: str | None,
        reason: str | None,
        extra: dict[str, object] | None = None,
        connection: str = "PASSWORD",
        slots: Slots | None = None,
        family: NewFamily | None = None,
    ) -> None:
        """The write that ends a sign-in (``signin_outcomes``): the audit event, the login history, the
        new ``family``, and the throttle's ``slots`` given back, all in one."""
        after: dict[str, object] = {"appId": caller.principal.access_key_id[4:], "connection": connection}
        if reason:
            after["reason"] = reason
        after.update(extra or {})
        outcome = outcomes_repo.SignInOutcome(
            audit.event(self._clock, caller, action, user_id, after=after),
            login_history.login_row(self._clock, caller, action, user_id, after),
            family,
        )

        async def write(conn: Connection, forget: Sequence[str] = (), give_back: Sequence[str] = ()) -> None:
            await outcomes_repo.write(conn, outcome, forget, give_back)

        if slots is None:
            await self._db.atomic(write)
        else:
            await self._throttle.succeeded(slots, write)


def _passcode_target(request: PasscodeSignIn) -> Target:
    """The email or the phone of ``passCodePayload`` (exactly one)."""
    if bool(request.email) == bool(request.phone):
        raise InvalidParameter("passCodePayload", "send exactly one of email, phone")
    if request.email:
        return Email.parse(request.email, "passCodePayload.email")
    return Phone.parse(request.phone or "", request.phone_country_code or None, "passCodePayload.phone")


def _target_ref(target: Target) -> UserRef:
    if isinstance(target, Email):
        return parse_user_ref(target.address, UserIdType.EMAIL)
    return parse_user_ref(target.e164, UserIdType.PHONE)  # "+CC..." pins the country code


def _target_account_key(target: Target) -> str:
    """The per-account throttle key of a code's target: the same counter as a password sign-in with
    that email or phone (``_account_key``)."""
    ref = _target_ref(target)
    return f"{ref.id_type}:{ref.key}:{ref.sub_key or ''}"


async def find_by_target(conn: Connection, pool_id: str, target: Target) -> User | None:
    """The one user of the pool with this email or phone."""
    found = await users_repo.find(conn, pool_id, _target_ref(target))
    return found[0] if len(found) == 1 else None


def _reference(request: PasswordSignIn) -> UserRef | None:
    """The identifier sent; ``account`` is resolved at lookup (username, then email, then phone)."""
    given = [name for name in _IDENTIFIERS if getattr(request, name)]
    if len(given) != 1:
        raise InvalidParameter("passwordPayload", "send exactly one of email, username, phone, account")
    name = given[0]
    value: str = getattr(request, name)
    if name == "account":
        return None
    id_type = {"email": UserIdType.EMAIL, "username": UserIdType.USERNAME, "phone": UserIdType.PHONE}[name]
    code = (request.phone_country_code or "").strip()
    if id_type is UserIdType.PHONE and code and not value.startswith("+"):
        value = f"{code if code.startswith('+') else '+' + code}{value}"  # "+CC..." pins the country code
    return parse_user_ref(value, id_type, f"passwordPayload.{name}")


def _account_key(ref: UserRef | None, request: PasswordSignIn) -> str:
    """What the per-account throttle counts: the identifier as sent, normalised."""
    if ref is None:
        return f"account:{(request.account or '').strip()}"
    return f"{ref.id_type}:{ref.key}:{ref.sub_key or ''}"


async def _find(conn: Connection, pool_id: str, ref: UserRef | None, request: PasswordSignIn) -> User | None:
    refs: list[UserRef] = []
    if ref is not None:
        refs.append(ref)
    else:
        account = request.account or ""
        refs.append(UserRef(UserIdType.USERNAME, account))
        for id_type in (UserIdType.EMAIL, UserIdType.PHONE):
            try:
                refs.append(parse_user_ref(account, id_type, "passwordPayload.account"))
            except InvalidParameter:
                continue  # not an email / not a phone number: not that kind of account
    for candidate in refs:
        found = await users_repo.find(conn, pool_id, candidate)
        if len(found) == 1:
            return found[0]
    return None
