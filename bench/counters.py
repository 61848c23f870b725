"""The send-limit check and the sign-in throttle in the database against Redis, in one run.

    python bench/counters.py --redis-url redis://127.0.0.1:6379/4 [--postgres-url postgresql://...] [--n 2000]

For each database (SQLite in a temporary file, and PostgreSQL when given: its schema is migrated and its
counter tables emptied, so give it a database of its own) it times ``Counters.claim_send`` (one code
send's interval and two quotas), ``Counters.take`` (one sign-in's two throttle counters) and a whole
``PasscodeService.send`` (the check, the stored code, the dev outbox, the audit event), first one at a
time (latency) and then ``--concurrency`` at once (throughput), alternating the database's counters and
Redis's in rounds so that both see the same machine.  Report the ratios, not the figures.
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

from pydantic import SecretStr

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH.parent / "src"))

from twofold.config import Settings  # noqa: E402
from twofold.domain.passcodes import Channel, Email  # noqa: E402
from twofold.services.container import Services, build_services  # noqa: E402
from twofold.storage.counters import Counters, Quota, SendClaim  # noqa: E402
from twofold.storage.migrate import upgrade_to_head  # noqa: E402

HOUR_MS = 3_600_000
Op = Callable[[int], Awaitable[object]]


def operations(services: Services, pool_id: str, run: str) -> dict[str, Op]:
    counters: Counters = services.counters
    now = int(time.time() * 1000)

    def claim(n: int) -> Awaitable[object]:
        quotas = (Quota(f"ip:{run}:{n % 97}", 10**9), Quota(f"pool:{run}", 10**9))
        return counters.claim_send(SendClaim(f"target:{run}:{n}", 60_000, quotas, now - now % HOUR_MS, HOUR_MS, now))

    def take(n: int) -> Awaitable[object]:
        return counters.take([f"account:{run}:{n}", f"ip:{run}:{n % 97}"], now, 900_000)

    def send(n: int) -> Awaitable[object]:
        return services.passcodes.send(pool_id, Channel.CHANNEL_LOGIN, Email.parse(f"{run}-{n}@example.com"), "10.0.0.1")

    return {"claim_send": claim, "take": take, "passcodes.send": send}


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
    base = Settings(database_url=url, secret_key="bench-master-key-0123456789abcdef", postgres_pool_size=max(10, width),
                    passcode_ip_hourly_limit=10**6, passcode_pool_hourly_limit=10**7)
    stores = {
        "database": await build_services(base),
        "redis": await build_services(base.model_copy(update={
            "redis_url": SecretStr(redis_url), "redis_key_prefix": f"twofold-bench:{uuid.uuid4().hex}:"})),
    }
    lines = []
    try:
        db = stores["database"].db
        pool, _ = await stores["database"].keys.ensure_default_pool()
        async with db.transaction() as conn:
            for table in ("passcode_throttles", "passcode_quotas", "signin_attempts"):
                await conn.execute(f"DELETE FROM {table}")  # noqa: S608 - fixed names
        for name in ("claim_send", "take", "passcodes.send"):
            count = n if name != "passcodes.send" else max(50, n // 5)
            lat: dict[str, list[float]] = {k: [] for k in stores}
            rate: dict[str, list[float]] = {k: [] for k in stores}
            for r in range(rounds):
                for kind, services in stores.items():
                    op = operations(services, pool.id, f"{kind}-{r}-{uuid.uuid4().hex[:8]}")[name]
                    await sequential(op, 10**7, 20)  # warm
                    lat[kind] += await sequential(op, 0, count)
                    rate[kind].append(await concurrent(op, 10**6, count, width))
            row = {k: (pct(v, 0.5), pct(v, 0.99), statistics.median(rate[k])) for k, v in lat.items()}
            (d50, d99, dr), (r50, r99, rr) = row["database"], row["redis"]
            lines.append(
                f"| {db.dialect} | {name} | {d50:.0f} / {d99:.0f} | {r50:.0f} / {r99:.0f} | {r50 / d50:.2f} "
                f"| {dr:.0f} | {rr:.0f} | {rr / dr:.2f} |"
            )
    finally:
        for services in stores.values():
            await services.close()
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
