"""The tamper-evident audit trail: each pool's events form a hash chain, keyed from the master key.

Events are written by the request path exactly as before (``chain_seq`` and ``mac`` NULL), so sealing
adds no lock and no round trip to any write.  A sealer, running in every server process (``start``)
and before ``twofold audit verify``, reads the pool's head and up to ``BATCH`` unsealed events by id,
gives them the next ``chain_seq`` values and

    mac_n = HMAC-SHA256(key, "event" NUL canonical(event_n) || mac_{n-1})

where ``canonical`` is the JSON array of every column but the mac, in a fixed order, ``chain_seq``
included, and mac_0 is empty; then it takes the pool's chain lock and writes them if the head is still
the one it read (else another sealer came first, and it reads again).  The chain's order is the seal
order: an event committed after one with a higher id is sealed in the next batch.  The pool's head row
holds the last seq and mac, and ``head_mac``, a MAC over the head itself, so that the head cannot be
moved back over deleted events without the key; a sealer refuses to continue a chain whose head does
not verify.  See docs/reliability.md#audit-chain for what this detects and what it cannot.
"""

from __future__ import annotations

import asyncio
import hmac
import logging
from collections.abc import Mapping
from contextlib import suppress
from dataclasses import dataclass
from typing import Any

import orjson

from twofold import metrics
from twofold.services.context import Clock, system_clock
from twofold.storage.database import Database
from twofold.storage.errors import StorageError, UniqueViolation
from twofold.storage.repositories import audit_chain as repo

log = logging.getLogger("twofold.audit")
CONTENT = (
    "id", "pool_id", "chain_seq", "at", "actor", "request_id", "client_ip", "target_user_id", "action", "before",
    "after",
)  # fmt: skip


def canonical(event: Mapping[str, Any]) -> bytes:
    """The JSON array of the ``CONTENT`` columns, in that order."""
    return orjson.dumps([event[name] for name in CONTENT])


@dataclass(frozen=True)
class Tampering:
    """The first thing wrong in a pool's chain: the event it concerns (None: the chain has none left)."""

    event_id: int | None
    chain_seq: int | None
    reason: str


@dataclass(frozen=True)
class ChainReport:
    pool_id: str
    verified: int  # sealed events whose mac was recomputed, up to the first bad one
    pending: int  # events not sealed yet
    tampering: Tampering | None

    @property
    def intact(self) -> bool:
        return self.tampering is None

    def describe(self) -> str:
        if self.tampering is None:
            return (
                f"pool {self.pool_id}: intact, {self.verified} sealed events verified, {self.pending} pending"
            )
        t = self.tampering
        where = "" if t.event_id is None else f" at event #{t.event_id} (chain_seq {t.chain_seq})"
        return f"pool {self.pool_id}: tampered{where}: {t.reason}"


@dataclass(frozen=True)
class Anchor:
    """A pool's chain position kept outside the database: the ``chain_seq`` and ``mac`` of the INFO
    line logged at a seal."""

    seq: int
    mac: str


def _position(head: Mapping[str, Any] | None) -> tuple[Any, ...] | None:
    return None if head is None else (head["seq"], head["mac"], head["sealed_at"], head["head_mac"])


class ChainBroken(Exception):
    """The pool's head does not verify: sealing on top of it would hide what was done."""


class AuditChain:
    # Events per seal.  SQLite: small, as its write transaction holds every process's writers.
    BATCH = {"postgresql": 500, "sqlite": 100}
    PAGE = 1000

    def __init__(self, db: Database, key: bytes, clock: Clock = system_clock) -> None:
        self._db = db
        self._key = key
        self._clock = clock
        self._task: asyncio.Task[None] | None = None
        self._broken: set[str] = set()  # pools already reported as not sealable (logged once)
        self._failing = False  # the last round failed (logged once until one succeeds)

    # ---------------------------------------------------------------------------------- the macs
    def event_mac(self, event: Mapping[str, Any], previous: str) -> str:
        message = b"event\x00" + canonical(event) + previous.encode()
        return hmac.digest(self._key, message, "sha256").hex()

    def head_mac(self, pool_id: str, seq: int, mac: str, sealed_at: int) -> str:
        message = b"head\x00" + orjson.dumps([pool_id, seq, mac, sealed_at])
        return hmac.digest(self._key, message, "sha256").hex()

    def _head_verifies(self, head: Mapping[str, Any]) -> bool:
        expected = self.head_mac(head["pool_id"], head["seq"], head["mac"], head["sealed_at"])
        return hmac.compare_digest(expected, head["head_mac"])

    # ------------------------------------------------------------------------------------ sealing
    async def seal(self, pool_id: str | None = None) -> int:
        """Seal every event unsealed now (of ``pool_id``, or of every pool); how many were sealed.
        A pool whose chain cannot be continued (``ChainBroken``, or a head behind its events) is
        logged once and skipped: ``verify`` names what is wrong with it."""
        if pool_id is None:
            async with self._db.read() as conn:
                pools = await repo.pools_with_unsealed(conn)
        else:
            pools = [pool_id]
        total = 0
        for pool in pools:
            try:
                while (count := await self._seal_batch(pool)) != 0:
                    total += max(count, 0)
                    if 0 < count < self.BATCH[self._db.dialect]:
                        break
                    await asyncio.sleep(0)  # SQLite runs on the event loop: let requests in between
            except (ChainBroken, UniqueViolation) as exc:
                if pool not in self._broken:
                    self._broken.add(pool)
                    log.error("audit chain of pool %s not sealed: %s (see `twofold audit verify`)", pool, exc)
        return total

    async def _seal_batch(self, pool_id: str) -> int:
        """Seal the pool's next unsealed events; how many.  Everything is read and computed before the
        write transaction, which only checks that the head is still the one read and writes: on SQLite
        that transaction holds the write lock of every process, so it is kept to the UPDATEs."""
        async with self._db.read() as conn:
            head = await repo.head(conn, pool_id)
            events = await repo.unsealed(conn, pool_id, self.BATCH[self._db.dialect])
        if head is not None and not self._head_verifies(head):
            raise ChainBroken("its head does not verify")
        if not events:
            return 0
        seq, mac = (0, "") if head is None else (int(head["seq"]), str(head["mac"]))
        sealed = []
        for event in events:
            seq += 1
            content = dict(event)
            content["chain_seq"] = seq
            mac = self.event_mac(content, mac)
            sealed.append({"id": event["id"], "seq": seq, "mac": mac})
        now = self._clock()
        head_mac = self.head_mac(pool_id, seq, mac, now)
        async with self._db.transaction() as conn:
            await repo.lock_pool(conn, pool_id)
            if _position(await repo.head(conn, pool_id)) != _position(head):
                return -1  # another sealer came first: its events are sealed, read the rest again
            await repo.seal(conn, sealed)
            await repo.write_head(conn, pool_id, seq, mac, now, head_mac)
        metrics.AUDIT_EVENTS_SEALED.labels(pool_id).inc(len(sealed))
        # The anchor: kept outside the database by the log pipeline, it shows a head moved back later.
        log.info("audit chain of pool %s sealed to chain_seq %d, mac %s", pool_id, seq, mac)
        self._broken.discard(pool_id)
        return len(sealed)

    # ----------------------------------------------------------------------------------- checking
    async def verify(self, pool_id: str | None = None, anchor: Anchor | None = None) -> list[ChainReport]:
        """Walk each pool's chain (``pool_id``'s, or every pool's) without sealing anything.  With
        ``anchor`` (for ``pool_id``), the event at its ``chain_seq`` must still have its mac."""
        async with self._db.read() as conn:
            pools = [pool_id] if pool_id is not None else await repo.chain_pools(conn)
        return [await self._verify_pool(pool, anchor) for pool in pools]

    async def _verify_pool(self, pool_id: str, anchor: Anchor | None) -> ChainReport:
        verified, previous = 0, ""
        last: Mapping[str, Any] | None = None

        def report(problem: Tampering | None) -> ChainReport:
            return ChainReport(pool_id, verified, pending, problem)

        async with self._db.read() as conn:
            pending = await repo.count_unsealed(conn, pool_id)
            while True:
                page = await repo.chain_page(conn, pool_id, verified, self.PAGE)
                for event in page:
                    seq = int(event["chain_seq"])
                    if seq != verified + 1:
                        return report(
                            Tampering(event["id"], seq, f"chain_seq {verified + 1} is missing (deleted)")
                        )
                    expected = self.event_mac(event, previous)
                    if event["mac"] is None or not hmac.compare_digest(expected, event["mac"]):
                        return report(
                            Tampering(event["id"], seq, "the mac does not match (edited or reordered)")
                        )
                    if anchor is not None and seq == anchor.seq and expected != anchor.mac:
                        return report(Tampering(event["id"], seq, "not the event anchored at this chain_seq"))
                    verified, previous, last = seq, expected, event
                if len(page) == self.PAGE:
                    await asyncio.sleep(0)  # SQLite reads run on the event loop: let requests in between
                    continue
                # The head is read after the events: a seal committed meanwhile moved it past them, so
                # walk on; a head still past the last event once nothing follows means a deleted tail.
                head = await repo.head(conn, pool_id)
                if head is not None and int(head["seq"]) > verified:
                    if await repo.chain_page(conn, pool_id, verified, 1):
                        continue
                if anchor is not None and anchor.seq > verified:
                    reason = f"the chain ends before the anchor's chain_seq {anchor.seq}: events were deleted"
                    return report(Tampering(None if last is None else last["id"], verified or None, reason))
                return report(self._check_head(head, last, verified))

    def _check_head(
        self, head: Mapping[str, Any] | None, last: Mapping[str, Any] | None, seq: int
    ) -> Tampering | None:
        event_id = None if last is None else int(last["id"])
        at = (event_id, seq if last is not None else None)
        if head is None:
            return None if last is None else Tampering(*at, "the chain head is missing")
        if not self._head_verifies(head):
            return Tampering(*at, "the chain head does not verify (it was changed)")
        if int(head["seq"]) > seq:
            return Tampering(
                *at, f"the head is at chain_seq {head['seq']}: the events after this one were deleted"
            )
        if int(head["seq"]) < seq:
            return Tampering(
                *at, f"the head is at chain_seq {head['seq']}, behind this event (it was moved back)"
            )
        if last is not None and head["mac"] != last["mac"]:
            return Tampering(*at, "the head's mac is not this event's")
        return None

    # ----------------------------------------------------------------------------- the seal loop
    def start(self, interval_seconds: float) -> None:
        """Seal every ``interval_seconds`` (call once per server process, from its event loop)."""
        self._task = asyncio.get_running_loop().create_task(self._loop(interval_seconds))

    async def _loop(self, interval_seconds: float) -> None:
        while True:
            await asyncio.sleep(interval_seconds)
            try:
                await self.seal()
            except StorageError as exc:  # the database is away or busy: the next round retries
                if not self._failing:
                    log.warning("audit chain not sealed this round: %s", exc)
                self._failing = True
            except Exception:  # a bug: logged, and the loop goes on
                log.exception("audit chain not sealed this round")
                self._failing = True
            else:
                self._failing = False

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with suppress(asyncio.CancelledError):
                await self._task
            self._task = None
