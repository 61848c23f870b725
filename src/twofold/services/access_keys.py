"""User pools, access keys and management authentication (token and per-request signature)."""

from __future__ import annotations

import hmac
import logging
import random
import secrets
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
from functools import lru_cache

import jwt
import orjson

from twofold.auth import signing, tokens
from twofold.auth.vault import MasterKeyError
from twofold.config import Settings
from twofold.errors import AccessKeyNotFound, AuthenticationFailed, InvalidParameter
from twofold.services import audit
from twofold.services.context import PERMISSIONS, Caller, Clock, Principal, new_id
from twofold.services.keyring import Keyring
from twofold.storage.database import Connection, Database
from twofold.storage.repositories import access_keys as keys_repo
from twofold.storage.repositories import console_sessions as console_sessions_repo
from twofold.storage.repositories import pools as pools_repo
from twofold.storage.repositories.access_keys import AccessKeyRecord
from twofold.storage.repositories.pools import PoolRecord

log = logging.getLogger("twofold.auth")
DEFAULT_POOL_NAME = "default"
_NONCE_HEADERS = ("x-authing-signature-nonce", "x-genauth-signature-nonce")
_POOL_HEADERS = ("x-genauth-userpool-id", "x-authing-userpool-id")
_MAX_REMEMBERED_KEYS = 10_000
KEY_CREATED = "access_key.create"
KEY_REVOKED = "access_key.revoke"


@dataclass(frozen=True)
class NewAccessKey:
    """A freshly created key; ``secret`` is shown once and never stored in plaintext."""

    id: str
    pool_id: str
    secret: str
    permissions: list[str]


@lru_cache(maxsize=256)
def _parse_http_date(value: str) -> float | None:
    """Seconds since the epoch of an HTTP ``date`` header; None if unparseable or without a zone.
    Cached: every signed request of the same second carries the same text."""
    try:
        sent = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return None if sent.tzinfo is None else sent.timestamp()


@dataclass(frozen=True)
class _ActiveKey:
    row: tuple[str, str, str]  # what the database holds: (pool id, secret ciphertext, permissions)
    principal: Principal
    secret: str = field(repr=False)


@dataclass(frozen=True)
class ManagementToken:
    access_token: str
    expires_in: int


class AccessKeyService:
    def __init__(
        self, db: Database, box: Keyring, token_key: bytes, settings: Settings, clock: Clock
    ) -> None:
        self._db = db
        self._box = box
        self._token_key = token_key
        self._tokens = tokens.TokenVerifier(token_key)
        self._settings = settings
        self._clock = clock
        self._active: dict[str, _ActiveKey] = {}
        self._told_of_changes = False  # see watch_for_changes
        self._changes = 0  # announced changes so far: a lookup that overlapped one is not remembered

    async def check_master_key(self) -> None:
        """Raise ``MasterKeyError`` unless the master key decrypts a stored secret (when there is one)."""
        async with self._db.read() as conn:
            ciphertext = await keys_repo.any_secret_ciphertext(conn)
        if ciphertext is not None:
            try:
                await self._box.decrypt(ciphertext)
            except MasterKeyError:
                raise MasterKeyError(
                    "the master key does not decrypt the stored secrets: it is not the key this database"
                    " was created with (TWOFOLD_SECRET_KEY, TWOFOLD_SECRET_KEY_FILE or <data_dir>/master.key)"
                ) from None

    # ------------------------------------------------------------------------------ pools and keys
    async def ensure_default_pool(self) -> tuple[PoolRecord, bool]:
        """Return the default (first) pool, creating it when the database has none."""
        async with self._db.transaction() as conn:
            pool = await pools_repo.first(conn)
            if pool is not None:
                return pool, False
            pool = PoolRecord(new_id(), DEFAULT_POOL_NAME, [], self._clock())
            await pools_repo.insert(conn, pool)
            return pool, True

    async def create_key(
        self,
        pool_id: str,
        description: str = "",
        permissions: Iterable[str] = (),
        caller: Caller | None = None,
    ) -> NewAccessKey:
        """A new key of ``pool_id``; audited as ``caller`` when one asks (the console; the CLI is the
        server's own operator)."""
        perms = self._check_permissions(permissions)
        secret = secrets.token_hex(24)
        record = AccessKeyRecord(
            new_id(), pool_id, await self._box.encrypt(secret), description[:200], perms, self._clock(), None
        )
        async with self._db.transaction() as conn:
            if await pools_repo.get(conn, pool_id) is None:
                raise InvalidParameter("poolId", "no such user pool")
            await keys_repo.insert(conn, record)
            if caller is not None:
                after = {"accessKeyId": record.id, "description": record.description, "permissions": perms}
                await audit.record(conn, self._clock, caller, KEY_CREATED, None, None, after)
        return NewAccessKey(record.id, pool_id, secret, perms)

    async def ensure_key(self, pool_id: str, key_id: str, secret: str, permissions: Iterable[str]) -> bool:
        """Make sure ``key_id`` exists with ``secret`` (bootstrap; idempotent). True when created."""
        if len(secret) < 16:
            raise InvalidParameter("accessKeySecret", "bootstrap secrets must be at least 16 characters")
        perms = self._check_permissions(permissions)
        secret_ct = await self._box.encrypt(secret)  # before the transaction: it may read the keyring
        async with self._db.transaction() as conn:
            existing = await keys_repo.get(conn, key_id)
            if existing is not None:
                if existing.pool_id != pool_id:
                    raise InvalidParameter("accessKeyId", "this key id belongs to another user pool")
                if not hmac.compare_digest(await self._box.decrypt(existing.secret_ciphertext), secret):
                    await keys_repo.set_secret(conn, key_id, secret_ct)
                    self._forget(key_id)
                return False
            await keys_repo.insert(
                conn,
                AccessKeyRecord(
                    key_id, pool_id, secret_ct, "bootstrap", perms, self._clock(), None
                ),
            )
            return True

    async def list_keys(self, pool_id: str | None = None) -> list[AccessKeyRecord]:
        async with self._db.read() as conn:
            return await keys_repo.list_all(conn, pool_id)

    async def count_keys(self) -> int:
        async with self._db.read() as conn:
            return await keys_repo.count(conn)

    async def revoke_key(self, key_id: str, caller: Caller | None = None) -> None:
        """Revoke the key; its admin-console sessions end in the same transaction.  With ``caller``
        (the console) only a key of the caller's pool, audited."""
        async with self._db.transaction() as conn:
            existing = await keys_repo.get(conn, key_id)
            if existing is None or (caller is not None and existing.pool_id != caller.pool_id):
                raise AccessKeyNotFound()
            await keys_repo.revoke(conn, key_id, self._clock())
            await console_sessions_repo.delete_for_key(conn, key_id)
            if caller is not None:
                await audit.record(conn, self._clock, caller, KEY_REVOKED, None, None, {"accessKeyId": key_id})
        self._forget(key_id)

    @staticmethod
    def _check_permissions(permissions: Iterable[str]) -> list[str]:
        perms = sorted(set(permissions))
        unknown = set(perms) - PERMISSIONS
        if unknown:
            raise InvalidParameter("permissions", f"unknown permission(s): {', '.join(sorted(unknown))}")
        return perms

    # -------------------------------------------------------------------------------- token scheme
    async def verify_secret(self, access_key_id: object, access_key_secret: object) -> Principal:
        """The key's principal if ``access_key_secret`` is its secret and it is not revoked; otherwise
        ``AuthenticationFailed``, the same whatever the cause (an unknown key is compared too)."""
        if not isinstance(access_key_id, str) or not isinstance(access_key_secret, str):
            raise AuthenticationFailed("token request without string accessKeyId/accessKeySecret")
        key = await self._active_key(access_key_id)
        stored = key.secret if key else secrets.token_hex(24)
        if not hmac.compare_digest(stored.encode(), access_key_secret.encode()) or key is None:
            raise AuthenticationFailed(f"wrong secret or unknown/revoked key {access_key_id[:64]!r}")
        return key.principal

    async def principal_of(self, access_key_id: str) -> Principal | None:
        """The principal of an active key (a console session's), None once it is revoked or gone."""
        key = await self._active_key(access_key_id)
        return None if key is None else key.principal

    async def issue_token(self, access_key_id: object, access_key_secret: object) -> ManagementToken:
        principal = await self.verify_secret(access_key_id, access_key_secret)
        ttl = self._settings.management_token_ttl_seconds
        token = tokens.mint_management_token(
            self._token_key, principal.pool_id, principal.access_key_id, self._clock() // 1000, ttl
        )
        return ManagementToken(token, ttl)

    async def authenticate_bearer(self, token: str, headers: Mapping[str, str]) -> Principal:
        try:
            claims = self._tokens.verify(
                token, self._clock() // 1000, self._settings.management_token_grace_seconds
            )
        except jwt.InvalidTokenError as exc:
            raise AuthenticationFailed(f"bad management token: {type(exc).__name__}") from None
        for name in _POOL_HEADERS:
            claimed = headers.get(name)
            if claimed and claimed != claims.pool_id:
                raise AuthenticationFailed(f"{name} disagrees with the token's pool")
        key = await self._active_key(claims.access_key_id)
        if key is None or key.principal.pool_id != claims.pool_id:
            raise AuthenticationFailed("token of a revoked or unknown access key")
        return key.principal

    # ---------------------------------------------------------------------------- signature scheme
    async def authenticate_signature(
        self, authorization: str, method: str, headers: Mapping[str, str], path: str, query: str, body: bytes
    ) -> Principal:
        parsed = signing.parse_authorization(authorization)
        if parsed is None:
            raise AuthenticationFailed("malformed signature authorization")
        key = await self._active_key(parsed.access_key_id)
        secret = key.secret if key else secrets.token_hex(24)
        candidates = signing.candidate_strings(method, headers, path, query, body)
        if not signing.is_signature_valid(candidates, secret, parsed.signature) or key is None:
            raise AuthenticationFailed(f"bad signature or unknown/revoked key {parsed.access_key_id[:64]!r}")
        now_ms = self._clock()
        self._check_date(headers.get("date"), now_ms)
        nonce = next((headers[h] for h in _NONCE_HEADERS if headers.get(h)), None)
        if not nonce or len(nonce) > 128 or "\x00" in nonce:
            raise AuthenticationFailed("signed request without a usable nonce")
        window_ms = self._settings.signature_max_skew_seconds * 1000
        key_id = key.principal.access_key_id

        async def remember(conn: Connection) -> bool:
            if random.random() < 0.001:  # noqa: S311 - housekeeping, not security
                await keys_repo.forget_expired_nonces(conn, now_ms)
            return await keys_repo.remember_nonce(conn, key_id, nonce, now_ms + 2 * window_ms)

        if not await self._db.atomic(remember):
            raise AuthenticationFailed("replayed signature nonce")
        return key.principal

    def _check_date(self, value: str | None, now_ms: int) -> None:
        if not value:
            raise AuthenticationFailed("signed request without a date header")
        sent = _parse_http_date(value[:64])
        if sent is None:
            raise AuthenticationFailed("unparseable date header, or one without a time zone")
        skew = abs(sent * 1000 - now_ms) / 1000
        if skew > self._settings.signature_max_skew_seconds:
            raise AuthenticationFailed(f"date header {skew:.0f}s away from server time")

    async def watch_for_changes(self) -> None:
        """Where the database can announce key changes (PostgreSQL LISTEN/NOTIFY), stop looking keys up
        on every request: a remembered key stays valid until a revocation or a new secret is announced,
        which reaches every process within milliseconds of its commit.  While the listening connection
        is lost, every request looks its key up again; once it listens again (it is renewed in the
        background), everything remembered is forgotten, since changes made meanwhile went unannounced.
        Call once per process, from the server."""
        self._forget_all()
        self._told_of_changes = await self._db.subscribe(
            keys_repo.KEY_CHANGES_CHANNEL, self._forget, self._stop_trusting, self._trust_again
        )

    @property
    def told_of_changes(self) -> bool:
        """Whether remembered keys are trusted between requests (see ``watch_for_changes``)."""
        return self._told_of_changes

    def _forget(self, key_id: str) -> None:
        self._changes += 1
        self._active.pop(key_id, None)

    def _stop_trusting(self) -> None:
        log.warning("lost the access-key change notifications; looking keys up on every request")
        self._told_of_changes = False
        self._forget_all()

    def _trust_again(self) -> None:
        self._forget_all()
        self._told_of_changes = True
        log.info("access-key change notifications are back; remembered keys are trusted again")

    def _forget_all(self) -> None:
        self._changes += 1
        self._active.clear()

    async def _active_key(self, key_id: str) -> _ActiveKey | None:
        """The key, if it exists and is not revoked.  It is looked up on every request, so a revocation
        takes effect at once in every process (unless ``watch_for_changes`` made lookups unnecessary).
        The decrypted secret is kept in process memory (never logged or stored) while the row is
        unchanged, so the hot path does no decryption."""
        if not key_id or len(key_id) > 64 or "\x00" in key_id:  # PostgreSQL cannot even compare a NUL
            return None
        known = self._active.get(key_id)
        if known is not None and self._told_of_changes:
            return known
        changes = self._changes
        async with self._db.read() as conn:
            row = await keys_repo.get_active_row(conn, key_id)
        if row is None:
            self._active.pop(key_id, None)
            return None
        if known is None or known.row != row:
            pool_id, ciphertext, permissions = row
            principal = Principal(pool_id, key_id, frozenset(orjson.loads(permissions)))
            known = _ActiveKey(row, principal, await self._box.decrypt(ciphertext))
        if changes == self._changes:  # no change was announced while we read: the row is current
            if len(self._active) >= _MAX_REMEMBERED_KEYS:
                self._active.clear()
            self._active[key_id] = known
        return known
