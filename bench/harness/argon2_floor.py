"""The floor of a password sign-in: raw Argon2 verifications per second, measured like the server works.

Twofold verifies a password with argon2-cffi's ``PasswordHasher().verify`` (default parameters:
Argon2id, t=3, m=64 MiB, p=4), off the event loop through ``asyncio.to_thread``
(``twofold/services/passwords.py``).  The floor reproduces exactly that, without HTTP, without the
database, without anything else a sign-in does:

* as many processes as the server has workers (``--workers``), each with its own asyncio loop and the
  loop's default thread pool, as a uvicorn worker has;
* as many verifications in flight, in total, as wrk keeps connections open (spread over the processes
  as evenly as the kernel spreads connections over the workers), each one awaited through
  ``asyncio.to_thread(hasher.verify, hash, password)``;
* the hash verified is the one the bench database stores (made by Twofold's ``hash_password``), so the
  parameters are the server's by construction.

Each timed slice starts at the same wall-clock instant in every process and counts the verifications
completed inside it; the latency of each is from submission to completion (queueing in the thread pool
included, as a request's is).  The harness runs the slices interleaved with the sign-in runs (A B A B),
so a neighbour's load hits both.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import os
import time
from concurrent.futures import ProcessPoolExecutor
from typing import Any

from .cpu import Meter
from .wrk import WrkRun

_HASHER: Any = None


def _slice(password_hash: str, password: str, tasks: int, start_at: float, seconds: float) -> dict[str, Any]:
    """One process's part of a timed slice (runs in a pool process)."""
    global _HASHER
    if _HASHER is None:
        from argon2 import PasswordHasher

        _HASHER = PasswordHasher()
    hasher = _HASHER

    async def main() -> list[float]:
        latencies: list[float] = []
        delay = start_at - time.time()
        if delay > 0:
            await asyncio.sleep(delay)
        end = time.monotonic() + seconds

        async def worker() -> None:
            while time.monotonic() < end:
                began = time.monotonic()
                await asyncio.to_thread(hasher.verify, password_hash, password)
                done = time.monotonic()
                if done <= end:
                    latencies.append(done - began)

        await asyncio.gather(*(worker() for _ in range(tasks)))
        return latencies

    return {"latencies": asyncio.run(main()), "pid": os.getpid()}


def _warm(_: int) -> int:
    return os.getpid()


class Argon2Floor:
    """A pool of ``workers`` processes that run timed slices of Argon2 verifications."""

    name = "argon2"

    def __init__(self, workers: int, password_hash: str, password: str) -> None:
        self.workers = workers
        self._hash, self._password = password_hash, password
        self._pool = ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn"))
        self.pids = sorted(set(self._pool.map(_warm, range(workers * 4))))

    def __enter__(self) -> Argon2Floor:
        return self

    def __exit__(self, *exc: object) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)

    def run(self, in_flight: int, seconds: float) -> WrkRun:
        """``in_flight`` verifications kept going for ``seconds``: the figures in wrk's shape."""
        shares = [
            in_flight // self.workers + (1 if k < in_flight % self.workers else 0)
            for k in range(self.workers)
        ]
        start_at = time.time() + 0.3
        meter = Meter(self.pids)
        futures = [
            self._pool.submit(_slice, self._hash, self._password, tasks, start_at, seconds)
            for tasks in shares
            if tasks
        ]
        results = [f.result() for f in futures]
        wall = seconds + 0.3
        latencies = sorted(x for r in results for x in r["latencies"])
        count = len(latencies)

        def pct(p: float) -> float:
            return latencies[min(count - 1, int(p / 100 * count))] * 1000 if count else 0.0

        run = WrkRun(
            rps=count / seconds,
            requests=count,
            seconds=seconds,
            p50_ms=pct(50),
            p90_ms=pct(90),
            p99_ms=pct(99),
            max_ms=latencies[-1] * 1000 if count else 0.0,
            socket_errors=0,
            bad=0,
            exhausted=False,
            wrk_cpu=0.0,
            sample=None,
            wall_seconds=wall,
        )
        run.background_cpu = meter.stop(wall, 0.0)
        return run
