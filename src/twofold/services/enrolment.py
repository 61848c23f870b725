"""Enrolling a TOTP authenticator (docs/signin.md#enrolment).

``start_otp`` makes a secret (160 bits or more), its otpauth URI and QR code, and a recovery code shown
once (only its HMAC-SHA256 digest is kept); they wait in ``pending_enrolments`` (the secret encrypted) under the SHA-256 of a random
enrollmentToken that lives 60 seconds.  Nothing about the user's active authenticator changes then.
``confirm_otp`` with a right code binds the authenticator, spends the code's step (so the code that
confirmed the enrolment never verifies anything), sets ``totpMfaEnabled`` through the one status write
path (``mfa_writes``), and records ``mfa.factor.enrolled``, all in one transaction.  A wrong code
changes nothing.

Enrolment is authorised by the user's access token, or by the mfaToken of a sign-in whose challenged
OTP is not bound yet; the mfaToken is verified, never spent, so it can still finish that sign-in.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass, replace
from urllib.parse import quote, urlencode

import pyotp
import segno

from twofold.auth.vault import SecretBox
from twofold.domain.identifiers import UserIdType
from twofold.domain.mfa import Factor
from twofold.domain.users import User
from twofold.errors import (
    EnrollmentTokenInvalid,
    EnrolmentCodeWrong,
    InvalidUserToken,
    MfaTokenInvalid,
    UnsupportedFactorType,
    VersionConflict,
)
from twofold.services import audit, mfa_writes
from twofold.services.context import Caller, Clock, Principal
from twofold.services.mfa import MfaService
from twofold.services.mfa_tickets import MfaTicketService
from twofold.services.signin import RequestFacts
from twofold.services.tokens import TokenService
from twofold.services.totp_check import DIGITS, PERIOD_SECONDS, matching_steps, recovery_code_digest
from twofold.storage.database import Connection, Database
from twofold.storage.repositories import enrolments as enrolments_repo
from twofold.storage.repositories import mfa as mfa_repo
from twofold.storage.repositories import otp as otp_repo
from twofold.storage.repositories import pools as pools_repo
from twofold.storage.repositories.enrolments import PendingEnrolment

ENROLLMENT_TTL_MS = 60_000  # as GenAuth's enrollmentToken
SECRET_LENGTH = 32  # base32 characters: 160 bits
ENROLLED_ACTION = "mfa.factor.enrolled"


@dataclass(frozen=True)
class OtpEnrolment:
    enrollment_token: str
    qr_code_uri: str
    qr_code_data_url: str
    recovery_code: str  # shown this once


@dataclass(frozen=True)
class EnrolledFactor:
    factor_id: str
    factor_type: Factor


@dataclass(frozen=True)
class _Subject:
    pool_id: str
    user_id: str


def otpauth_uri(secret: str, issuer: str, account: str) -> str:
    """``otpauth://totp/<issuer>:<account>?secret=…&period=30&digits=6&algorithm=SHA1&issuer=<issuer>``
    (pyotp's ``provisioning_uri`` leaves out the default period, digits and algorithm)."""
    query = urlencode(
        {"secret": secret, "period": PERIOD_SECONDS, "digits": DIGITS, "algorithm": "SHA1", "issuer": issuer},
        quote_via=quote,
    )
    return f"otpauth://totp/{quote(issuer, safe='')}:{quote(account, safe='')}?{query}"


def qr_code_data_url(uri: str) -> str:
    return str(segno.make(uri, error="m").png_data_uri(scale=4))


def new_recovery_code() -> str:
    """Six groups of four lower-case hex digits joined by ``-`` (96 bits), as GenAuth's."""
    raw = secrets.token_hex(12)
    return "-".join(raw[i : i + 4] for i in range(0, len(raw), 4))


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def factor_id(user_id: str) -> str:
    return hashlib.sha256(f"otp:{user_id}".encode()).hexdigest()[:24]


def _account(user: User) -> str:
    return user.email or user.username or user.phone or user.id


class EnrolmentService:
    def __init__(
        self,
        db: Database,
        box: SecretBox,
        clock: Clock,
        recovery_key: bytes,
        tickets: MfaTicketService,
        tokens: TokenService,
        mfa: MfaService,
    ) -> None:
        self._db = db
        self._box = box
        self._clock = clock
        self._recovery_key = recovery_key
        self._tickets = tickets
        self._tokens = tokens
        self._mfa = mfa

    async def _authorise(self, token: str | None) -> _Subject:
        """A user access token, or the mfaToken of a sign-in that must enrol OTP (left unspent)."""
        try:
            claims = await self._tokens.verify_access_token(token)
            return _Subject(claims.pool_id, claims.user_id)
        except InvalidUserToken:
            pass
        try:
            ticket = await self._tickets.verify_mfa_token(token)
        except MfaTokenInvalid:
            raise InvalidUserToken("neither an access token nor a live mfaToken") from None
        state = await self._mfa.get_status(ticket.pool_id, ticket.user_id, str(UserIdType.USER_ID))
        requirement = await self._mfa.requirement(ticket.pool_id, ticket.app_id, state.user)
        if not any(c.factor is Factor.OTP and c.needs_enrolment for c in requirement.challenges):
            raise MfaTokenInvalid("this sign-in does not ask to enrol OTP")
        return _Subject(ticket.pool_id, ticket.user_id)

    @staticmethod
    def _otp_only(factor_type: str | None) -> None:
        if (factor_type or "").upper() != Factor.OTP:
            raise UnsupportedFactorType("factorType")

    async def start_otp(self, token: str | None, factor_type: str | None) -> OtpEnrolment:
        self._otp_only(factor_type)
        subject = await self._authorise(token)
        state = await self._mfa.get_status(subject.pool_id, subject.user_id, str(UserIdType.USER_ID))
        async with self._db.read() as conn:
            pool = await pools_repo.get(conn, subject.pool_id)
        issuer = pool.name if pool is not None and pool.name else "Twofold"
        secret = pyotp.random_base32(SECRET_LENGTH)
        uri = otpauth_uri(secret, issuer, _account(state.user))
        recovery = new_recovery_code()
        enrollment_token = secrets.token_urlsafe(32)
        now = self._clock()
        pending = PendingEnrolment(
            token_digest(enrollment_token),
            subject.pool_id,
            subject.user_id,
            str(Factor.OTP),
            self._box.encrypt(secret),
            recovery_code_digest(self._recovery_key, recovery),
            now + ENROLLMENT_TTL_MS,
        )

        async def store(conn: Connection) -> None:
            await enrolments_repo.purge_expired(conn, now)
            await enrolments_repo.insert(conn, pending, now)

        await self._db.atomic(store)
        return OtpEnrolment(enrollment_token, uri, qr_code_data_url(uri), recovery)

    async def confirm_otp(
        self,
        token: str | None,
        factor_type: str | None,
        enrollment_token: str | None,
        code: str | None,
        facts: RequestFacts,
    ) -> None:
        """Bind the pending authenticator if ``code`` is its current one; a wrong code changes nothing."""
        self._otp_only(factor_type)
        subject = await self._authorise(token)
        if not enrollment_token:
            raise EnrollmentTokenInvalid()
        digest = token_digest(enrollment_token)
        now = self._clock()
        async with self._db.read() as conn:
            pending = await enrolments_repo.find_live(conn, digest, now)
        if pending is None or (pending.pool_id, pending.user_id) != (subject.pool_id, subject.user_id):
            raise EnrollmentTokenInvalid()
        steps = matching_steps(self._box.decrypt(pending.secret_ciphertext), code or "", now)
        if not steps:
            raise EnrolmentCodeWrong()
        state = await self._mfa.get_status(subject.pool_id, subject.user_id, str(UserIdType.USER_ID))
        caller = Caller(
            Principal(subject.pool_id, f"user:{subject.user_id}", frozenset()),
            facts.request_id,
            facts.client_ip,
        )
        async with self._db.transaction() as conn:
            if not await enrolments_repo.take(conn, digest, now):
                raise EnrollmentTokenInvalid()
            _, seen = await mfa_repo.lock_current(conn, subject.pool_id, subject.user_id)
            status = seen.status() if seen is not None else state.status
            await otp_repo.upsert(
                conn,
                subject.pool_id,
                subject.user_id,
                pending.secret_ciphertext,
                self._box.encrypt(pending.recovery_code_hash),
                now,
            )
            await otp_repo.accept_step(conn, subject.pool_id, subject.user_id, steps[-1])
            write = mfa_writes.prepare(
                self._clock, caller, subject.user_id, replace(status, totp_enabled=True), seen
            )
            if await write.run(conn) is None:
                raise VersionConflict()
            await audit.record(
                conn, self._clock, caller, ENROLLED_ACTION, subject.user_id, after={"factor": "OTP"}
            )

    async def list_factors(self, token: str | None) -> list[EnrolledFactor]:
        claims = await self._tokens.verify_access_token(token)
        state = await self._mfa.get_status(claims.pool_id, claims.user_id, str(UserIdType.USER_ID))
        if state.has_totp_secret and state.status.totp_enabled:
            return [EnrolledFactor(factor_id(claims.user_id), Factor.OTP)]
        return []
