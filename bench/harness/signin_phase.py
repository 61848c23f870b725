"""The sign-in scenarios (issue 10), each measured against its own floor in the same minutes.

For one backend and worker count, one Twofold server on the sign-in database (harness/signin_seed.py)
and one parse-only server are up together:

* ``mfa-totp-verify.right`` and ``.wrong``: at every connection count, wrk runs against Twofold and
  against parse-only in alternation (A B A B A B, ``measure_paired``), so the ratio compares runs a
  few seconds apart;
* ``signin.password``: at every sign-in connection count, a wrk run against Twofold alternates with a
  slice of raw Argon2 verifications (harness/argon2_floor.py) on as many processes as Twofold has
  workers and with as many verifications in flight as wrk has connections.

Every cell records its floor (``floor``) and the ratio to it (``vs_floor``); the floor's own cells are
kept too (kind ``baseline``, phase ``signin``).  Answers are checked in Lua against what the scenario
expects (harness/signin_requests.py ``EXPECT``): an answer that is not is a bad response, so the
right-code cell's bad count is "right code refused" and the wrong-code cell's is "wrong code accepted".
"""

from __future__ import annotations

import contextlib
import os
import traceback
from typing import TYPE_CHECKING, Any

from . import signin_seed
from .argon2_floor import Argon2Floor
from .measure import Source, Timing, measure_paired, run_once, summarize, warm_up
from .requests import baseline_requests, write_requests
from .scenarios import SIGNIN_SCENARIOS, select
from .servers import Server, baseline_command, free_port
from .signin_requests import EXPECT, CodeBook, signin_requests, wrong_code_requests

if TYPE_CHECKING:  # run.py's Bench, which drives every phase
    from run import Bench


def scenarios(patterns: list[str] | None) -> list[str]:
    return [s.name for s in select(patterns, SIGNIN_SCENARIOS)]


def database(bench: Bench, backend: str) -> signin_seed.SigninDatabase:
    found = bench.signin_dbs.get(backend)
    if found is None:
        args = bench.args
        right, wrong = args.otp_users, max(50, args.otp_users // 20)
        bench.log(
            f"seeding the sign-in database on {backend}: {right:,} + {wrong:,} OTP users, "
            f"{args.signin_users:,} password users"
        )
        found = signin_seed.prepare(backend, bench.url(backend, "signin"), right, wrong, args.signin_users)
        bench.signin_dbs[backend] = found
        bench.databases[(backend, "signin")] = found.base
        bench.code_books[backend] = CodeBook(found, bench.log)
        bench.log(f"  seeded in {found.base.seed_seconds:.1f} s")
    return found


def run(bench: Bench, wrk: str, backend: str, workers: int) -> None:
    names = scenarios(bench.args.scenarios)
    if not names:
        return
    label = f"sign-in scenarios on {backend}, {workers} worker(s)"
    try:
        db = database(bench, backend)
        po_port = free_port()
        po = Server(
            "parse_only",
            baseline_command("parse_only", po_port, workers),
            po_port,
            workers,
            dict(os.environ),
            bench.workdir / f"parse_only-signin-{workers}w.log",
        )
        with contextlib.ExitStack() as stack:
            server = stack.enter_context(bench.twofold(db.base, workers))
            if any(name.startswith("mfa-totp-verify") for name in names):
                stack.enter_context(po)  # parse-only is the floor of the TOTP scenarios only
            po_source = Source(
                lambda path, n: write_requests(path, baseline_requests(po_port)),
                bench.workdir / "signin-parse_only.req",
                once=False,
            )
            for name in names:
                bench.log(f"{name} on {label}")
                base = {"phase": "signin", "backend": backend, "users": db.base.users, "workers": workers}
                if name == "signin.password":
                    _password(bench, wrk, server, db, base)
                else:
                    _totp(bench, wrk, server, po, po_source, db, name, base)
    except Exception as exc:  # noqa: BLE001 - one broken phase must not lose the rest of the run
        traceback.print_exc()
        bench.unavailable(label, f"{type(exc).__name__}: {exc}")


def _totp(
    bench: Bench,
    wrk: str,
    server: Server,
    po: Server,
    po_source: Source,
    db: signin_seed.SigninDatabase,
    name: str,
    base: dict[str, Any],
) -> None:
    port = server.port
    if name == "mfa-totp-verify.right":
        book = bench.code_books[db.backend]
        source = Source(
            lambda path, n: write_requests(path, book.requests(port, n)),
            bench.workdir / "totp-right.req",
            once=True,
            expect=EXPECT[name],
            margin=1.25,  # each code spends a user's step: a smaller margin spares them (harness/signin_requests.py)
        )
    else:
        source = Source(
            lambda path, n: write_requests(path, wrong_code_requests(db, port, n)),
            bench.workdir / "totp-wrong.req",
            once=False,
            expect=EXPECT[name],
        )
    timing: Timing = bench.timing
    top = max(bench.args.connections)
    warm_up(wrk, server, source, top, timing)
    warm_up(wrk, po, po_source, top, timing)
    for conns in sorted(bench.args.connections):
        ours, floor = measure_paired(wrk, [(server, source), (po, po_source)], conns, timing)
        _record(bench, name, "parse_only", base, conns, ours, floor)


def _password(
    bench: Bench, wrk: str, server: Server, db: signin_seed.SigninDatabase, base: dict[str, Any]
) -> None:
    args = bench.args
    seconds = args.signin_duration
    source = Source(
        lambda path, n: write_requests(path, signin_requests(db, server.port, n)),
        bench.workdir / "signin.req",
        once=False,
        cycle_count=max(db.signin_users, 1000),
        expect=EXPECT["signin.password"],
    )
    threads = bench.timing.wrk_threads
    with Argon2Floor(server.workers, db.password_hash, signin_seed.PASSWORD) as floor:
        for conns in sorted(args.signin_connections):
            if bench.timing.warmup > 0:
                run_once(wrk, server, source, conns, max(bench.timing.warmup, 2), threads)
                floor.run(conns, max(bench.timing.warmup, 2))
            server.reset_peak_rss()
            ours_runs, floor_runs = [], []
            for _ in range(bench.timing.runs):
                ours_runs.append(run_once(wrk, server, source, conns, seconds, threads))
                floor_runs.append(floor.run(conns, seconds))
            ours = summarize(ours_runs, server.peak_rss_mb())
            _record(bench, "signin.password", "argon2", base, conns, ours, summarize(floor_runs, []))


def pooled_ratio(ours: list[dict[str, Any]], floor: list[dict[str, Any]]) -> float | None:
    """Every answer of the cell's runs per second, over every one of its floor's runs: steadier than
    the ratio of the medians when a run holds only a few dozen answers (a sign-in takes ~0.2-2 s)."""
    a, b = sum(r["seconds"] for r in ours), sum(r["seconds"] for r in floor)
    x, y = sum(r["requests"] for r in ours), sum(r["requests"] for r in floor)
    return (x / a) / (y / b) if a and b and y else None


def _record(
    bench: Bench,
    name: str,
    floor_name: str,
    base: dict[str, Any],
    conns: int,
    ours: dict[str, Any],
    floor: dict[str, Any],
) -> None:
    rps, floor_rps = ours["rps"]["median"], floor["rps"]["median"]
    ratio = rps / floor_rps if floor_rps else None
    floor_cell = {**base, "kind": "baseline", "name": floor_name, "pair": name, "connections": conns, **floor}
    cell = {
        **base,
        "kind": "twofold",
        "name": name,
        "connections": conns,
        **ours,
        "floor": {
            "name": floor_name,
            "rps": floor_rps,
            "p50_ms": floor["latency_ms"]["p50"],
            "p99_ms": floor["latency_ms"]["p99"],
            "requests": floor["requests"],
        },
        "vs_floor": ratio,
        "vs_floor_pooled": pooled_ratio(ours["runs"], floor["runs"]),
        "answers": {"as_expected": ours["requests"] - ours["bad_responses"], "not": ours["bad_responses"]},
    }
    bench.results["cells"] += [floor_cell, cell]
    bench.log_cell(f"{conns:>3} conns", ours)
    bench.log(
        f"      {floor_name}: {floor_rps:,.1f}/s, p99 {floor['latency_ms']['p99']:.1f} ms -> ratio "
        + (f"{ratio:.2f}" if ratio is not None else "—")
    )
