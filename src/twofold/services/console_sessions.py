"""The admin console's sign-in with an access key, and its server-side sessions (docs/console.md).

* ``sign_in``: counts the attempt first (``SignInThrottle`` under the ``console`` scope, per access key
  id and per client address, in the database), then checks the secret with the access-key service.
  Every refusal is ``AuthenticationFailed`` or ``SignInThrottled``; the console shows one message for
  both.  A success stores the SHA-256 of a fresh random session id; the id itself goes only into the
  browser's cookie.
* ``resume``: the session of a cookie, if it is neither idle (``console_session_idle_seconds``) nor
  too old (``console_session_max_seconds``), and its key is still active; it is touched in the same
  statement that checks it.  Revoking a key deletes its sessions (``AccessKeyService.revoke_key``),
  and a session whose key was revoked some other way is refused here too.
* The CSRF token of a session is an HMAC of its id under a key derived from the master key: nothing
  to store, and a database reader cannot forge it.  ``pre_session_token`` does the same for the
  sign-in form (a double-submit cookie), so a site cannot sign a browser in to its own key.
"""

from __future__ import annotations

import hashlib
import hmac
import random
import secrets
from dataclasses import dataclass

from twofold.config import Settings
from twofold.services import audit
from twofold.services.access_keys import AccessKeyService
from twofold.services.context import Caller, Clock, Principal
from twofold.services.signin_throttle import SignInThrottle
from twofold.storage.database import Database
from twofold.storage.repositories import console_sessions as sessions_repo

SIGN_IN = "console.signin"
SIGN_OUT = "console.signout"
_ACCOUNT_SCOPE = "console"  # the throttle's "pool" of access key ids (a key's pool is not known yet)
_MAX_ID = 128


def digest(session_id: str) -> str:
    return hashlib.sha256(session_id.encode("utf-8", "surrogatepass")).hexdigest()


@dataclass(frozen=True)
class ConsoleSession:
    session_id: str
    principal: Principal
    csrf_token: str

    def caller(self, request_id: str, client_ip: str) -> Caller:
        """Who the audit trail names for this session's actions: its access key."""
        return Caller(self.principal, request_id, client_ip)


class ConsoleSessionService:
    def __init__(
        self,
        db: Database,
        keys: AccessKeyService,
        throttle: SignInThrottle,
        csrf_key: bytes,
        settings: Settings,
        clock: Clock,
    ) -> None:
        self._db = db
        self._keys = keys
        self._throttle = throttle
        self._csrf_key = csrf_key
        self._idle_ms = settings.console_session_idle_seconds * 1000
        self._max_ms = settings.console_session_max_seconds * 1000
        self._clock = clock

    def _token(self, purpose: str, value: str) -> str:
        mac = hmac.new(self._csrf_key, f"{purpose}\x1f{value}".encode("utf-8", "surrogatepass"), "sha256")
        return mac.hexdigest()

    def pre_session_token(self, cookie: str) -> str:
        return self._token("signin", cookie)

    def pre_session_ok(self, cookie: str | None, token: str | None) -> bool:
        if not cookie or not token or len(cookie) > _MAX_ID:
            return False
        return hmac.compare_digest(self._token("signin", cookie), token)

    def csrf_ok(self, session: ConsoleSession, token: str | None) -> bool:
        return bool(token) and hmac.compare_digest(session.csrf_token, token or "")

    async def sign_in(
        self, key_id: str, secret: str, client_ip: str, request_id: str
    ) -> ConsoleSession:
        """A new session for the key; ``SignInThrottled`` or ``AuthenticationFailed`` otherwise."""
        slots = await self._throttle.take(_ACCOUNT_SCOPE, key_id[:_MAX_ID], client_ip)
        principal = await self._keys.verify_secret(key_id, secret)
        await self._throttle.succeeded(slots)
        session_id = secrets.token_urlsafe(32)
        session = ConsoleSession(session_id, principal, self._token("session", session_id))
        now = self._clock()
        async with self._db.transaction() as conn:
            if random.random() < 0.01:  # noqa: S311 - housekeeping, not security
                await sessions_repo.forget_stale(conn, now - self._idle_ms, now - self._max_ms)
            await sessions_repo.insert(conn, digest(session_id), principal.pool_id, principal.access_key_id, now)
            await audit.record(conn, self._clock, session.caller(request_id, client_ip), SIGN_IN, None)
        return session

    async def resume(self, session_id: str | None) -> ConsoleSession | None:
        """The live session of this cookie value, or None (unknown, idle, too old, or its key revoked)."""
        if not session_id or len(session_id) > _MAX_ID:
            return None
        now = self._clock()
        key = digest(session_id)
        async with self._db.transaction() as conn:
            found = await sessions_repo.touch(conn, key, now, now - self._idle_ms, now - self._max_ms)
        if found is None:
            return None
        pool_id, key_id = found
        principal = await self._keys.principal_of(key_id)
        if principal is None or principal.pool_id != pool_id:
            async with self._db.transaction() as conn:
                await sessions_repo.delete(conn, key)
            return None
        return ConsoleSession(session_id, principal, self._token("session", session_id))

    async def sign_out(self, session: ConsoleSession, request_id: str, client_ip: str) -> None:
        async with self._db.transaction() as conn:
            await sessions_repo.delete(conn, digest(session.session_id))
            await audit.record(conn, self._clock, session.caller(request_id, client_ip), SIGN_OUT, None)
