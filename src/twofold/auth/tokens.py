"""Management tokens (docs/wire.md#token-scheme): HS256 JWTs carrying ``scoped_userpool_id``.

The GenAuth Python SDKs decode the payload with the *standard* base64 alphabet and drop ``-``/``_``
(docs/wire.md#rule-13), so the payload is kept pure ASCII and a token whose payload segment contains either
character is minted again with a different ``jti``.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass

import jwt

ALGORITHM = "HS256"
_AUDIENCE = "twofold-management"


@dataclass(frozen=True)
class TokenClaims:
    pool_id: str
    access_key_id: str
    expires_at: int


def mint_management_token(key: bytes, pool_id: str, access_key_id: str, now: int, ttl: int) -> str:
    while True:
        payload = {
            "scoped_userpool_id": pool_id,
            "sub": access_key_id,
            "aud": _AUDIENCE,
            "iat": now,
            "exp": now + ttl,
            "jti": secrets.token_hex(8),
        }
        token = jwt.encode(payload, key, algorithm=ALGORITHM)
        segment = token.split(".")[1]
        if "-" not in segment and "_" not in segment:
            return token


class TokenVerifier:
    """Verifies management tokens, remembering the ones already verified.

    A client reuses its token for its whole life (2 h by default), and PyJWT's verification costs
    ~100 us, so a verified token's claims are kept (bounded, oldest dropped first).  Expiry is checked
    on every use; whether the access key is still active is the caller's check, also on every use.
    """

    def __init__(self, key: bytes, capacity: int = 4096) -> None:
        self._key = key
        self._capacity = capacity
        self._verified: dict[str, TokenClaims] = {}

    def verify(self, token: str, now: int, grace: int) -> TokenClaims:
        claims = self._verified.get(token)
        if claims is None:
            claims = decode_management_token(self._key, token, now, grace)
            if len(self._verified) >= self._capacity:
                self._verified.pop(next(iter(self._verified)))
            self._verified[token] = claims
        if claims.expires_at + grace < now:
            self._verified.pop(token, None)
            raise jwt.ExpiredSignatureError("token expired")
        return claims


def decode_management_token(key: bytes, token: str, now: int, grace: int) -> TokenClaims:
    """Verify signature, audience and expiry (with ``grace`` seconds); raise ``jwt.InvalidTokenError``."""
    claims = jwt.decode(
        token,
        key,
        algorithms=[ALGORITHM],
        audience=_AUDIENCE,
        options={"require": ["exp", "sub", "scoped_userpool_id"], "verify_exp": False},
    )
    if int(claims["exp"]) + grace < now:
        raise jwt.ExpiredSignatureError("token expired")
    return TokenClaims(str(claims["scoped_userpool_id"]), str(claims["sub"]), int(claims["exp"]))
