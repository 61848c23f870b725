"""Checking a TOTP code and a recovery code against a user's bound authenticator.

TOTP (RFC 6238) as authenticator apps use it: SHA1, 6 digits, 30-second steps, computed as the HOTP
of the step by ``cryptography``, and accepted within one step either side of now (pyotp's
``valid_window=1``).  A code is accepted at most
once: the step it belongs to must be newer than the last accepted step of the authenticator, and the
acceptance is a compare-and-set in the database (``otp_repo.accept_step``), never a process lock, so
one code submitted many times at once, to any number of worker processes or instances on one
database, is accepted exactly once.  A code of the last accepted step, or of an older one, is refused.

A recovery code, enrolled here or imported (``import-otp``), is kept only as its HMAC-SHA256 digest
(``recovery_code_digest``, under a key derived from the master key), itself encrypted; it is used once
(removed, or replaced by the digest of a new one from ``new_recovery_code``, with a compare-and-set).

``TotpChecker.prepare`` does the reads and the arithmetic; ``Candidate.accept`` is the one write,
run inside ``Database.atomic`` by ``verify_totp`` or, with the failure counters and the audit event,
by ``MfaCheck`` (``services/mfa_failures.py``).  docs/mfa-status.md#verification has the formulas.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from enum import StrEnum

from cryptography.hazmat.primitives.hashes import SHA1
from cryptography.hazmat.primitives.twofactor.hotp import HOTP
from pyotp.utils import strings_equal

from twofold.services.context import Clock
from twofold.services.keyring import Keyring
from twofold.storage.database import Connection, Database
from twofold.storage.repositories import otp as otp_repo
from twofold.storage.repositories.mfa_failures import OnAccept, after_accept
from twofold.storage.repositories.otp import SignedInAuthenticator, StoredAuthenticator

PERIOD_SECONDS = 30
DIGITS = 6
VALID_WINDOW = 1  # steps accepted either side of now
_CODE = re.compile(r"[0-9]{6}")
_SEPARATORS = re.compile(r"[\s-]+")
HASHED_RECOVERY = "hmac-sha256:"  # the prefix of a stored recovery code digest


class Outcome(StrEnum):
    """Why a code was or was not accepted (for the audit trail; callers see a bool)."""

    ACCEPTED = "accepted"
    WRONG = "wrong_code"
    REPLAYED = "replayed"  # right code, of a step already used (or older)
    NOT_BOUND = "not_bound"  # no authenticator, or no recovery code left


def new_recovery_code() -> str:
    """A fresh recovery code as GenAuth shows them: six groups of four lower-case hex digits (96 bits)."""
    raw = secrets.token_hex(12)
    return "-".join(raw[i : i + 4] for i in range(0, 24, 4))


def time_step(at_ms: int, period: int = PERIOD_SECONDS) -> int:
    """The RFC 6238 time step ``T = floor((unix time - T0) / X)`` with T0 = 0 and X = ``period``."""
    return at_ms // 1000 // period


def clean_code(code: str) -> str:
    """A typed code without the spaces or dashes people put in (``123 456``)."""
    return _SEPARATORS.sub("", code)


def secret_bytes(secret: str) -> bytes:
    """The key of a base32 TOTP secret, decoded as pyotp decodes it (padding added, any case)."""
    return base64.b32decode(secret + "=" * (-len(secret) % 8), casefold=True)


def matching_steps(secret: str, code: str, at_ms: int, window: int = VALID_WINDOW) -> list[int]:
    """The steps within ``window`` of ``at_ms`` whose code is ``code``, oldest first (constant-time compares).

    RFC 6238 is RFC 4226's HOTP of the time step: ``cryptography``'s HOTP, with the secret decoded once
    (pyotp decodes it again for every code it generates); tests/unit check it against pyotp."""
    typed = clean_code(code)
    if not _CODE.fullmatch(typed):
        return []
    hotp = HOTP(secret_bytes(secret), DIGITS, SHA1(), enforce_key_length=False)  # noqa: S303 - RFC 6238 default
    now = time_step(at_ms)
    wanted = typed.encode()
    return [s for s in range(now - window, now + window + 1) if hmac.compare_digest(hotp.generate(s), wanted)]


def recovery_code_digest(key: bytes, code: str) -> str:
    """How a recovery code is stored: HMAC-SHA256 of the code without separators, lower case."""
    typed = clean_code(code).lower()
    return HASHED_RECOVERY + hmac.new(key, typed.encode(), hashlib.sha256).hexdigest()


@dataclass(frozen=True)
class Candidate:
    """A code checked against what was read; ``accept`` makes it count (at most once)."""

    pool_id: str
    user_id: str
    outcome: Outcome  # what the read says: ACCEPTED means "acceptable if still new / still there"
    step: int | None = None  # TOTP: the step the code belongs to
    recovery_ciphertext: str | None = None  # recovery code: the stored ciphertext it matched
    replacement_ciphertext: str | None = None  # recovery code: what replaces it once accepted
    # recovery code: whether another ciphertext holds the same code (a key rotation re-encrypted it)
    same_code: Callable[[str], Awaitable[bool]] | None = field(default=None, compare=False)

    async def accept(self, conn: Connection, then: OnAccept | None = None) -> Outcome:
        """The compare-and-set: ACCEPTED for exactly one of any number of concurrent callers; ``then``
        is written with it when it wins (in the same statement where the database allows)."""
        if self.outcome is not Outcome.ACCEPTED:
            return self.outcome
        if self.step is not None:
            won = await otp_repo.accept_step(conn, self.pool_id, self.user_id, self.step, then)
            return Outcome.ACCEPTED if won else Outcome.REPLAYED
        assert self.recovery_ciphertext is not None
        won = await otp_repo.spend_recovery_code(
            conn, self.pool_id, self.user_id, self.recovery_ciphertext, self.replacement_ciphertext
        )
        if not won and self.same_code is not None:  # spent, or only re-encrypted under a new data key?
            stored = await otp_repo.find(conn, self.pool_id, self.user_id)
            current = None if stored is None else stored.recovery_code_ciphertext
            if current is not None and current != self.recovery_ciphertext and await self.same_code(current):
                won = await otp_repo.spend_recovery_code(
                    conn, self.pool_id, self.user_id, current, self.replacement_ciphertext
                )
        if won and then is not None:
            await after_accept(conn, then)
        return Outcome.ACCEPTED if won else Outcome.NOT_BOUND


class TotpChecker:
    def __init__(self, db: Database, box: Keyring, clock: Clock, recovery_key: bytes) -> None:
        self._db = db
        self._box = box
        self._clock = clock
        self._recovery_key = recovery_key

    async def prepare_totp(self, pool_id: str, user_id: str, code: str) -> Candidate:
        async with self._db.read() as conn:
            stored = await otp_repo.find(conn, pool_id, user_id)
        return await self.totp_candidate(pool_id, user_id, stored, code)

    async def read_with_lock(self, pool_id: str, user_id: str, factor: str) -> tuple[StoredAuthenticator | None, int | None]:
        """The authenticator and the lock of ``factor`` (``locked_until``, ms), in one query."""
        async with self._db.read() as conn:
            return await otp_repo.find_with_lock(conn, pool_id, user_id, factor)

    async def read_by_sign_in(self, family_id: str, user_id: str, factor: str) -> SignedInAuthenticator:
        """``read_with_lock`` for the user of an access token, with its sign-in's (family's) state, in one
        query: for ``TokenService.live_claims`` (services/mfa_step.py)."""
        async with self._db.read() as conn:
            return await otp_repo.find_with_lock_by_family(conn, family_id, user_id, factor)

    async def totp_candidate(self, pool_id: str, user_id: str, stored: StoredAuthenticator | None, code: str) -> Candidate:
        """``code`` compared with what was read (no database read; the keyring may reload on a new key)."""
        if stored is None:
            return Candidate(pool_id, user_id, Outcome.NOT_BOUND)
        steps = matching_steps(await self._box.decrypt(stored.secret_ciphertext), code, self._clock())
        if not steps:
            return Candidate(pool_id, user_id, Outcome.WRONG)
        step = steps[-1]
        if stored.last_used_step is not None and step <= stored.last_used_step:
            return Candidate(pool_id, user_id, Outcome.REPLAYED, step)
        return Candidate(pool_id, user_id, Outcome.ACCEPTED, step)

    async def prepare_recovery_code(
        self, pool_id: str, user_id: str, code: str, replace_with: str | None = None
    ) -> Candidate:
        """``replace_with``: the new recovery code that takes the place of this one when it is accepted."""
        async with self._db.read() as conn:
            stored = await otp_repo.find(conn, pool_id, user_id)
        if stored is None or stored.recovery_code_ciphertext is None:
            return Candidate(pool_id, user_id, Outcome.NOT_BOUND)
        digest = recovery_code_digest(self._recovery_key, code)
        if not strings_equal(await self._box.decrypt(stored.recovery_code_ciphertext), digest):
            return Candidate(pool_id, user_id, Outcome.WRONG)

        async def same_code(ciphertext: str) -> bool:
            return strings_equal(await self._box.decrypt(ciphertext), digest)

        replacement = (  # a new code is kept only as its digest, like an enrolled one
            None if replace_with is None
            else await self._box.encrypt(recovery_code_digest(self._recovery_key, replace_with))
        )
        return Candidate(
            pool_id,
            user_id,
            Outcome.ACCEPTED,
            recovery_ciphertext=stored.recovery_code_ciphertext,
            replacement_ciphertext=replacement,
            same_code=same_code,
        )

    async def verify_totp(self, pool_id: str, user_id: str, code: str) -> bool:
        """Whether ``code`` is the user's current TOTP code (±1 step) and its step was not used yet.

        No failure counting here: the sign-in step calls ``MfaCheck.check_totp``, which adds it."""
        candidate = await self.prepare_totp(pool_id, user_id, code)
        return await self._accept(candidate)

    async def verify_recovery_code(self, pool_id: str, user_id: str, code: str) -> bool:
        """Whether ``code`` is the user's recovery code; if so it is spent (a second use is refused)."""
        candidate = await self.prepare_recovery_code(pool_id, user_id, code)
        return await self._accept(candidate)

    async def _accept(self, candidate: Candidate) -> bool:
        if candidate.outcome is not Outcome.ACCEPTED:
            return False
        return await self._db.atomic(candidate.accept) is Outcome.ACCEPTED
