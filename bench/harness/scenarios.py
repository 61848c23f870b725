"""What is measured: the scenarios of issue 5 and the matrix of cells they expand to."""

from __future__ import annotations

import fnmatch
from dataclasses import dataclass
from typing import Protocol, TypeVar


class _Named(Protocol):
    @property
    def name(self) -> str: ...


S = TypeVar("S", bound=_Named)


@dataclass(frozen=True)
class Scenario:
    endpoint: str  # the /api/v3 path
    by: str  # userIdType: "user_id" or "email" (the secondary-index lookup)
    auth: str  # "token" (Bearer management token) or "hmac" (per-request signature, fresh nonce)

    @property
    def name(self) -> str:
        return f"{self.endpoint}.{self.by}.{self.auth}"

    @property
    def writes(self) -> bool:
        return self.endpoint == "set-mfa-status"


SCENARIOS = [
    Scenario("set-mfa-status", "user_id", "token"),
    Scenario("set-mfa-status", "email", "token"),
    Scenario("set-mfa-status", "user_id", "hmac"),
    Scenario("set-mfa-status", "email", "hmac"),
    Scenario("get-mfa-status", "user_id", "token"),
    Scenario("get-user-mfa-info", "user_id", "token"),
]
# User-count scaling: the same lookups with the small and the large pool (issue 5: "stays flat").
SCALING_SCENARIOS = [
    Scenario("set-mfa-status", "email", "token"),
    Scenario("get-mfa-status", "email", "token"),
]
ALL = {s.name: s for s in SCENARIOS + SCALING_SCENARIOS}


@dataclass(frozen=True)
class SigninScenario:
    """Issue 10: an end-user call, measured against its floor (harness/signin_phase.py)."""

    name: str
    floor: str  # "parse_only" or "argon2"


SIGNIN_SCENARIOS = [
    SigninScenario("mfa-totp-verify.right", "parse_only"),  # a right code, each user once per step
    SigninScenario("mfa-totp-verify.wrong", "parse_only"),  # wrong codes: counted, then the lock
    SigninScenario("signin.password", "argon2"),  # PASSWORD sign-in, no MFA: one Argon2 verification
]


def select(patterns: list[str] | None, pool: list[S]) -> list[S]:
    """Scenarios of ``pool`` whose name matches one of the shell-style ``patterns`` (all when None)."""
    if not patterns:
        return list(pool)
    return [s for s in pool if any(fnmatch.fnmatchcase(s.name, p) or s.name.startswith(p) for p in patterns)]


@dataclass(frozen=True)
class Group:
    """One server: a backend, a pool size and a worker count, and the cells run against it."""

    backend: str
    users: int
    workers: int
    cells: tuple[tuple[Scenario, int], ...]  # (scenario, connections), in run order
