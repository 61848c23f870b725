"""The mfaToken (docs/wire.md#mfa-required): an HS256 JWT that a sign-in hands out instead of tokens.

Its key is derived from the master key for this purpose only (``twofold/mfa-token/v1``), so an mfaToken
can never pass for a management token or an access token, and the other way round.  It is bound to the
user, the pool, the application and one sign-in (``jti``); whether that ``jti`` is spent is the
database's business (``services/mfa_tickets.py``).
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass

import jwt

ALGORITHM = "HS256"
AUDIENCE = "twofold-mfa"


@dataclass(frozen=True)
class MfaTicket:
    """What a verified mfaToken says: who signed in, to which application, and which sign-in it was."""

    pool_id: str
    user_id: str
    app_id: str
    jti: str
    scope: str
    issued_at: int  # seconds
    expires_at: int  # seconds
    connection: str = "PASSWORD"  # how the first factor was passed (PASSWORD, PASSCODE)


def mint(
    key: bytes,
    issuer: str,
    pool_id: str,
    user_id: str,
    app_id: str,
    scope: str,
    now: int,
    ttl: int,
    connection: str = "PASSWORD",
) -> str:
    claims = {
        "iss": issuer,
        "aud": AUDIENCE,
        "sub": user_id,
        "userpool_id": pool_id,
        "app_id": app_id,
        "scope": scope,
        "jti": secrets.token_hex(16),
        "iat": now,
        "exp": now + ttl,
        "connection": connection,
    }
    return jwt.encode(claims, key, algorithm=ALGORITHM, headers={"typ": "mfa+jwt"})


def decode(key: bytes, token: str, issuer: str, now: int) -> MfaTicket:
    """Verify signature, audience, issuer and expiry against ``now`` (seconds); ``jwt.InvalidTokenError``."""
    claims = jwt.decode(
        token,
        key,
        algorithms=[ALGORITHM],
        audience=AUDIENCE,
        issuer=issuer,
        options={"require": ["exp", "iat", "sub", "jti", "userpool_id", "app_id"], "verify_exp": False},
    )
    if int(claims["exp"]) <= now:
        raise jwt.ExpiredSignatureError("mfaToken expired")
    return MfaTicket(
        str(claims["userpool_id"]),
        str(claims["sub"]),
        str(claims["app_id"]),
        str(claims["jti"]),
        str(claims.get("scope", "")),
        int(claims["iat"]),
        int(claims["exp"]),
        str(claims.get("connection", "PASSWORD")),
    )
