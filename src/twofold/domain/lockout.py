"""The MFA lockout rule (docs/mfa-status.md#lockout), as a pure function.

Failures are counted per user and factor.  Every ``max_failures``-th consecutive failure locks the
factor, for a time that doubles with each lock and is capped::

    lock number  k = failures / max_failures          (when failures is a multiple of max_failures)
    lock time      = min(base * 2 ** (k - 1), cap)

With the defaults (5, 60 s, 900 s): the 5th failure locks for 1 min, the 10th for 2, the 15th for 4,
the 20th for 8, the 25th and every later lock for 15.  A success or an administrator's unlock sets
the count back to 0.  While a factor is locked no attempt is verified or counted.

``storage/repositories/mfa_failures.py`` computes the same in the one statement that counts a
failure (so parallel failures cannot skip a lock); ``tests/integration/test_mfa_lockout.py`` checks
that the two agree.
"""

from __future__ import annotations

from dataclasses import dataclass

MAX_CAP_MS = 2**32  # ~49 days
# From this shift on the lock time is the cap (cap <= 2 ** 32 <= base << 32), and below it
# base << shift (base <= cap <= 2 ** 32, shift <= 31) fits in 64 bits: no overflow in SQL either.
MAX_SHIFT = 32


@dataclass(frozen=True)
class LockoutPolicy:
    max_failures: int = 5
    base_ms: int = 60_000
    cap_ms: int = 900_000

    def __post_init__(self) -> None:
        if self.max_failures < 1 or not 1 <= self.base_ms <= self.cap_ms <= MAX_CAP_MS:
            raise ValueError("an MFA lockout needs max_failures >= 1 and 1 ms <= base <= cap <= 2**32 ms")

    def lock_ms(self, failures: int) -> int | None:
        """How long the ``failures``-th consecutive failure locks the factor; None if it does not.

        >>> policy = LockoutPolicy(5, 60_000, 900_000)
        >>> [policy.lock_ms(n) for n in (4, 5, 6, 10, 15, 20, 25, 50)]
        [None, 60000, None, 120000, 240000, 480000, 900000, 900000]
        """
        if failures < 1 or failures % self.max_failures:
            return None
        shift = failures // self.max_failures - 1
        if shift >= MAX_SHIFT:
            return self.cap_ms
        return min(self.base_ms << shift, self.cap_ms)
