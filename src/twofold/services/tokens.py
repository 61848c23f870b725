"""End-user tokens: issue the token set, verify access tokens, rotate refresh tokens, introspect, revoke.

* Access and ID tokens are RS256 JWTs (``auth/user_tokens.py``) signed with a key generated on first
  start and stored encrypted; every key is published in the JWKS with its ``kid``.
* Each sign-in starts a **family** (its id is the tokens' ``sid``).  Refresh tokens are random, stored
  as SHA-256 digests, and rotate: using one marks it used with a compare-and-set and issues the next of
  the family.  Presenting a used one again is a replay: the whole family is revoked, and with it every
  access token carrying its ``sid`` (checked by ``verify_access_token``).
"""

from __future__ import annotations

import hashlib
import logging
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import jwt
import orjson
from cryptography.hazmat.primitives.asymmetric import rsa

from twofold.auth import user_tokens
from twofold.auth.user_tokens import SigningKey
from twofold.config import Settings
from twofold.domain.identifiers import UserIdType, UserRef
from twofold.domain.mfa import Factor
from twofold.domain.signin import AccessClaims, TokenSet
from twofold.domain.users import User, UserStatus
from twofold.errors import InvalidUserToken, OAuthInvalidGrant
from twofold.services.context import Clock, new_id
from twofold.services.keyring import Keyring
from twofold.storage.database import Connection, Database
from twofold.storage.errors import UniqueViolation
from twofold.storage.repositories import refresh_tokens as rt_repo
from twofold.storage.repositories import signing_keys as keys_repo
from twofold.storage.repositories import users as users_repo
from twofold.storage.repositories.refresh_tokens import NewFamily

log = logging.getLogger("twofold.tokens")
_KEY_RELOAD_MS = 10_000


def refresh_digest(token: str) -> str:
    """Refresh tokens carry 256 random bits: a plain SHA-256 is enough to store them safely."""
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


@dataclass(frozen=True)
class SignedClaims:
    """An access token whose signature, type, issuer and expiry were checked, but not its revocation."""

    family_id: str  # ``sid``
    user_id: str  # ``sub``
    claims: dict[str, Any]


class TokenService:
    def __init__(self, db: Database, box: Keyring, settings: Settings, clock: Clock) -> None:
        self._db = db
        self._box = box
        self._clock = clock
        self.issuer = settings.resolved_issuer
        self._access_ttl = settings.access_token_ttl_seconds
        self._id_ttl = settings.id_token_ttl_seconds
        self._refresh_ttl = settings.refresh_token_ttl_seconds
        self._signing: SigningKey | None = None
        self._public: dict[str, rsa.RSAPublicKey] = {}
        self._jwks: list[dict[str, Any]] = []
        self._keys_read_at = 0

    # ------------------------------------------------------------------------------------ keys
    async def load_keys(self) -> None:
        """Read the signing keys; on the very first start generate one.  Two processes starting at once
        may each store one: both are published, and everyone signs with the oldest."""
        async with self._db.read() as conn:
            rows = await keys_repo.list_all(conn)
        if not rows:
            key = user_tokens.generate_signing_key()
            private_ct = await self._box.encrypt(user_tokens.private_pem(key))
            try:
                async with self._db.transaction() as conn:
                    await keys_repo.insert(
                        conn,
                        key.kid,
                        user_tokens.ALGORITHM,
                        private_ct,
                        orjson.dumps(key.public_jwk).decode(),
                        self._clock(),
                    )
            except UniqueViolation:
                pass
            async with self._db.read() as conn:
                rows = await keys_repo.list_all(conn)
        self._keys_read_at = self._clock()
        first = rows[0]
        self._signing = user_tokens.load_signing_key(first["kid"], await self._box.decrypt(first["private_key_ciphertext"]))
        self._jwks = [orjson.loads(r["public_jwk"]) for r in rows]
        self._public = {
            jwk["kid"]: jwt.algorithms.RSAAlgorithm.from_jwk(jwk)  # type: ignore[misc]
            for jwk in self._jwks
        }

    def jwks(self) -> dict[str, Any]:
        return {"keys": list(self._jwks)}

    def _key(self) -> SigningKey:
        if self._signing is None:
            raise RuntimeError("TokenService.load_keys() was not awaited")
        return self._signing

    # ----------------------------------------------------------------------------------- issue
    async def issue(self, user: User, app_id: str, scope: str, amr: list[str]) -> TokenSet:
        """A new family and its first token set, for a sign-in that has passed every factor."""
        family, tokens = self.new_family(user, app_id, scope, amr)
        async with self._db.transaction() as conn:
            await rt_repo.insert_family(conn, family)
        return tokens

    def new_family(self, user: User, app_id: str, scope: str, amr: list[str]) -> tuple[NewFamily, TokenSet]:
        """``issue`` without its write: the family to store (with the sign-in's other writes) and the
        token set, valid once the family is stored."""
        family_id = new_id()
        refresh = secrets.token_urlsafe(32)
        now = self._clock()
        family = NewFamily(
            family_id, user.pool_id, app_id, user.id, scope[:200], now, refresh_digest(refresh),
            now + self._refresh_ttl * 1000,
        )
        return family, self._token_set(user, app_id, scope, family_id, refresh, amr, now // 1000)

    def _token_set(
        self, user: User, app_id: str, scope: str, family_id: str, refresh: str, amr: list[str], now: int
    ) -> TokenSet:
        key = self._key()
        base = {"iss": self.issuer, "sub": user.id, "aud": app_id, "iat": now, "sid": family_id}
        access = user_tokens.sign(
            key,
            {
                **base,
                "exp": now + self._access_ttl,
                "jti": secrets.token_hex(12),
                "scope": scope,
                "client_id": app_id,
                "userpool_id": user.pool_id,
            },
            user_tokens.ACCESS_TYPE,
        )
        id_token = user_tokens.sign(
            key,
            {**base, "exp": now + self._id_ttl, "jti": secrets.token_hex(12), "amr": amr, **_id_claims(user, scope)},
            user_tokens.ID_TYPE,
        )
        return TokenSet(access, id_token, refresh, self._access_ttl, scope, expires_at=now + self._access_ttl)

    # ---------------------------------------------------------------------------------- verify
    def _decode(self, token: str) -> dict[str, Any]:
        return user_tokens.verify(self._public, token, user_tokens.ACCESS_TYPE, self.issuer, self._clock() // 1000)

    async def verify_access_token(self, token: str | None) -> AccessClaims:
        """Signature, type, issuer, expiry, and that its family (sign-in) is not revoked."""
        signed = await self.signed_claims(token)
        async with self._db.read() as conn:
            family = await rt_repo.family_state(conn, signed.family_id)
        return self.live_claims(signed, family)

    async def signed_claims(self, token: str | None) -> SignedClaims:
        """The first half of ``verify_access_token``: signature, type, issuer, expiry, no database read.
        Not a verified token yet: ``live_claims`` with the state of ``family_id`` read in the caller's
        query is the other half (for a caller that reads the family along with its own rows)."""
        if not token:
            raise InvalidUserToken("no access token")
        try:
            try:
                claims = self._decode(token)
            except user_tokens.UnknownKeyId:
                now = self._clock()
                if now - self._keys_read_at < _KEY_RELOAD_MS:
                    raise
                await self.load_keys()  # another process may have added a key since (at most every 10 s)
                claims = self._decode(token)
        except (jwt.InvalidTokenError, ValueError, TypeError, KeyError) as exc:
            raise InvalidUserToken(f"access token refused: {exc}") from None
        return SignedClaims(str(claims.get("sid")), str(claims["sub"]), claims)

    def live_claims(self, signed: SignedClaims, family: Mapping[str, Any] | None) -> AccessClaims:
        """The second half: the token's family (``rt_repo.family_state``'s row) exists, belongs to its
        user and is not revoked, so a revoked sign-in fails at once."""
        if family is None or family["revoked_at"] is not None or family["user_id"] != signed.user_id:
            raise InvalidUserToken("the sign-in of this token was revoked")
        claims = signed.claims
        return AccessClaims(
            family["pool_id"],
            signed.user_id,
            str(claims["aud"]),
            str(claims.get("scope", "")),
            family["id"],
            int(claims["iat"]),
            int(claims["exp"]),
            str(claims["jti"]),
        )

    # --------------------------------------------------------------------------------- refresh
    async def refresh(self, app_id: str, token: str) -> TokenSet:
        """Rotate: the presented token becomes used and the family's next one is issued.  A used,
        revoked, expired or foreign token raises ``OAuthInvalidGrant``; a used one also revokes the family."""
        digest = refresh_digest(token)
        now = self._clock()
        async with self._db.read() as conn:
            row = await rt_repo.find(conn, digest)
            user = None
            if row is not None:
                found = await users_repo.find(conn, row["pool_id"], _by_id(row["user_id"]))
                user = found[0] if found else None
        if row is None or row["app_id"] != app_id:
            raise OAuthInvalidGrant("unknown refresh token, or issued to another application")
        if row["revoked_at"] is not None:
            raise OAuthInvalidGrant("the token's family is revoked")
        if row["expires_at"] <= now:
            raise OAuthInvalidGrant("refresh token expired")
        if user is None or user.status is not UserStatus.ACTIVATED:
            raise OAuthInvalidGrant("the user is gone or may not sign in")
        fresh = secrets.token_urlsafe(32)
        async with self._db.transaction() as conn:
            won = await rt_repo.mark_used(conn, digest, now)
            if won:
                await rt_repo.insert_token(conn, refresh_digest(fresh), row["family_id"], now, now + self._refresh_ttl * 1000)
        if not won:
            async with self._db.transaction() as conn:
                await rt_repo.revoke_family(conn, row["family_id"], now)
            log.warning("refresh token reused: family %s revoked", row["family_id"])
            raise OAuthInvalidGrant("refresh token reused: the family is revoked")
        return self._token_set(user, app_id, row["scope"], row["family_id"], fresh, ["pwd"], now // 1000)

    # ------------------------------------------------------------------------ introspect, revoke
    async def introspect(self, app_id: str, token: str) -> dict[str, Any]:
        """RFC 7662 for a token issued to ``app_id``: access or refresh; anything else is inactive."""
        try:
            claims = await self.verify_access_token(token)
        except InvalidUserToken:
            claims = None
        if claims is not None:
            if claims.app_id != app_id:
                return {"active": False}
            return {
                "active": True,
                "token_type": "access_token",
                "scope": claims.scope,
                "client_id": claims.app_id,
                "sub": claims.user_id,
                "aud": claims.app_id,
                "iss": self.issuer,
                "iat": claims.issued_at,
                "exp": claims.expires_at,
                "jti": claims.jti,
                "userpool_id": claims.pool_id,
            }
        async with self._db.read() as conn:
            row = await rt_repo.find(conn, refresh_digest(token))
        if (
            row is None
            or row["app_id"] != app_id
            or row["revoked_at"] is not None
            or row["used_at"] is not None
            or row["expires_at"] <= self._clock()
        ):
            return {"active": False}
        return {
            "active": True,
            "token_type": "refresh_token",
            "scope": row["scope"],
            "client_id": app_id,
            "sub": row["user_id"],
            "exp": row["expires_at"] // 1000,
            "userpool_id": row["pool_id"],
        }

    async def revoke(self, app_id: str, token: str) -> None:
        """RFC 7009: revoking either token of a sign-in revokes the sign-in (its family)."""
        family_id: str | None = None
        try:
            claims = await self.verify_access_token(token)
            if claims.app_id == app_id:
                family_id = claims.family_id
        except InvalidUserToken:
            async with self._db.read() as conn:
                row = await rt_repo.find(conn, refresh_digest(token))
            if row is not None and row["app_id"] == app_id:
                family_id = row["family_id"]
        if family_id is not None:
            async with self._db.transaction() as conn:
                await rt_repo.revoke_family(conn, family_id, self._clock())

    async def revoke_user(self, pool_id: str, user_id: str) -> int:
        """Every sign-in of the user: the number of families revoked."""
        async with self._db.transaction() as conn:
            return await rt_repo.revoke_user(conn, pool_id, user_id, self._clock())

    async def revoke_user_on_reset(
        self, conn: Connection, pool_id: str, user_id: str, factors: Sequence[Factor]
    ) -> None:
        """A reset hook (services/mfa_admin.py): an MFA reset revokes every sign-in of the user, in the
        reset's own transaction."""
        await rt_repo.revoke_user(conn, pool_id, user_id, self._clock())


def _by_id(user_id: str) -> UserRef:
    return UserRef(UserIdType.USER_ID, user_id)


def _id_claims(user: User, scope: str) -> dict[str, Any]:
    """OpenID Connect standard claims, by scope (Core §5.4)."""
    words = set(scope.split())
    claims: dict[str, Any] = {}
    if "profile" in words:
        claims.update(
            name=user.name,
            nickname=user.nickname,
            preferred_username=user.username,
            picture=user.profile.get("photo"),
            updated_at=user.updated_at // 1000,
        )
    if "email" in words:
        claims.update(email=user.email, email_verified=bool(user.profile.get("emailVerified", False)))
    if "phone" in words:
        claims.update(
            phone_number=user.phone, phone_number_verified=bool(user.profile.get("phoneVerified", False))
        )
    return {k: v for k, v in claims.items() if v is not None}
