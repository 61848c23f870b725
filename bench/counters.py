"""The send-limit check and the sign-in throttle in the database against Redis, in one run.

    python bench/counters.py --redis-url redis://127.0.0.1:6379/4 [--postgres-url postgresql://...] [--n 2000]

For each database (SQLite in a temporary file, and PostgreSQL when given: its schema is migrated and its
counter tables emptied, so give it a database of its own) it times ``Counters.claim_send`` (one code
send's interval and two quotas) and ``Counters.take`` (one sign-in's two throttle counters), first one
at a time (latency) and then ``--concurrency`` at once (throughput), alternating the database's counters
and Redis's in rounds so that both see the same machine.  Report the ratios, not the figures.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH.parent / "src"))

from twofold.storage.counters import Counters, Quota, SendClaim, open_counters  # noqa: E402
from twofold.storage.database import open_database  # noqa: E402
from twofold.storage.migrate import upgrade_to_head  # noqa: E402

HOUR_MS = 3_600_000
Op = Callable[[int], Awaitable[object]]


def operations(counters: Counters, run: str) -> dict[str, Op]:
    now = int(time.time() * 1000)

    def claim(n: int) -> Awaitable[object]:
        quotas = (Quota(f"ip:{run}:{n % 97}", 10**9), Quota(f"pool:{run}", 10**9))
        return counters.claim_send(SendClaim(f"target:{run}:{n}", 60_000, quotas, now - now % HOUR_MS, HOUR_MS, now))

    def take(n: int) -> Awaitable[object]:
        return counters.take([f"account:{run}:{n}", f"ip:{run}:{n % 97}"], now, 900_000)

    return {"claim_send": claim, "take": take}


async def sequential(op: Op, start: int, n: int) -> list[float]:
    times = []
    for i in range(start, start + n):
        began = time.perf_counter()
        await op(i)
        times.append(time.perf_counter() - began)
    return times


async def concurrent(op: Op, start: int, n: int, width: int) -> float:
    """Operations per second with ``width`` in flight."""
    queue = iter(range(start, start + n))

    async def worker() -> None:
        for i in queue:
            await op(i)

    began = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(width)))
    return n / (time.perf_counter() - began)


def pct(values: list[float], q: float) -> float:
    return sorted(values)[min(len(values) - 1, int(q * len(values)))] * 1e6


async def bench(url: str, redis_url: str, n: int, width: int, rounds: int) -> list[str]:
    db = await open_database(url, pool_size=max(10, width))
    stores = {
        "database": open_counters(db, None, b"k" * 32),
        "redis": open_counters(db, redis_url, b"k" * 32, f"twofold-bench:{uuid.uuid4().hex}:"),
    }
    lines = []
    try:
        if db.dialect == "postgresql":
            async with db.transaction() as conn:
                for table in ("passcode_throttles", "passcode_quotas", "signin_attempts"):
                    await conn.execute(f"DELETE FROM {table}")  # noqa: S608 - fixed names
        for name in ("claim_send", "take"):
            lat: dict[str, list[float]] = {k: [] for k in stores}
            rate: dict[str, list[float]] = {k: [] for k in stores}
            for r in range(rounds):
                for kind, store in stores.items():
                    op = operations(store, f"{kind}-{r}")[name]
                    await sequential(op, 10**7, 50)  # warm
                    lat[kind] += await sequential(op, 0, n)
                    rate[kind].append(await concurrent(op, 10**6, n, width))
            row = {k: (pct(v, 0.5), pct(v, 0.99), statistics.median(rate[k])) for k, v in lat.items()}
            (d50, d99, dr), (r50, r99, rr) = row["database"], row["redis"]
            lines.append(
                f"| {db.dialect} | {name} | {d50:.0f} / {d99:.0f} | {r50:.0f} / {r99:.0f} | {r50 / d50:.2f} "
                f"| {dr:.0f} | {rr:.0f} | {rr / dr:.2f} |"
            )
    finally:
        for store in stores.values():
            await store.close()
        await db.close()
    return lines


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--redis-url", required=True)
    parser.add_argument("--postgres-url")
    parser.add_argument("--n", type=int, default=2000, help="operations per measurement")
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    print("| database | operation | DB p50 / p99 µs | Redis p50 / p99 µs | Redis/DB p50 "
          f"| DB ops/s ({args.concurrency} at once) | Redis ops/s | Redis/DB ops/s |")
    print("|---|---|---|---|---|---|---|---|")
    with tempfile.TemporaryDirectory() as tmp:
        urls = [f"sqlite:///{Path(tmp) / 'counters.db'}"] + ([args.postgres_url] if args.postgres_url else [])
        for url in urls:
            upgrade_to_head(url)
            for line in await bench(url, args.redis_url, args.n, args.concurrency, args.rounds):
                print(line, flush=True)


if __name__ == "__main__":
    asyncio.run(main())
