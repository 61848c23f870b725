"""End-user tokens a relying party can check: RS256 JWTs (RFC 7519, RFC 9068 for access tokens).

The signing key is an RSA-2048 key pair; its ``kid`` is the RFC 7638 thumbprint of the public key, so
the JWKS published at ``/oidc/.well-known/jwks.json`` names it without any extra bookkeeping.  RS256,
not ES256: GenAuth's own SDKs verify offline with ``RSAAlgorithm`` and ``algorithms=['RS256']``.

Management tokens (``auth/tokens.py``) are a different thing: HS256, another key, another audience.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import re
from dataclasses import dataclass
from typing import Any

import jwt
import orjson
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from jwt.algorithms import RSAAlgorithm

ALGORITHM = "RS256"
ACCESS_TYPE = "at+jwt"  # RFC 9068: an access token cannot be passed off as an ID token
ID_TYPE = "JWT"
_PKCS1V15 = padding.PKCS1v15()  # RS256 is RSASSA-PKCS1-v1_5 with SHA-256 (RFC 7518 §3.3)
_SHA256 = hashes.SHA256()


@dataclass(frozen=True)
class SigningKey:
    kid: str
    private_key: rsa.RSAPrivateKey

    @property
    def public_jwk(self) -> dict[str, Any]:
        return public_jwk(self.private_key.public_key(), self.kid)


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def thumbprint(public_key: rsa.RSAPublicKey) -> str:
    """RFC 7638: SHA-256 of the canonical JSON of the required members ``e``, ``kty``, ``n``."""
    jwk = RSAAlgorithm.to_jwk(public_key, as_dict=True)
    canonical = json.dumps({"e": jwk["e"], "kty": "RSA", "n": jwk["n"]}, separators=(",", ":"), sort_keys=True)
    return _b64url(hashlib.sha256(canonical.encode()).digest())


def public_jwk(public_key: rsa.RSAPublicKey, kid: str) -> dict[str, Any]:
    jwk: dict[str, Any] = RSAAlgorithm.to_jwk(public_key, as_dict=True)
    return {**jwk, "kid": kid, "use": "sig", "alg": ALGORITHM}


def generate_signing_key() -> SigningKey:
    private_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return SigningKey(thumbprint(private_key.public_key()), private_key)


def private_pem(key: SigningKey) -> str:
    return key.private_key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()


def load_signing_key(kid: str, pem: str) -> SigningKey:
    loaded = serialization.load_pem_private_key(pem.encode(), password=None)
    if not isinstance(loaded, rsa.RSAPrivateKey):
        raise ValueError("the stored signing key is not an RSA key")
    return SigningKey(kid, loaded)


class UnknownKeyId(jwt.InvalidTokenError):
    """The token names a ``kid`` this process does not know (yet: another process may have added it)."""


def sign(key: SigningKey, claims: dict[str, Any], token_type: str) -> str:
    return jwt.encode(claims, key.private_key, algorithm=ALGORITHM, headers={"kid": key.kid, "typ": token_type})


def unverified_header(token: str) -> dict[str, Any] | None:
    """The JOSE header of a compact JWT, *not verified*: only to choose a key (``kid``) or which kind of
    token to verify it as; None when it does not parse.  Cheaper than ``jwt.get_unverified_header``,
    which validates and decodes every segment: the one verification that follows (``verify``) does that."""
    head, dot, _ = token.partition(".")
    if not dot or len(head) > 1024:
        return None
    try:
        value = orjson.loads(base64.urlsafe_b64decode(head + "=" * (-len(head) % 4)))
    except (ValueError, binascii.Error):  # orjson.JSONDecodeError is a ValueError
        return None
    return value if isinstance(value, dict) else None


_SEGMENT = re.compile(r"[A-Za-z0-9_-]*")  # base64url without padding (RFC 7515 §2)
_REQUIRED = ("exp", "iat", "sub", "aud", "jti")


def _segment(text: str, name: str) -> bytes:
    """One segment of a compact JWS, decoded; only the canonical base64url form of its bytes is accepted."""
    if len(text) % 4 == 1 or not _SEGMENT.fullmatch(text):
        raise jwt.DecodeError(f"invalid {name} segment")
    data = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    if _b64url(data) != text:
        raise jwt.DecodeError(f"invalid {name} segment")
    return data


def _json_object(data: bytes, name: str) -> dict[str, Any]:
    try:
        value = orjson.loads(data)
    except orjson.JSONDecodeError:
        raise jwt.DecodeError(f"invalid {name}") from None
    if not isinstance(value, dict):
        raise jwt.DecodeError(f"invalid {name}: not a JSON object")
    return value


def _number(claims: dict[str, Any], name: str) -> int:
    try:
        return int(claims[name])
    except (ValueError, TypeError, OverflowError):
        raise jwt.DecodeError(f"claim {name!r} is not an integer") from None


def verify(
    public_keys: dict[str, rsa.RSAPublicKey], token: str, token_type: str, issuer: str, now_seconds: int
) -> dict[str, Any]:
    """Verify an RS256 compact JWS of ``token_type``: signature, ``typ``, issuer, the required claims,
    ``iat``/``nbf`` not in the future, expiry; raise ``jwt.InvalidTokenError``.  The audience is the
    application the token was issued to, checked by the caller (any of the pool's apps is fine).

    The RSA check is ``cryptography``'s; only the compact form is parsed here, once, with PyJWT's
    checks (canonical base64url, a JSON object header and payload, the algorithm fixed to RS256, no
    ``crit`` extension, string ``sub`` and ``jti``).  PyJWT's own decode checks every base64url
    character in Python: ~50 us of a ~80-us verification of an 850-character token
    (docs/performance.md#totp-verification-issue-13).  tests/unit/test_signin_tokens.py holds it to
    PyJWT's answers."""
    head, dot1, rest = token.partition(".")
    body, dot2, signature = rest.partition(".")
    if not (dot1 and dot2) or "." in signature or len(head) > 1024:
        raise jwt.DecodeError("not a compact JWS")
    header = _json_object(_segment(head, "header"), "header")
    if header.get("typ") != token_type or header.get("alg") != ALGORITHM or "crit" in header or "b64" in header:
        raise jwt.InvalidTokenError(f"not an {token_type} token")
    key = public_keys.get(str(header.get("kid")))
    if key is None:
        raise UnknownKeyId("unknown kid")
    try:
        key.verify(_segment(signature, "signature"), f"{head}.{body}".encode(), _PKCS1V15, _SHA256)
    except InvalidSignature:
        raise jwt.InvalidSignatureError("Signature verification failed") from None
    claims = _json_object(_segment(body, "payload"), "payload")
    for name in _REQUIRED:
        if claims.get(name) is None:
            raise jwt.MissingRequiredClaimError(name)
    if claims.get("iss") != issuer:
        raise jwt.InvalidIssuerError("Invalid issuer")
    if not isinstance(claims["sub"], str) or not isinstance(claims["jti"], str):
        raise jwt.InvalidTokenError("sub and jti must be strings")
    if _number(claims, "iat") > now_seconds or ("nbf" in claims and _number(claims, "nbf") > now_seconds):
        raise jwt.ImmatureSignatureError("The token is not yet valid")
    if _number(claims, "exp") <= now_seconds:
        raise jwt.ExpiredSignatureError("token expired")
    return claims


def is_of_type(token: str, token_type: str) -> bool:
    """Whether the (unverified) header says ``typ`` = ``token_type``: which verification to try first."""
    header = unverified_header(token)
    return header is not None and header.get("typ") == token_type
