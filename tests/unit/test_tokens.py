"""Management JWTs: verifiable by us, decodable by the GenAuth SDK's quirky base64 (docs/wire.md#rule-13)."""

from __future__ import annotations

import base64
import json

import jwt
import pytest

from twofold.auth.tokens import decode_management_token, mint_management_token

KEY = b"k" * 32


def sdk_decode(token: str) -> dict:
    """What genauth 5.1.0 does: standard alphabet, non-strict, '=' padding."""
    segment = token.split(".")[1]
    segment += "=" * (-len(segment) % 4)
    return json.loads(base64.b64decode(segment).decode("utf-8"))


def test_many_tokens_all_decode_with_the_sdk_decoder() -> None:
    for i in range(300):
        token = mint_management_token(KEY, f"pool{i:020d}", f"key{i}", 1_700_000_000 + i, 7200)
        assert "-" not in token.split(".")[1] and "_" not in token.split(".")[1]
        assert sdk_decode(token)["scoped_userpool_id"] == f"pool{i:020d}"


def test_token_round_trip() -> None:
    token = mint_management_token(KEY, "p1", "k1", 1000, 60)
    claims = decode_management_token(KEY, token, 1010, 0)
    assert (claims.pool_id, claims.access_key_id, claims.expires_at) == ("p1", "k1", 1060)


def test_expired_token_is_refused_after_grace() -> None:
    token = mint_management_token(KEY, "p1", "k1", 1000, 60)
    decode_management_token(KEY, token, 1080, 30)  # within grace
    with pytest.raises(jwt.ExpiredSignatureError):
        decode_management_token(KEY, token, 1091, 30)


def test_token_signed_with_another_key_is_refused() -> None:
    token = mint_management_token(b"x" * 32, "p1", "k1", 1000, 60)
    with pytest.raises(jwt.InvalidSignatureError):
        decode_management_token(KEY, token, 1000, 0)


def test_verifier_remembers_tokens_but_still_checks_expiry() -> None:
    from twofold.auth.tokens import TokenVerifier

    verifier = TokenVerifier(KEY, capacity=2)
    token = mint_management_token(KEY, "p1", "k1", 1000, 60)
    assert verifier.verify(token, 1000, 0).pool_id == "p1"
    assert verifier.verify(token, 1059, 0).pool_id == "p1"
    with pytest.raises(jwt.ExpiredSignatureError):
        verifier.verify(token, 1061, 0)
    with pytest.raises(jwt.InvalidSignatureError):
        verifier.verify(mint_management_token(b"x" * 32, "p1", "k1", 1000, 60), 1000, 0)
    for i in range(5):  # bounded
        verifier.verify(mint_management_token(KEY, f"p{i}", "k", 1000, 60), 1000, 0)
    assert len(verifier._verified) <= 2
