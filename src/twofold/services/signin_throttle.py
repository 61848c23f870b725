"""Throttling of password sign-ins, per account and per client address (docs/signin.md#throttling).

Every attempt takes a slot *before* the password is checked, with one atomic upsert per key, so
parallel attempts cannot slip past the limit; a success gives its slots back (the account's counter
is cleared).  The account key is the identifier as sent (normalised), counted whether or not such an
account exists, so being throttled says nothing about which accounts exist.  Keys are stored hashed.
These counters are the password's own: MFA failures are counted elsewhere and never mix with them.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from twofold.config import Settings
from twofold.errors import SignInThrottled
from twofold.services.context import Clock
from twofold.storage.database import Database
from twofold.storage.repositories import signin_attempts as attempts_repo


def _key(*parts: str) -> str:
    return hashlib.sha256("\x1f".join(parts).encode("utf-8", "surrogatepass")).hexdigest()


@dataclass(frozen=True)
class Slots:
    """The counters one attempt took, to give back if it succeeds."""

    account: str | None
    ip: str | None


class SignInThrottle:
    """``scope`` keeps another sign-in's counters apart in the same table: the admin console's
    sign-in with an access key counts under ``"console"`` with its own limits (``console_throttle``)."""

    def __init__(
        self,
        db: Database,
        settings: Settings,
        clock: Clock,
        scope: str = "",
        limits: tuple[int, int, int] | None = None,
    ) -> None:
        self._db = db
        self._clock = clock
        self._scope = scope
        per_account, per_ip, window_seconds = limits or (
            settings.signin_max_failures_per_account,
            settings.signin_max_failures_per_ip,
            settings.signin_throttle_window_seconds,
        )
        self._per_account = per_account
        self._per_ip = per_ip
        self._window_ms = window_seconds * 1000

    def _keyed(self, kind: str, *parts: str) -> str:
        return _key(f"{self._scope}:{kind}", *parts) if self._scope else _key(kind, *parts)

    async def take(self, pool_id: str | None, account: str, client_ip: str) -> Slots:
        """Count this attempt; ``SignInThrottled`` when the account or the address is over its limit."""
        account_key = (
            self._keyed("account", pool_id, account.lower()) if pool_id and self._per_account else None
        )
        ip_key = self._keyed("ip", client_ip) if self._per_ip else None
        now = self._clock()
        over = False
        async with self._db.transaction() as conn:
            if account_key is not None:
                over |= await attempts_repo.take(conn, account_key, now, self._window_ms) > self._per_account
            if ip_key is not None:
                over |= await attempts_repo.take(conn, ip_key, now, self._window_ms) > self._per_ip
        if over:
            raise SignInThrottled()
        return Slots(account_key, ip_key)

    async def succeeded(self, slots: Slots) -> None:
        if slots.account is None and slots.ip is None:
            return
        async with self._db.transaction() as conn:
            if slots.account is not None:
                await attempts_repo.forget(conn, slots.account)
            if slots.ip is not None:
                await attempts_repo.give_back(conn, slots.ip)


def console_throttle(db: Database, settings: Settings, clock: Clock) -> SignInThrottle:
    """The admin console's sign-in: counted per access key id and per client address."""
    return SignInThrottle(
        db,
        settings,
        clock,
        "console",
        (
            settings.console_signin_max_failures_per_key,
            settings.console_signin_max_failures_per_ip,
            settings.console_signin_window_seconds,
        ),
    )
