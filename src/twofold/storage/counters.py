"""The hot short-lived counters: the send limits of one-time codes and the sign-in throttles.

Two implementations of one protocol, ``Counters``, chosen once by ``services/container.py``:

* ``DatabaseCounters`` (the default): the counter tables (``passcode_throttles``, ``passcode_quotas``,
  ``signin_attempts``), each check-and-count one atomic upsert (``repositories/passcodes.py`` and
  ``repositories/signin_attempts.py``: a sign-in's two counters in one statement).
* ``RedisCounters`` (``TWOFOLD_REDIS_URL`` set): the same counts in Redis, each check-and-count one
  Lua script (sent once, then called by its SHA: EVALSHA), so it is exact however many requests,
  processes or instances race.  Times come from the application's clock, as in the database, and a
  key's expiry only collects it once it no longer matters.  Keys are ``<prefix><kind>:<digest>``:
  the digest is an HMAC of the scope (it holds phone numbers, emails, addresses) under a key derived
  from the master key, so a Redis dump names no one.

Redis that fails, or answers slower than its socket timeout, never skips a limit: the operation is
done on the database instead (``DatabaseCounters``) and, for ``retry_seconds``, so is every other
(a circuit breaker: nobody waits for the timeout meanwhile); then one operation tries Redis again.
Each switch is logged once and every operation counted in the database is counted in
``twofold_counter_fallbacks_total``.  The two stores do not share counts: see
docs/deployment.md#redis for what that allows at a switch.

The lasting counters (MFA failures and lockouts, spent TOTP steps and mfaTokens) are never here:
they must survive a crash, and Redis is not asked to keep anything on disk.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Protocol, TypeVar

from redis import asyncio as aioredis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import RedisError

from twofold import metrics
from twofold.storage.database import Connection, Database
from twofold.storage.repositories import passcodes as sends_repo
from twofold.storage.repositories import signin_attempts as attempts_repo

log = logging.getLogger("twofold.counters")
T = TypeVar("T")
Write = Callable[[Connection], Awaitable[None]]
# The caller's write that also settles, in the database, the counters it is given (``settle``).
SettleWrite = Callable[[Connection, Sequence[str], Sequence[str]], Awaitable[None]]
GRACE_MS = 60_000  # a Redis key outlives what it counts by this much (real time; its value decides)


@dataclass(frozen=True)
class Quota:
    scope: str
    limit: int


@dataclass(frozen=True)
class SendClaim:
    """One send: at most one per ``interval_ms`` to ``target``, and under each quota's limit in the
    fixed window starting at ``window_start`` (``window_ms`` long)."""

    target: str
    interval_ms: int
    quotas: tuple[Quota, ...]
    window_start: int
    window_ms: int
    now: int


@dataclass(frozen=True)
class Refused:
    """Why a send was refused: the target's interval (``quota`` None), or that quota spent."""

    quota: Quota | None = None


class Counters(Protocol):
    async def claim_send(self, claim: SendClaim, then: Write | None = None) -> Refused | None:
        """Count the send unless a limit refuses it (then nothing at all is counted).  ``then`` is
        written to the database when the send is allowed: in the same transaction as the counts when
        they are in the database, else by itself afterwards."""
        ...

    async def take(self, keys: Sequence[str], now: int, window_ms: int) -> list[int]:
        """Count one attempt on each key (fixed windows of ``window_ms`` from a key's first attempt,
        a window that has ended starts again); the new counts, in order."""
        ...

    async def settle(
        self, forget: Sequence[str], give_back: Sequence[str], then: SettleWrite | None = None
    ) -> None:
        """Delete the counters of ``forget``; take one attempt back from each of ``give_back``.
        ``then(conn, forget, give_back)`` writes the caller's rows and settles the counters it is given
        (``signin_attempts.settle``, or its CTEs) in one write: given these ones when they are in the
        database, none when they were settled in Redis."""
        ...

    async def close(self) -> None: ...


class _Refusal(Exception):
    """Raised inside the transaction so that what it counted is rolled back."""

    def __init__(self, refused: Refused) -> None:
        self.refused = refused


class DatabaseCounters:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def claim_send(self, claim: SendClaim, then: Write | None = None) -> Refused | None:
        try:
            async with self.db.transaction() as conn:
                if not await sends_repo.claim_interval(conn, claim.target, claim.now, claim.interval_ms):
                    raise _Refusal(Refused())
                for quota in claim.quotas:
                    if not await sends_repo.count_send(conn, quota.scope, claim.window_start, quota.limit):
                        raise _Refusal(Refused(quota))
                if then is not None:
                    await then(conn)
        except _Refusal as refusal:
            return refusal.refused
        return None

    async def take(self, keys: Sequence[str], now: int, window_ms: int) -> list[int]:
        return await self.db.atomic(lambda conn: attempts_repo.take(conn, keys, now, window_ms))

    async def settle(
        self, forget: Sequence[str], give_back: Sequence[str], then: SettleWrite | None = None
    ) -> None:
        if then is not None:
            await self.db.atomic(lambda conn: then(conn, forget, give_back))
        elif forget or give_back:
            await self.db.atomic(lambda conn: attempts_repo.settle(conn, forget, give_back))

    async def close(self) -> None:
        return None  # the database is the container's to close


# KEYS: the target's interval key, then one key per quota.  ARGV: now, interval_ms, the interval
# key's and the quota keys' lifetimes (ms), then the quotas' limits.  Returns 0 (counted), -1 (the
# interval), or the refusing quota's position (1-based); a refusal counts nothing.
_CLAIM_SEND = """
local now = tonumber(ARGV[1])
local last = redis.call('GET', KEYS[1])
if last and tonumber(last) > now - tonumber(ARGV[2]) then return -1 end
for i = 2, #KEYS do
  if tonumber(redis.call('GET', KEYS[i]) or '0') >= tonumber(ARGV[i + 3]) then return i - 1 end
end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[3])
for i = 2, #KEYS do
  if redis.call('INCR', KEYS[i]) == 1 then redis.call('PEXPIRE', KEYS[i], ARGV[4]) end
end
return 0
"""

# KEYS: the counters (hashes: s = window start, n = attempts).  ARGV: now, window_ms, a key's lifetime.
_TAKE = """
local now, window = tonumber(ARGV[1]), tonumber(ARGV[2])
local counts = {}
for i, key in ipairs(KEYS) do
  local start = tonumber(redis.call('HGET', key, 's'))
  if start == nil or start <= now - window then
    redis.call('HSET', key, 's', ARGV[1], 'n', 1)
    redis.call('PEXPIRE', key, ARGV[3])
    counts[i] = 1
  else
    counts[i] = redis.call('HINCRBY', key, 'n', 1)
  end
end
return counts
"""

# KEYS: the counters to delete (the first ARGV[1] of them), then those to take one attempt back from.
_SETTLE = """
for i, key in ipairs(KEYS) do
  if i <= tonumber(ARGV[1]) then
    redis.call('DEL', key)
  elseif tonumber(redis.call('HGET', key, 'n') or '0') > 0 then
    redis.call('HINCRBY', key, 'n', -1)
  end
end
return 0
"""


class RedisCounters:
    """``Counters`` in Redis, with ``fallback`` (the database's) whenever Redis cannot answer."""

    def __init__(
        self,
        client: aioredis.Redis,
        fallback: DatabaseCounters,
        key: bytes,
        prefix: str,
        retry_seconds: float,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._client = client
        self._fallback = fallback
        self._key = key
        self._prefix = prefix
        self._retry_seconds = retry_seconds
        self._monotonic = monotonic
        self._claim_send = client.register_script(_CLAIM_SEND)
        self._take = client.register_script(_TAKE)
        self._settle = client.register_script(_SETTLE)
        self._down_until: float | None = None  # while set, Redis failed: the database counts
        self._probing = False  # one operation is trying Redis again

    def _name(self, kind: str, scope: str) -> str:
        digest = hmac.new(self._key, scope.encode("utf-8", "surrogatepass"), hashlib.sha256).hexdigest()[:32]
        return f"{self._prefix}{kind}:{digest}"

    async def claim_send(self, claim: SendClaim, then: Write | None = None) -> Refused | None:
        async def in_redis() -> Refused | None:
            keys = [self._name("interval", claim.target)]
            keys += [f"{self._name('quota', q.scope)}:{claim.window_start}" for q in claim.quotas]
            lifetimes = (claim.interval_ms + GRACE_MS, claim.window_ms + GRACE_MS)
            args = [claim.now, claim.interval_ms, *lifetimes, *(q.limit for q in claim.quotas)]
            answer = int(await self._claim_send(keys=keys, args=args))
            if answer == 0:
                return None
            return Refused() if answer < 0 else Refused(claim.quotas[answer - 1])

        def in_database() -> Awaitable[Refused | None]:
            return self._fallback.claim_send(claim, then)

        used_redis, refused = await self._run(in_redis, in_database)
        if used_redis and refused is None and then is not None:
            await self._fallback.db.atomic(then)
        return refused

    async def take(self, keys: Sequence[str], now: int, window_ms: int) -> list[int]:
        async def in_redis() -> list[int]:
            names = [self._name("attempts", k) for k in keys]
            return [int(n) for n in await self._take(keys=names, args=[now, window_ms, window_ms + GRACE_MS])]

        return (await self._run(in_redis, lambda: self._fallback.take(keys, now, window_ms)))[1]

    async def settle(
        self, forget: Sequence[str], give_back: Sequence[str], then: SettleWrite | None = None
    ) -> None:
        used_redis = True
        if forget or give_back:

            async def in_redis() -> None:
                names = [self._name("attempts", k) for k in (*forget, *give_back)]
                await self._settle(keys=names, args=[len(forget)])

            used_redis, _ = await self._run(in_redis, lambda: self._fallback.settle(forget, give_back, then))
        if used_redis and then is not None:
            await self._fallback.db.atomic(lambda conn: then(conn, (), ()))

    async def _run(
        self, in_redis: Callable[[], Awaitable[T]], in_database: Callable[[], Awaitable[T]]
    ) -> tuple[bool, T]:
        """``in_redis()`` unless the breaker is open or Redis fails; ``in_database()`` then.  A
        timeout after Redis ran the script counts twice (there and in the database): never less."""
        if not self._redis_now():
            metrics.COUNTER_FALLBACKS.labels("breaker_open").inc()
            return False, await in_database()
        try:
            result = await in_redis()
        except (RedisError, OSError) as exc:  # redis-py's errors, and a socket's that escaped them
            self._failed(exc)
            metrics.COUNTER_FALLBACKS.labels("redis_error").inc()
            return False, await in_database()
        except BaseException:  # cancelled: the next operation probes instead
            self._probing = False
            raise
        self._answered()
        return True, result

    def _redis_now(self) -> bool:
        if self._down_until is None:
            return True
        if self._probing or self._monotonic() < self._down_until:
            return False
        self._probing = True
        return True

    def _failed(self, exc: BaseException) -> None:
        if self._down_until is None:  # the class only: a message may carry the server's address
            log.warning(
                "Redis counters unavailable (%s): counting in the database, trying Redis again every %g s",
                type(exc).__name__, self._retry_seconds,
            )
        self._down_until = self._monotonic() + self._retry_seconds
        self._probing = False

    def _answered(self) -> None:
        if self._down_until is not None:
            log.warning("Redis counters available again: counting in Redis")
        self._down_until = None
        self._probing = False

    async def close(self) -> None:
        await self._client.aclose()


def open_counters(
    db: Database,
    redis_url: str | None,
    key: bytes,
    prefix: str = "twofold:",
    timeout_seconds: float = 0.2,
    retry_seconds: float = 5.0,
) -> Counters:
    """The database's counters, or Redis's at ``redis_url`` (falling back to the database's).  No
    connection is made here: a Redis down at startup is a fallback like any other, not a startup error.
    ``ValueError`` (a startup error) for a URL that is not Redis's; it never repeats the URL, which
    may hold a password."""
    database = DatabaseCounters(db)
    if not redis_url:
        return database
    if not redis_url.startswith(("redis://", "rediss://", "unix://")):
        raise ValueError("TWOFOLD_REDIS_URL must start with redis://, rediss:// or unix://")
    try:
        client = aioredis.Redis.from_url(
            redis_url,
            socket_timeout=timeout_seconds,
            socket_connect_timeout=timeout_seconds,
            # no retry: a script that ran but whose answer was lost would count twice, and the
            # database is the retry
            retry=Retry(NoBackoff(), 0),
        )
    except ValueError:
        raise ValueError("TWOFOLD_REDIS_URL is not a valid Redis URL") from None
    return RedisCounters(client, database, key, prefix, retry_seconds)
