"""What every use case needs to know about who is asking, and the clock."""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass

Clock = Callable[[], int]  # milliseconds since the epoch

OTP_SECRET_READ = "otp:read-secret"  # noqa: S105 - a permission name
PERMISSIONS = frozenset({OTP_SECRET_READ})


def system_clock() -> int:
    return time.time_ns() // 1_000_000


def new_id() -> str:
    """A 24-hex-character id, the shape GenAuth ids have."""
    return secrets.token_hex(12)


@dataclass(frozen=True)
class Principal:
    """An authenticated caller: an access key of one user pool."""

    pool_id: str
    access_key_id: str
    permissions: frozenset[str]

    def has_permission(self, permission: str) -> bool:
        return permission in self.permissions


@dataclass(frozen=True)
class Caller:
    """The principal plus the request facts the audit trail records."""

    principal: Principal
    request_id: str
    client_ip: str
    user_agent: str = ""  # recorded by the login history (services/login_history.py)

    @property
    def pool_id(self) -> str:
        return self.principal.pool_id
