"""Per-request CPU cost in-process: the ASGI app called directly, no sockets, no load generator.

    python bench/inprocess.py [--backend sqlite|postgresql] [--n 5000] [--profile set-mfa-status.user_id.token]
    python bench/inprocess.py --backend postgresql --postgres-url postgresql://.../mydb --postgres-one-database --cpu

Reports microseconds per request for the parse-only baseline and for Twofold's hot scenarios, on one
event loop, one request at a time.  This is where the wrk figures come from once the HTTP server's own
cost is added; ``--profile`` prints a cProfile of one scenario.  The numbers are relative, like the
harness's: compare rows of the same run.  ``--cpu`` measures this process's CPU time
(``time.process_time``) instead of the wall clock: on PostgreSQL that leaves out the round trips and the
server's own work, i.e. what the Python side costs; ``--user-cpu`` also leaves out the system calls
(on a loaded machine the socket sends to PostgreSQL vary most).  ``--postgres-one-database`` uses the database of
``--postgres-url`` itself (its schema emptied for each phase, the database kept) instead of creating and
dropping ``twofold_bench_*`` databases.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import importlib.util
import os
import pstats
import resource
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))

from harness import seed  # noqa: E402
from harness.requests import scenario_requests, set_status_body  # noqa: E402

Asgi = Callable[..., Any]


def _parse_raw(raw: bytes) -> tuple[str, str, bytes, list[tuple[bytes, bytes]], bytes]:
    head, _, body = raw.partition(b"\r\n\r\n")
    lines = head.split(b"\r\n")
    method, target, _ = lines[0].split(b" ")
    headers = []
    for line in lines[1:]:
        name, _, value = line.partition(b":")
        headers.append((name.strip().lower(), value.strip()))
    path, _, query = target.partition(b"?")
    return method.decode(), path.decode(), query, headers, body


async def call(app: Asgi, raw: bytes) -> bytes:
    method, path, query, headers, body = _parse_raw(raw)
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": query,
        "root_path": "",
        "headers": headers,
        "client": ("127.0.0.1", 5555),
        "server": ("127.0.0.1", 8000),
        "app": app,
    }
    sent = False
    chunks: list[bytes] = []

    async def receive() -> dict[str, Any]:
        nonlocal sent
        if sent:
            await asyncio.sleep(3600)
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.body":
            chunks.append(message.get("body", b""))

    await app(scope, receive, send)
    return b"".join(chunks)


async def _lifespan(app: Asgi) -> Callable[[], Any]:
    queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
    out: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
    task = asyncio.create_task(app({"type": "lifespan", "asgi": {"version": "3.0"}}, queue.get, out.put))
    await queue.put({"type": "lifespan.startup"})
    assert (await out.get())["type"] == "lifespan.startup.complete"

    async def stop() -> None:
        await queue.put({"type": "lifespan.shutdown"})
        await out.get()
        await task

    return stop


CLOCK: Callable[[], float] = time.perf_counter


async def _time(app: Asgi, requests: list[bytes], check: bytes, rounds: int = 5) -> float:
    """Microseconds per request: the best of ``rounds`` equal slices (the least disturbed by the machine)."""
    first = await call(app, requests[0])
    if check not in first:
        raise SystemExit(f"unexpected response: {first[:300]!r}")
    size = (len(requests) - 1) // rounds
    best = float("inf")
    for r in range(rounds):
        chunk = requests[1 + r * size : 1 + (r + 1) * size]
        started = CLOCK()
        for raw in chunk:
            await call(app, raw)
        best = min(best, (CLOCK() - started) / len(chunk) * 1e6)
    return best


def _parse_only_app() -> Asgi:
    spec = importlib.util.spec_from_file_location("parse_only", BENCH / "apps" / "parse_only.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules["parse_only"] = module  # pydantic resolves the postponed annotations through it
    spec.loader.exec_module(module)
    return module.app  # type: ignore[no-any-return]


async def main(args: argparse.Namespace) -> None:
    from twofold.api.app import create_app
    from twofold.config import Settings
    from twofold.logs import configure_logging

    with tempfile.TemporaryDirectory() as tmp:
        if args.backend == "sqlite":
            url = seed.sqlite_url(Path(tmp), "inprocess")
        else:
            url = seed.postgres_url(args.postgres_url, "inprocess", args.postgres_one_database)
        db = await asyncio.to_thread(seed.prepare, args.backend, url, args.users)
        env = db.server_env(Path(tmp))
        os.environ.update(env)
        configure_logging("WARNING")
        app = create_app(Settings())
        stop = await _lifespan(app)
        token_raw = await call(
            app,
            b"POST /api/v3/get-management-token HTTP/1.1\r\ncontent-type: application/json\r\n\r\n"
            + f'{{"accessKeyId":"{seed.KEY_ID}","accessKeySecret":"{seed.KEY_SECRET}"}}'.encode(),
        )
        import orjson

        token = orjson.loads(token_raw)["data"]["access_token"]
        n = args.n
        baseline = [
            b"POST /api/v3/set-mfa-status HTTP/1.1\r\ncontent-type: application/json\r\n\r\n"
            + set_status_body(i % args.users, "user_id")
            for i in range(n)
        ]
        scenarios = {
            "set-mfa-status.user_id.token": ("set-mfa-status", "user_id", "token"),
            "set-mfa-status.email.token": ("set-mfa-status", "email", "token"),
            "set-mfa-status.user_id.hmac": ("set-mfa-status", "user_id", "hmac"),
            "get-mfa-status.user_id.token": ("get-mfa-status", "user_id", "token"),
            "get-mfa-status.email.token": ("get-mfa-status", "email", "token"),
            "get-user-mfa-info.user_id.token": ("get-user-mfa-info", "user_id", "token"),
        }
        results: dict[str, float] = {}
        results["parse-only"] = await _time(_parse_only_app(), baseline, b'"success":true')
        for name, (endpoint, by, auth) in scenarios.items():
            if args.scenarios and name not in args.scenarios:
                continue
            requests = list(
                scenario_requests(endpoint, by, auth, 0, args.users, n, token=token, pool_id=db.pool_id)
            )
            if args.profile == name:
                profiler = cProfile.Profile()
                profiler.enable()
            results[name] = await _time(app, requests, b'"statusCode":200')
            if args.profile == name:
                profiler.disable()
                pstats.Stats(profiler).sort_stats(args.sort).print_stats(int(args.limit) if args.limit.isdigit() else args.limit)
        await stop()
        if args.backend == "postgresql" and not args.postgres_one_database:
            seed.drop_postgres(url)
        if not args.scenarios or any(name.startswith("mfa-totp-verify") for name in args.scenarios):
            results.update(await _totp(args, Path(tmp)))
        base = results["parse-only"]
        print(f"{'scenario':36} {'us/req':>8} {'x parse-only':>13}")
        for name, us in results.items():
            print(f"{name:36} {us:8.1f} {us / base:13.2f}")


async def _totp(args: argparse.Namespace, tmp: Path) -> dict[str, float]:
    """Issue 10: ``mfa-totp-verify`` with a user access token, right codes (each user once) and wrong ones,
    on the sign-in database of harness/signin_seed.py, served by a second app."""
    from harness import signin_seed
    from harness.signin_requests import CodeBook, wrong_code_requests

    from twofold.api.app import create_app
    from twofold.config import Settings

    n = args.n
    if args.backend == "sqlite":
        url = seed.sqlite_url(tmp, "inprocess-signin")
    else:
        url = seed.postgres_url(args.postgres_url, "inprocess_signin", args.postgres_one_database)
    db = await asyncio.to_thread(signin_seed.prepare, args.backend, url, n, max(50, n // 20), 10)
    os.environ.update(db.base.server_env(tmp / "signin"))
    app = create_app(Settings())
    stop = await _lifespan(app)
    out: dict[str, float] = {}
    try:
        cases = {
            "mfa-totp-verify.right": (list(CodeBook(db).requests(0, n)), b'"verified":true'),
            "mfa-totp-verify.wrong": (list(wrong_code_requests(db, 0, n)), b'"verified":false'),
        }
        for name, (requests, check) in cases.items():
            profiler = cProfile.Profile() if args.profile == name else None
            if profiler:
                profiler.enable()
            out[name] = await _time(app, requests, check)
            if profiler:
                profiler.disable()
                limit = int(args.limit) if args.limit.isdigit() else args.limit
                pstats.Stats(profiler).sort_stats(args.sort).print_stats(limit)
    finally:
        await stop()
        if args.backend == "postgresql" and not args.postgres_one_database:
            seed.drop_postgres(url)
    return out


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--backend", default="sqlite", choices=("sqlite", "postgresql"))
    parser.add_argument(
        "--postgres-url", default=os.environ.get("TWOFOLD_BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/twofold_bench")
    )
    parser.add_argument("--postgres-one-database", action="store_true", help="use --postgres-url's database itself (emptied)")
    parser.add_argument("--cpu", action="store_true", help="this process's CPU time per request, not the wall clock")
    parser.add_argument("--user-cpu", action="store_true", help="its user CPU time only (no system calls)")
    parser.add_argument("--users", type=int, default=2000)
    parser.add_argument("--n", type=int, default=4000)
    parser.add_argument("--scenarios", nargs="*")
    parser.add_argument("--profile")
    parser.add_argument("--sort", default="tottime", help="cProfile sort key (tottime, cumulative)")
    parser.add_argument("--limit", default="35", help="cProfile rows (a count, or a regex such as twofold)")
    options = parser.parse_args()
    if options.cpu:
        CLOCK = time.process_time
    if options.user_cpu:
        CLOCK = lambda: resource.getrusage(resource.RUSAGE_SELF).ru_utime  # noqa: E731
    asyncio.run(main(options))
