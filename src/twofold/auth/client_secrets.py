"""Application secrets (``appSecret``): generated once, stored as an HMAC-SHA256 digest.

Why HMAC and not Argon2: the secret is 256 random bits, so there is nothing to brute-force and a slow
hash buys nothing; a keyed digest (key derived from the master key, ``twofold/app-secret/v1``) means a
stolen database alone does not even allow offline guessing, and every check costs the same one HMAC,
compared in constant time.  A sign-in already pays its one Argon2 verification for the password.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

SECRET_BYTES = 32


def new_secret() -> str:
    return secrets.token_hex(SECRET_BYTES)


def digest(key: bytes, secret: str) -> str:
    return hmac.new(key, secret.encode("utf-8", "surrogatepass"), hashlib.sha256).hexdigest()


def matches(key: bytes, secret: str | None, stored: str | None) -> bool:
    """Constant time whatever is missing: an absent secret or digest is compared against a dummy."""
    candidate = digest(key, secret or "")
    expected = stored or "0" * 64
    return hmac.compare_digest(candidate, expected) and secret is not None and stored is not None
