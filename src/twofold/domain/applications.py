"""Applications, as far as application-level MFA needs them (no I/O)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

APP_TYPES = ("web", "spa", "native", "api", "mfa", "mini-program", "gateway-app", "gateway-agent")
PROTOCOLS = ("oidc", "oauth", "saml", "cas", "asa")


@dataclass
class Application:
    """One application of a user pool.  ``config`` holds the descriptive fields GenAuth returns
    (logo, protocol, redirect URIs, ...); ``mfa_enabled_factors`` None means "inherit the pool's"."""

    id: str
    pool_id: str
    name: str
    identifier: str | None
    app_type: str
    config: dict[str, Any]
    mfa_enabled_factors: list[str] | None
    created_at: int
    updated_at: int
