"""Throttling of password sign-ins, per account and per client address (docs/signin.md#throttling).

Every attempt takes a slot *before* the password is checked, with one atomic count per key (in the
database, or in Redis with ``TWOFOLD_REDIS_URL``: ``storage/counters.py``), so parallel attempts
cannot slip past the limit; a success gives its slots back (the account's counter
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
from twofold.storage.counters import Counters, SettleWrite


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
        counters: Counters,
        settings: Settings,
        clock: Clock,
        scope: str = "",
        limits: tuple[int, int, int] | None = None,
    ) -> None:
        self._counters = counters
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
        keyed = [(k, limit) for k, limit in ((account_key, self._per_account), (ip_key, self._per_ip)) if k]
        counts = await self._counters.take([k for k, _ in keyed], self._clock(), self._window_ms) if keyed else []
        if any(count > limit for count, (_, limit) in zip(counts, keyed, strict=True)):
            raise SignInThrottled()
        return Slots(account_key, ip_key)

    async def succeeded(self, slots: Slots, then: SettleWrite | None = None) -> None:
        """Give the slots back; ``then``: the sign-in's own writes, made with it (``Counters.settle``)."""
        await self._counters.settle(
            [slots.account] if slots.account else [], [slots.ip] if slots.ip else [], then
        )


def console_throttle(counters: Counters, settings: Settings, clock: Clock) -> SignInThrottle:
    """The admin console's sign-in: counted per access key id and per client address."""
    return SignInThrottle(
        counters,
        settings,
        clock,
        "console",
        (
            settings.console_signin_max_failures_per_key,
            settings.console_signin_max_failures_per_ip,
            settings.console_signin_window_seconds,
        ),
    )
