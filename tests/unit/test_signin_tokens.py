"""The pure pieces of sign-in: Basic parsing, scopes, client-secret digests, RS256 tokens, mfaTokens."""

from __future__ import annotations

import base64
import json

import jwt
import pytest

from twofold.auth import client_secrets, mfa_tokens, user_tokens
from twofold.auth.tokens import mint_management_token
from twofold.domain.signin import ClientCredentials, bearer_token, normalize_scope, parse_basic

KEY = b"k" * 32
ISSUER = "https://auth.example.com/oidc"


def basic(text: str) -> str:
    return "Basic " + base64.b64encode(text.encode()).decode()


def test_basic_header_is_parsed_with_form_decoding_and_anything_else_is_none() -> None:
    assert parse_basic(basic("app:s%3Acret")) == ("app", "s:cret")
    assert parse_basic(basic("app:a:b")) == ("app", "a:b")
    for value in (None, "", "Bearer abc", "Basic !!!", basic("no-colon"), "Basic " + base64.b64encode(b"\xff:x").decode()):
        assert parse_basic(value) is None


def test_client_credentials_name_one_application_or_several() -> None:
    assert ClientCredentials("a", "a", "s").app_ids() == {"a"}
    assert ClientCredentials("a", None, None, "b", "s").app_ids() == {"a", "b"}
    assert ClientCredentials(None, "a", "body", "a", "basic").secret == "basic"


def test_scope_always_holds_openid_once() -> None:
    assert normalize_scope(None) == "openid profile"
    assert normalize_scope("email profile email") == "openid email profile"
    assert normalize_scope("profile openid") == "profile openid"


def test_bearer_token_accepts_bare_and_bearer() -> None:
    assert bearer_token("abc") == bearer_token("Bearer abc") == bearer_token("bearer  abc ") == "abc"
    assert bearer_token(None) is None and bearer_token("Bearer ") is None


def test_client_secret_digest_matches_only_the_secret() -> None:
    secret = client_secrets.new_secret()
    stored = client_secrets.digest(KEY, secret)
    assert len(secret) == 64 and secret not in stored
    assert client_secrets.matches(KEY, secret, stored)
    assert not client_secrets.matches(KEY, secret + "x", stored)
    assert not client_secrets.matches(b"other" * 8, secret, stored)
    assert not client_secrets.matches(KEY, None, stored)
    assert not client_secrets.matches(KEY, secret, None)


@pytest.fixture(scope="module")
def signing_key() -> user_tokens.SigningKey:
    return user_tokens.generate_signing_key()


def claims(**extra: object) -> dict[str, object]:
    return {"iss": ISSUER, "sub": "u1", "aud": "app1", "iat": 1000, "exp": 2000, "jti": "j", **extra}


def test_kid_is_the_rfc7638_thumbprint_and_survives_storage(signing_key: user_tokens.SigningKey) -> None:
    jwk = signing_key.public_jwk
    assert jwk["kid"] == signing_key.kid and jwk["alg"] == "RS256" and "d" not in jwk
    reloaded = user_tokens.load_signing_key(signing_key.kid, user_tokens.private_pem(signing_key))
    assert user_tokens.thumbprint(reloaded.private_key.public_key()) == signing_key.kid


def test_access_token_verifies_with_its_key_type_and_time(signing_key: user_tokens.SigningKey) -> None:
    public = {signing_key.kid: signing_key.private_key.public_key()}
    token = user_tokens.sign(signing_key, claims(), user_tokens.ACCESS_TYPE)
    assert user_tokens.verify(public, token, user_tokens.ACCESS_TYPE, ISSUER, 1999)["sub"] == "u1"
    with pytest.raises(jwt.ExpiredSignatureError):
        user_tokens.verify(public, token, user_tokens.ACCESS_TYPE, ISSUER, 2000)
    with pytest.raises(jwt.InvalidTokenError):  # an ID token is no access token
        user_tokens.verify(public, user_tokens.sign(signing_key, claims(), user_tokens.ID_TYPE),
                           user_tokens.ACCESS_TYPE, ISSUER, 1500)
    with pytest.raises(jwt.InvalidIssuerError):
        user_tokens.verify(public, token, user_tokens.ACCESS_TYPE, "https://elsewhere/oidc", 1500)
    with pytest.raises(user_tokens.UnknownKeyId):
        user_tokens.verify({}, token, user_tokens.ACCESS_TYPE, ISSUER, 1500)


def test_an_hs256_token_with_a_known_kid_is_refused(signing_key: user_tokens.SigningKey) -> None:
    """Algorithm confusion: a token 'signed' with the public key as an HMAC secret."""
    public = {signing_key.kid: signing_key.private_key.public_key()}
    forged = jwt.encode(claims(), "public-key-as-hmac-secret-0123456789", algorithm="HS256",
                        headers={"kid": signing_key.kid, "typ": user_tokens.ACCESS_TYPE})
    with pytest.raises(jwt.InvalidTokenError):
        user_tokens.verify(public, forged, user_tokens.ACCESS_TYPE, ISSUER, 1500)


def test_mfa_token_round_trip_expiry_and_foreign_tokens() -> None:
    token = mfa_tokens.mint(KEY, ISSUER, "pool", "user", "app", "openid", 1000, 300)
    ticket = mfa_tokens.decode(KEY, token, ISSUER, 1299)
    assert (ticket.pool_id, ticket.user_id, ticket.app_id, ticket.expires_at) == ("pool", "user", "app", 1300)
    assert mfa_tokens.mint(KEY, ISSUER, "pool", "user", "app", "openid", 1000, 300) != token  # a new jti
    with pytest.raises(jwt.ExpiredSignatureError):
        mfa_tokens.decode(KEY, token, ISSUER, 1300)
    with pytest.raises(jwt.InvalidSignatureError):
        mfa_tokens.decode(b"x" * 32, token, ISSUER, 1100)
    management = mint_management_token(KEY, "pool", "key", 1000, 300)  # same key, other audience
    with pytest.raises(jwt.InvalidTokenError):
        mfa_tokens.decode(KEY, management, ISSUER, 1100)


def test_the_unverified_header_only_chooses_how_to_verify(signing_key: user_tokens.SigningKey) -> None:
    access = user_tokens.sign(signing_key, claims(), user_tokens.ACCESS_TYPE)
    mfa = mfa_tokens.mint(KEY, ISSUER, "pool", "user", "app", "openid", 1000, 300)
    assert user_tokens.is_of_type(access, user_tokens.ACCESS_TYPE)
    assert not user_tokens.is_of_type(mfa, user_tokens.ACCESS_TYPE)
    assert user_tokens.unverified_header(mfa) == jwt.get_unverified_header(mfa)
    for junk in ("", "abc", "!!!.x.y", base64.urlsafe_b64encode(b"[1]").decode() + ".x.y", "...", "\xff.a.b"):
        assert user_tokens.unverified_header(junk) is None, junk
        assert not user_tokens.is_of_type(junk, user_tokens.ACCESS_TYPE)
    assert not user_tokens.is_of_type("e30.x.y", user_tokens.ACCESS_TYPE)  # {}: no typ
    # An ID token whose header is rewritten to say "access token" keeps the ID token's signature: refused.
    id_token = user_tokens.sign(signing_key, claims(), user_tokens.ID_TYPE)
    header = base64.urlsafe_b64encode(
        json.dumps({**jwt.get_unverified_header(id_token), "typ": user_tokens.ACCESS_TYPE}).encode()
    ).rstrip(b"=").decode()
    relabelled = ".".join([header, *id_token.split(".")[1:]])
    assert user_tokens.is_of_type(relabelled, user_tokens.ACCESS_TYPE)
    public = {signing_key.kid: signing_key.private_key.public_key()}
    with pytest.raises(jwt.InvalidSignatureError):
        user_tokens.verify(public, relabelled, user_tokens.ACCESS_TYPE, ISSUER, 1500)


def _resigned(key: user_tokens.SigningKey, header: dict[str, object], payload: dict[str, object]) -> str:
    """A compact JWS over any header and payload, RS256-signed with ``key`` (what a bug in our own
    issuing, or a stolen key with odd headers, would produce)."""
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import padding

    def b64(data: bytes) -> str:
        return base64.urlsafe_b64encode(data).rstrip(b"=").decode()

    signing_input = f"{b64(json.dumps(header).encode())}.{b64(json.dumps(payload).encode())}"
    signature = key.private_key.sign(signing_input.encode(), padding.PKCS1v15(), hashes.SHA256())
    return f"{signing_input}.{b64(signature)}"


def test_every_way_of_breaking_a_token_is_refused(signing_key: user_tokens.SigningKey) -> None:
    """What verify accepts are the claims PyJWT decodes, and each way of breaking a token (or of
    signing something odd with our own key) is refused."""
    public = {signing_key.kid: signing_key.private_key.public_key()}
    token = user_tokens.sign(signing_key, claims(scope="openid"), user_tokens.ACCESS_TYPE)
    ours = user_tokens.verify(public, token, user_tokens.ACCESS_TYPE, ISSUER, 1500)
    assert ours == jwt.decode(token, public[signing_key.kid], algorithms=["RS256"], issuer=ISSUER,
                              options={"verify_aud": False, "verify_exp": False})
    head, body, signature = token.split(".")
    other = user_tokens.sign(signing_key, claims(sub="u2"), user_tokens.ACCESS_TYPE).split(".")[1]
    sibling = signature[:-1] + chr(ord(signature[-1]) + 1)  # 256 bytes: the last character's 4 low bits are unused
    assert base64.urlsafe_b64decode(sibling + "==") == base64.urlsafe_b64decode(signature + "==")
    kid = {"kid": signing_key.kid, "typ": user_tokens.ACCESS_TYPE}
    broken = {
        "another payload under this signature": f"{head}.{other}.{signature}",
        "no signature": f"{head}.{body}.",
        "non-canonical base64url": f"{head}.{body}.{sibling}",
        "a character outside base64url": f"{head}.{body}.{signature[:-1]}+",
        "four segments": f"{token}.{body}",
        "two segments": f"{head}.{body}",
        "alg none": _resigned(signing_key, {**kid, "alg": "none"}, claims()),
        "a crit extension": _resigned(signing_key, {**kid, "alg": "RS256", "crit": ["exp"]}, claims()),
        "no jti": _resigned(signing_key, {**kid, "alg": "RS256"}, {k: v for k, v in claims().items() if k != "jti"}),
        "a numeric sub": _resigned(signing_key, {**kid, "alg": "RS256"}, claims(sub=7)),
        "a payload that is no object": _resigned(signing_key, {**kid, "alg": "RS256"}, [1]),  # type: ignore[arg-type]
    }
    for reason, bad in broken.items():
        with pytest.raises(jwt.InvalidTokenError):
            user_tokens.verify(public, bad, user_tokens.ACCESS_TYPE, ISSUER, 1500)
            pytest.fail(reason)
    fine = _resigned(signing_key, {**kid, "alg": "RS256"}, claims(nbf=1500))
    assert user_tokens.verify(public, fine, user_tokens.ACCESS_TYPE, ISSUER, 1500)["nbf"] == 1500
