"""Enrolling the SMS and EMAIL factors (docs/signin.md#enrolment).

``start`` sends a code on ``CHANNEL_BIND_MFA`` to the phone or email of the request's ``profile``
(``PasscodeService.send``: every send limit applies) and keeps the target, encrypted, in
``pending_enrolments`` under the SHA-256 of a fresh enrollmentToken that lives 60 seconds.  This is the
one place a code goes to an address the user does not have yet: binding it is the point, and the code
proves the user holds it.  ``confirm`` checks the code (``PasscodeService.check``: single use, at most
5 attempts) and only then sets ``mfaPhone`` (+``mfaPhoneCountryCode``) or ``mfaEmail`` through the one
status write, audited ``mfa.factor.enrolled``.  Until then the user's current target stays as it is.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import replace
from typing import Any

from twofold.domain.mfa import Factor, MfaStatus
from twofold.domain.passcodes import Channel, Email, Phone, Target
from twofold.errors import EnrollmentTokenInvalid, EnrolmentCodeWrong, InvalidParameter
from twofold.services.context import Clock
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
from twofold.services.passcodes import PasscodeService
from twofold.services.signin import RequestFacts
from twofold.storage.database import Connection, Database
from twofold.storage.repositories import enrolments as enrolments_repo
from twofold.storage.repositories.enrolments import PendingEnrolment


def profile_target(factor: Factor, profile: dict[str, Any]) -> Target:
    """The phone (``phoneNumber``, ``phoneCountryCode`` default ``+86``) or ``email`` of a profile."""
    if factor is Factor.SMS:
        number, code = profile.get("phoneNumber"), profile.get("phoneCountryCode")
        if not isinstance(number, str) or not number.strip():
            raise InvalidParameter("profile.phoneNumber")
        if code is not None and not isinstance(code, str):
            raise InvalidParameter("profile.phoneCountryCode")
        return Phone.parse(number, code, "profile.phoneNumber")
    address = profile.get("email")
    if not isinstance(address, str) or not address.strip():
        raise InvalidParameter("profile.email")
    return Email.parse(address, "profile.email")


def encode_target(target: Target) -> str:
    if isinstance(target, Email):
        return f"EMAIL\n{target.address}"
    return f"SMS\n{target.number}\n{target.country_code}"


def decode_target(text: str) -> Target:
    kind, *parts = text.split("\n")
    if kind == "EMAIL":
        return Email(parts[0])
    return Phone(parts[0], parts[1])


def bound_to(target: Target) -> Callable[[MfaStatus], MfaStatus]:
    """The status change that makes ``target`` the factor's."""

    def change(status: MfaStatus) -> MfaStatus:
        if isinstance(target, Email):
            return replace(status, mfa_email=target.address)
        return replace(status, mfa_phone=target.number, mfa_phone_country_code=target.country_code)

    return change


class CodeEnrolment:
    def __init__(
        self, db: Database, box: Keyring, clock: Clock, passcodes: PasscodeService, authoriser: Authoriser
    ) -> None:
        self._db = db
        self._box = box
        self._clock = clock
        self._passcodes = passcodes
        self._auth = authoriser

    async def start(self, subject: Subject, factor: Factor, profile: dict[str, Any], client_ip: str) -> str:
        """Send a binding code to the profile's target; the enrollmentToken bound to it."""
        target = profile_target(factor, profile)
        await self._passcodes.send(
            subject.pool_id,
            Channel.CHANNEL_BIND_MFA,
            target,
            client_ip,
            user_id=subject.user_id,
            actor=f"user:{subject.user_id}",
        )
        enrollment_token = secrets.token_urlsafe(32)
        now = self._clock()
        pending = PendingEnrolment(
            token_digest(enrollment_token),
            subject.pool_id,
            subject.user_id,
            str(factor),
            await self._box.encrypt(encode_target(target)),
            "",  # no recovery code for a code factor
            now + ENROLLMENT_TTL_MS,
        )

        async def store(conn: Connection) -> None:
            await enrolments_repo.purge_expired(conn, now)
            await enrolments_repo.insert(conn, pending, now)

        await self._db.atomic(store)
        return enrollment_token

    async def confirm(
        self,
        subject: Subject,
        factor: Factor,
        enrollment_token: str | None,
        code: str | None,
        facts: RequestFacts,
    ) -> None:
        """Bind the pending target if ``code`` is the one sent to it; a wrong code changes nothing (but
        uses one of the code's attempts)."""
        if not enrollment_token:
            raise EnrollmentTokenInvalid()
        digest = token_digest(enrollment_token)
        async with self._db.read() as conn:
            pending = await enrolments_repo.find_live(conn, digest, self._clock())
        if (
            pending is None
            or pending.factor != factor
            or (pending.pool_id, pending.user_id) != (subject.pool_id, subject.user_id)
        ):
            raise EnrollmentTokenInvalid()
        target = decode_target(await self._box.decrypt(pending.secret_ciphertext))
        if not await self._passcodes.check(subject.pool_id, Channel.CHANNEL_BIND_MFA, target, code or ""):
            raise EnrolmentCodeWrong()
        state = await self._auth.state(subject)
        caller = caller_of(subject, facts.request_id, facts.client_ip)
        now = self._clock()
        async with self._db.transaction() as conn:
            if not await enrolments_repo.take(conn, digest, now):
                raise EnrollmentTokenInvalid()
            await write_status(
                conn,
                self._clock,
                caller,
                subject.user_id,
                state.status,
                bound_to(target),
                ENROLLED_ACTION,
                {"factor": str(factor)},
            )
