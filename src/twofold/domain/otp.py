"""TOTP authenticator secrets (RFC 6238 shared secrets, base32 as authenticator apps use them)."""

from __future__ import annotations

import base64
import binascii
import re

from twofold.errors import InvalidOtpSecret

MIN_SECRET_BITS = 80  # the size Google Authenticator-era secrets have; RFC 4226 recommends 160
MAX_SECRET_BITS = 1024
_SPACES = re.compile(r"[\s-]+")


def normalize_totp_secret(raw: str, field: str = "otp.secret") -> str:
    """Validate a base32 TOTP secret (spaces/dashes ignored, padding optional); return it canonical."""
    text = _SPACES.sub("", raw).upper().rstrip("=")
    if not text or not re.fullmatch(r"[A-Z2-7]+", text):
        raise InvalidOtpSecret(field, "the secret must be base32 (A-Z, 2-7)")
    padded = text + "=" * (-len(text) % 8)
    try:
        decoded = base64.b32decode(padded)
    except (binascii.Error, ValueError):
        raise InvalidOtpSecret(field, "the secret is not valid base32") from None
    bits = len(decoded) * 8
    if bits < MIN_SECRET_BITS:
        raise InvalidOtpSecret(field, f"the secret is too short ({bits} bits, at least {MIN_SECRET_BITS})")
    if bits > MAX_SECRET_BITS:
        raise InvalidOtpSecret(field, "the secret is too long")
    return text
