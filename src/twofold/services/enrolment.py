"""Enrolling a TOTP authenticator (docs/signin.md#enrolment); SMS and EMAIL are in ``enrolment_codes``,
the enrolled factors in ``enrolment_factors``, the v2 calls in ``enrolment_v2``.

``start_otp`` makes a secret (160 bits or more), its otpauth URI and QR code, and a recovery code shown
once (only its HMAC-SHA256 digest is kept); they wait in ``pending_enrolments`` (the secret encrypted) under the SHA-256 of a random
enrollmentToken that lives 60 seconds.  Nothing about the user's active authenticator changes then.
``confirm_otp`` with a right code binds the authenticator, spends the code's step (so the code that
confirmed the enrolment never verifies anything), sets ``totpMfaEnabled`` through the one status write
path (``mfa_writes``), and records ``mfa.factor.enrolled``, all in one transaction.  A wrong code
changes nothing.

Enrolment is authorised by the user's access token, or by the mfaToken of a sign-in that must enrol
OTP first (``enrolment_common.Authoriser``); the mfaToken is verified, never spent, so it can still
finish that sign-in.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, replace
from typing import Any
from urllib.parse import quote, urlencode

import pyotp
import segno

from twofold.domain.mfa import Factor
from twofold.domain.users import User
from twofold.errors import EnrollmentTokenInvalid, EnrolmentCodeWrong, UnsupportedFactorType
from twofold.services.context import Clock
from twofold.services.enrolment_codes import CodeEnrolment
from twofold.services.enrolment_common import (
    ENROLLED_ACTION,
    ENROLLMENT_TTL_MS,
    Authoriser,
    Subject,
    caller_of,
    token_digest,
    write_status,
)
from twofold.services.keyring import Keyring
from twofold.services.signin import RequestFacts
from twofold.services.totp_check import DIGITS, PERIOD_SECONDS, matching_steps, recovery_code_digest
from twofold.storage.database import Connection, Database
from twofold.storage.repositories import enrolments as enrolments_repo
from twofold.storage.repositories import otp as otp_repo
from twofold.storage.repositories import pools as pools_repo
from twofold.storage.repositories.enrolments import PendingEnrolment

SECRET_LENGTH = 32  # base32 characters: 160 bits


@dataclass(frozen=True)
class OtpEnrolment:
    enrollment_token: str
    qr_code_uri: str
    qr_code_data_url: str
    recovery_code: str  # shown this once
    secret: str  # for typing it in by hand (v2 associate answers it)


@dataclass(frozen=True)
class Started:
    """What ``send-enroll-factor-request`` answers: ``otp`` for OTP, nothing more for SMS and EMAIL."""

    enrollment_token: str
    otp: OtpEnrolment | None = None


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


def _account(user: User) -> str:
    return user.email or user.username or user.phone or user.id


class EnrolmentService:
    def __init__(
        self,
        db: Database,
        box: Keyring,
        clock: Clock,
        recovery_key: bytes,
        authoriser: Authoriser,
        codes: CodeEnrolment,
    ) -> None:
        self._db = db
        self._box = box
        self._clock = clock
        self._recovery_key = recovery_key
        self._auth = authoriser
        self._codes = codes

    @staticmethod
    def _factor(factor_type: str | None) -> Factor:
        name = (factor_type or "").upper()
        if name not in (Factor.OTP, Factor.SMS, Factor.EMAIL):
            raise UnsupportedFactorType("factorType")
        return Factor(name)

    async def start(
        self, token: str | None, factor_type: str | None, profile: dict[str, Any] | None, client_ip: str
    ) -> Started:
        """``send-enroll-factor-request``: OTP makes a secret; SMS and EMAIL send a code to the profile's
        phone or email (``enrolment_codes``)."""
        factor = self._factor(factor_type)
        if factor is Factor.OTP:
            started = await self.start_otp(token, factor_type)
            return Started(started.enrollment_token, started)
        subject = await self._auth.enrolling(token, factor)
        return Started(await self._codes.start(subject, factor, profile or {}, client_ip))

    async def confirm(
        self,
        token: str | None,
        factor_type: str | None,
        enrollment_token: str | None,
        code: str | None,
        facts: RequestFacts,
    ) -> None:
        """``enroll-factor``: bind the pending factor if ``code`` is right; a wrong code changes nothing."""
        factor = self._factor(factor_type)
        if factor is Factor.OTP:
            await self.confirm_otp(token, factor_type, enrollment_token, code, facts)
            return
        subject = await self._auth.enrolling(token, factor)
        await self._codes.confirm(subject, factor, enrollment_token, code, facts)

    async def start_otp(self, token: str | None, factor_type: str | None) -> OtpEnrolment:
        if self._factor(factor_type) is not Factor.OTP:
            raise UnsupportedFactorType("factorType")
        subject = await self._auth.enrolling(token, Factor.OTP)
        return await self.start_otp_for(subject)

    async def start_otp_for(self, subject: Subject) -> OtpEnrolment:
        state = await self._auth.state(subject)
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
            await self._box.encrypt(secret),
            recovery_code_digest(self._recovery_key, recovery),
            now + ENROLLMENT_TTL_MS,
        )

        async def store(conn: Connection) -> None:
            await enrolments_repo.purge_expired(conn, now)
            await enrolments_repo.insert(conn, pending, now)

        await self._db.atomic(store)
        return OtpEnrolment(enrollment_token, uri, qr_code_data_url(uri), recovery, secret)

    async def confirm_otp(
        self,
        token: str | None,
        factor_type: str | None,
        enrollment_token: str | None,
        code: str | None,
        facts: RequestFacts,
    ) -> None:
        """Bind the pending authenticator if ``code`` is its current one; a wrong code changes nothing."""
        if self._factor(factor_type) is not Factor.OTP:
            raise UnsupportedFactorType("factorType")
        subject = await self._auth.enrolling(token, Factor.OTP)
        if not enrollment_token:
            raise EnrollmentTokenInvalid()
        async with self._db.read() as conn:
            pending = await enrolments_repo.find_live(conn, token_digest(enrollment_token), self._clock())
        await self.confirm_otp_pending(subject, pending, code, facts)

    async def confirm_otp_pending(
        self, subject: Subject, pending: PendingEnrolment | None, code: str | None, facts: RequestFacts
    ) -> None:
        """Bind ``pending`` (the subject's OTP enrolment) with ``code``, spending the code's step."""
        if (
            pending is None
            or pending.factor != Factor.OTP
            or (pending.pool_id, pending.user_id) != (subject.pool_id, subject.user_id)
        ):
            raise EnrollmentTokenInvalid()
        now = self._clock()
        secret = await self._box.decrypt(pending.secret_ciphertext)
        steps = matching_steps(secret, code or "", now)
        if not steps:
            raise EnrolmentCodeWrong()
        # encrypted afresh, never copied: the pending row may be under a key a rotation is retiring
        secret_ct, recovery_ct = await self._box.encrypt(secret), await self._box.encrypt(pending.recovery_code_hash)
        state = await self._auth.state(subject)
        caller = caller_of(subject, facts.request_id, facts.client_ip)
        async with self._db.transaction() as conn:
            if not await enrolments_repo.take(conn, pending.token_digest, now):
                raise EnrollmentTokenInvalid()
            await write_status(  # first: it takes the user's lock
                conn,
                self._clock,
                caller,
                subject.user_id,
                state.status,
                lambda status: replace(status, totp_enabled=True),
                ENROLLED_ACTION,
                {"factor": "OTP"},
            )
            await otp_repo.upsert(
                conn,
                subject.pool_id,
                subject.user_id,
                secret_ct,
                recovery_ct,
                now,
            )
            await otp_repo.accept_step(conn, subject.pool_id, subject.user_id, steps[-1])
