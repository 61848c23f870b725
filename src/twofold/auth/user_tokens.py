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
from dataclasses import dataclass
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm

ALGORITHM = "RS256"
ACCESS_TYPE = "at+jwt"  # RFC 9068: an access token cannot be passed off as an ID token
ID_TYPE = "JWT"


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
    which validates and decodes every segment: the one verification that follows (PyJWT) does that."""
    head, dot, _ = token.partition(".")
    if not dot or len(head) > 1024:
        return None
    try:
        value = json.loads(base64.urlsafe_b64decode(head + "=" * (-len(head) % 4)))
    except (ValueError, binascii.Error):
        return None
    return value if isinstance(value, dict) else None


def verify(
    public_keys: dict[str, rsa.RSAPublicKey], token: str, token_type: str, issuer: str, now_seconds: int
) -> dict[str, Any]:
    """Verify signature, ``typ``, issuer and expiry; raise ``jwt.InvalidTokenError``.  The audience is
    the application the token was issued to, checked by the caller (any of the pool's apps is fine).
    The token is decoded once, by PyJWT; the unverified header only picks the key."""
    header = unverified_header(token)
    if header is None or header.get("typ") != token_type or header.get("alg") != ALGORITHM:
        raise jwt.InvalidTokenError(f"not an {token_type} token")
    key = public_keys.get(str(header.get("kid")))
    if key is None:
        raise UnknownKeyId("unknown kid")
    verified = jwt.decode_complete(
        token,
        key,
        algorithms=[ALGORITHM],
        issuer=issuer,
        options={"require": ["exp", "iat", "sub", "aud", "jti"], "verify_aud": False, "verify_exp": False},
    )
    if verified["header"].get("typ") != token_type:  # what was signed, not what was peeked at
        raise jwt.InvalidTokenError(f"not an {token_type} token")
    claims: dict[str, Any] = verified["payload"]
    if int(claims["exp"]) <= now_seconds:
        raise jwt.ExpiredSignatureError("token expired")
    return claims


def is_of_type(token: str, token_type: str) -> bool:
    """Whether the (unverified) header says ``typ`` = ``token_type``: which verification to try first."""
    header = unverified_header(token)
    return header is not None and header.get("typ") == token_type
