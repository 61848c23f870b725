"""One-time codes sent by email or SMS (sign-in with a code, the EMAIL and SMS MFA factors).

* A code is 6 digits from ``secrets``, valid ``TWOFOLD_PASSCODE_TTL_SECONDS`` (5 minutes), single use,
  with at most ``TWOFOLD_PASSCODE_MAX_ATTEMPTS`` (5) attempts.  A new code for the same target and
  channel replaces the old one.
* Only an HMAC-SHA256 of it is stored, keyed with a key derived from the master key and bound to the
  pool, channel and target; the comparison is constant-time.
* Checking counts the attempt first and spends the code with a compare-and-set, so of any number of
  simultaneous correct submissions, on any number of processes or instances, exactly one succeeds.
* Sending is limited: one code per target per ``TWOFOLD_PASSCODE_SEND_INTERVAL_SECONDS``, and hourly
  quotas per client IP and per pool; the counters (``storage/counters.py``: the database's, or Redis's
  with ``TWOFOLD_REDIS_URL``) are checked and changed atomically.  A limit that cannot be checked
  (database down, and Redis too if set) refuses the send: nothing fails open.

The callers (the send endpoints, sign-in with a code, MFA verification) decide who may send to whom;
this service trusts its ``target``.  See docs/delivery.md.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
from dataclasses import dataclass

from twofold import metrics
from twofold.config import Settings
from twofold.domain.passcodes import (
    Channel,
    Email,
    Phone,
    Target,
    email_subject,
    is_well_formed,
    message_text,
    new_code,
)
from twofold.errors import EmailSendTooFrequent, SendQuotaExceeded, SmsSendTooFrequent
from twofold.request_context import current_lang, current_request_id
from twofold.services import audit
from twofold.services.context import Clock
from twofold.services.delivery import Delivery, Medium, Message
from twofold.services.totp_check import Outcome
from twofold.storage.counters import Counters, Quota, SendClaim
from twofold.storage.database import Connection, Database
from twofold.storage.repositories import audit as audit_repo
from twofold.storage.repositories import passcodes as repo
from twofold.storage.repositories.audit import AuditRow
from twofold.storage.repositories.mfa_failures import OnAccept, after_accept
from twofold.storage.repositories.passcodes import PasscodeKey

log = logging.getLogger("twofold.passcodes")
HOUR_MS = 3_600_000
SEND_ACTION = "passcode.send"
SUPPRESSED_ACTION = "passcode.send.suppressed"


def normalized(target: Target) -> Target:
    """The target in its one canonical form (``domain/contacts.py``), however it was built."""
    if isinstance(target, Email):
        return Email.parse(target.address)
    return Phone.parse(target.e164)


class PasscodeService:
    def __init__(
        self, db: Database, counters: Counters, delivery: Delivery, key: bytes, settings: Settings, clock: Clock
    ) -> None:
        """``key``: the HMAC key of stored codes (``derive_key(master, "twofold/passcodes/v1")``)."""
        self._db = db
        self._counters = counters
        self._delivery = delivery
        self._key = key
        self._clock = clock
        self._ttl_ms = settings.passcode_ttl_seconds * 1000
        self._ttl_seconds = settings.passcode_ttl_seconds
        self._max_attempts = settings.passcode_max_attempts
        self._interval_ms = settings.passcode_send_interval_seconds * 1000
        self._ip_limit = settings.passcode_ip_hourly_limit
        self._pool_limit = settings.passcode_pool_hourly_limit

    def _hash(self, key: PasscodeKey, code: str) -> str:
        text = "\n".join((key.pool_id, key.channel, key.target, code))
        return hmac.new(self._key, text.encode(), hashlib.sha256).hexdigest()

    async def send(
        self,
        pool_id: str,
        channel: Channel,
        target: Target,
        client_ip: str,
        *,
        user_id: str | None = None,
        actor: str = "end-user",
        suppress: str | None = None,
    ) -> None:
        """Issue a new code for ``target`` on ``channel`` and deliver it.

        ``suppress`` (a reason, for the audit trail): count the send against every limit, exactly as
        a real one, but store and deliver nothing (a sign-in code asked for an address no user has:
        the caller must not tell it from a real send).  Audited as ``passcode.send.suppressed``.

        Raises ``SmsSendTooFrequent`` (statusCode 422) / ``EmailSendTooFrequent`` (apiCode 2080) within
        the send interval of the previous code to this target, ``SendQuotaExceeded`` past an hourly
        quota (nothing is counted then), ``DeliveryFailed`` when the transport does not take the
        message (the code is stored and the send counted: the interval still applies).
        """
        target = normalized(target)
        key = PasscodeKey(pool_id, channel.value, target.key)
        code = new_code()
        now = self._clock()
        window = now - now % HOUR_MS
        medium = Medium.EMAIL if isinstance(target, Email) else Medium.SMS
        recipient = target.address if isinstance(target, Email) else target.e164
        claim = SendClaim(
            target=f"target:{pool_id}:{target.key}",
            interval_ms=self._interval_ms,
            quotas=(Quota(f"ip:{client_ip}", self._ip_limit), Quota(f"pool:{pool_id}", self._pool_limit)),
            window_start=window,
            window_ms=HOUR_MS,
            now=now,
        )

        async def store(conn: Connection) -> None:
            await repo.store(conn, key, self._hash(key, code), now, now + self._ttl_ms)

        refused = await self._counters.claim_send(claim, None if suppress is not None else store)
        if refused is not None and refused.quota is None:
            raise SmsSendTooFrequent() if medium is Medium.SMS else EmailSendTooFrequent()
        if refused is not None:
            spent = f"client {client_ip}" if refused.quota == claim.quotas[0] else f"pool {pool_id}"
            log.info("passcode quota of %s spent", spent)
            raise SendQuotaExceeded()
        # Outside the send's transaction: a DELETE there would take row locks out of the order every
        # send takes them in (target, IP, pool), and two sends on PostgreSQL could deadlock.
        await self._db.atomic(lambda conn: repo.purge(conn, now, window - HOUR_MS, now - self._interval_ms))
        if suppress is not None:
            about = {"channel": channel.value, "medium": medium.value, "to": recipient, "reason": suppress}
            await self._audit(pool_id, now, actor, client_ip, user_id, SUPPRESSED_ACTION, about)
            return
        message = Message(
            pool_id=pool_id,
            medium=medium,
            to=recipient,
            subject=email_subject(current_lang()),
            text=message_text(code, self._ttl_seconds, current_lang()),
            purpose=channel.value,
        )
        transport = await self._delivery.deliver(message)
        metrics.CODES_SENT.labels(channel.value, medium.value).inc()
        about = {"channel": channel.value, "medium": medium.value, "to": recipient, "via": transport}
        await self._audit(pool_id, now, actor, client_ip, user_id, SEND_ACTION, about)

    async def _audit(
        self, pool_id: str, now: int, actor: str, client_ip: str, user_id: str | None, action: str, about: dict[str, str]
    ) -> None:
        event = AuditRow(
            pool_id=pool_id,
            at=now,
            actor=actor[:64],
            request_id=current_request_id(),
            client_ip=client_ip[:64],
            target_user_id=user_id,
            action=action,
            before=None,
            after=audit.to_json(about),
        )
        await self._db.atomic(lambda conn: audit_repo.insert(conn, event))

    async def check(self, pool_id: str, channel: Channel, target: Target, code: str) -> bool:
        """True exactly once for the live code of ``target`` on ``channel``; False for anything else
        (wrong, expired, spent, replaced, out of attempts, never sent): the caller learns nothing more."""
        candidate = await self.prepare_check(pool_id, channel, target, code)
        return await self._db.atomic(candidate.accept) is Outcome.ACCEPTED

    async def prepare_check(self, pool_id: str, channel: Channel, target: Target, code: str) -> PasscodeCandidate:
        """The first half of ``check``: the attempt is counted and the code compared; the candidate's
        ``accept`` spends it (a compare-and-set) inside the caller's atomic write (``MfaCheck``)."""
        target = normalized(target)
        key = PasscodeKey(pool_id, channel.value, target.key)
        now = self._clock()
        attempt = await self._db.atomic(lambda conn: repo.reserve_attempt(conn, key, now, self._max_attempts))
        # A malformed submission (too long, not digits, not even encodable) is a wrong one: it used the attempt.
        if attempt is None or not is_well_formed(code) or not hmac.compare_digest(attempt.code_hash, self._hash(key, code)):
            return PasscodeCandidate(key, None, now)
        return PasscodeCandidate(key, attempt, now)


@dataclass(frozen=True)
class PasscodeCandidate:
    """A compared code (``MfaCheck``'s ``CodeCandidate``): ``attempt`` is set when it matched the live
    code.  No live code (absent, expired, spent, out of attempts) and a wrong code are both WRONG; a
    right code that another submission spent first is REPLAYED."""

    key: PasscodeKey
    attempt: repo.Attempt | None
    now: int

    async def accept(self, conn: Connection, then: OnAccept | None = None) -> Outcome:
        if self.attempt is None:
            return Outcome.WRONG
        if not await repo.spend(conn, self.key, self.attempt, self.now):
            return Outcome.REPLAYED
        if then is not None:
            await after_accept(conn, then)
        return Outcome.ACCEPTED
