"""Twofold's benchmark harness (issue 5): ``make bench``, or ``python bench/run.py --help``.

For every worker count it measures the two baselines (a bare ASGI app and a parse-only FastAPI endpoint)
and then Twofold's scenarios on each backend, all on the same uvicorn stack and with the same wrk, so
that every figure can be read as a ratio to the parse-only baseline measured minutes before it.  On each
backend the sign-in scenarios of issue 10 follow (harness/signin_phase.py), each run in alternation with
its own floor (parse-only, or raw Argon2 verifications).  Then the user-count scaling cells, the bulk
import, ``twofold users import`` as README shows it on each backend (issue 13), and (``--peers``) moto
and privacyIDEA.

Results: ``bench/results/latest.md`` (tracked) and ``latest.json`` (git-ignored; ``quick.*`` with ``--quick``).
Nothing is read back from earlier runs: the results directory may be empty or absent.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import sys
import tempfile
import time
import traceback
from pathlib import Path
from typing import Any

from harness import environment, markdown, report, scale_out, seed, signin_phase, write_phase
from harness.bulk import run_cli_import, run_import
from harness.measure import Source, Timing, measure, measure_paired, warm_up
from harness.requests import baseline_requests, fetch_token, scenario_requests, write_requests
from harness.scenarios import SCALING_SCENARIOS, SCENARIOS, SIGNIN_SCENARIOS, Group, Scenario, select
from harness.servers import Server, baseline_command, free_port, twofold_command
from harness.wrk import WrkUnavailable, find_wrk, wrk_version

BENCH = Path(__file__).resolve().parent
BASELINES = ("bare", "parse_only")


def _ints(text: str) -> list[int]:
    return [int(x) for x in text.split(",") if x.strip()]


def _words(text: str) -> list[str]:
    return [x.strip() for x in text.split(",") if x.strip()]


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument(
        "--quick", action="store_true", help="smoke run: SQLite, 1 worker, 16 conns, 1 x 1 s, no scaling/bulk"
    )
    p.add_argument("--backends", type=_words, help="sqlite,postgresql (default: both)")
    p.add_argument("--workers", type=_ints, help="worker counts (default: 1,2)")
    p.add_argument("--connections", type=_ints, help="wrk connections (default: 1,16,64)")
    p.add_argument(
        "--scenarios", type=_words, help="name patterns, e.g. 'set-mfa-status.*.hmac,get-*' (default: all)"
    )
    p.add_argument("--list", action="store_true", help="list the scenarios and exit")
    p.add_argument("--users", type=int, help="users in the pool of the main matrix (default: 10000)")
    p.add_argument(
        "--scaling-users", type=int, help="large pool for the scaling cells; 0 skips them (default: 1000000)"
    )
    p.add_argument(
        "--bulk-users", type=int, help="users imported by the bulk scenario; 0 skips it (default: 100000)"
    )
    p.add_argument(
        "--scaling-instances",
        type=int,
        help="instances behind HAProxy in the scale-out phase (PostgreSQL); 0 skips it (default: 3)",
    )
    p.add_argument("--bulk-backends", type=_words, help="backends of the bulk import (default: sqlite)")
    p.add_argument("--bulk-connections", type=int, default=8, help="client connections of the bulk import")
    p.add_argument(
        "--cli-users",
        type=int,
        help="rows of the `twofold users import` run, on every backend; 0 skips it (default: 20000)",
    )
    p.add_argument(
        "--otp-users",
        type=int,
        help="users of mfa-totp-verify.right, each verified about once per 30-s step (default: 20000);"
        " mfa-totp-verify.wrong gets another 1/20 of that",
    )
    p.add_argument(
        "--write-users", type=int, help="users of the write-floor phase, set-mfa-status.floor (default: 200)"
    )
    p.add_argument("--signin-users", type=int, help="password users of signin.password (default: 1000)")
    p.add_argument("--signin-connections", type=_ints, help="wrk connections of signin.password (default: 1,4)")
    p.add_argument("--signin-duration", type=int, help="seconds per timed run of signin.password (default: 10)")
    p.add_argument("--runs", type=int, help="timed runs per cell (default: 3)")
    p.add_argument("--duration", type=int, help="seconds per timed run (default: 2)")
    p.add_argument("--warmup", type=int, help="warm-up seconds per scenario and server (default: 1)")
    p.add_argument(
        "--wrk-threads", type=int, default=1, help="wrk -t (default 1: leaves the cores to the server)"
    )
    p.add_argument(
        "--postgres-url",
        default="postgresql://postgres@127.0.0.1:5432/twofold_bench",
        help="base URL; the harness creates and drops <name>_<label> databases (name must start twofold_bench)",
    )
    p.add_argument(
        "--postgres-one-database",
        action="store_true",
        help="use the --postgres-url database itself (any name; its public schema is reset, never dropped)"
        " for a run that needs only one PostgreSQL database",
    )
    p.add_argument(
        "--peers",
        action="store_true",
        help="also measure moto (Cognito) and privacyIDEA, installed into bench/.peers/",
    )
    p.add_argument("--output", type=Path, help="results directory (default: bench/results)")
    p.add_argument("--workdir", type=Path, help="databases and logs (default: a temporary directory)")
    p.add_argument("--keep", action="store_true", help="keep the work directory and the PostgreSQL databases")
    args = p.parse_args(argv)
    quick = args.quick
    defaults = {
        "backends": ["sqlite"] if quick else ["sqlite", "postgresql"],
        "workers": [1] if quick else [1, 2],
        "connections": [16] if quick else [1, 16, 64],
        "users": 1000 if quick else 10_000,
        "scaling_users": 0 if quick else 1_000_000,
        "bulk_users": 0 if quick else 100_000,
        "scaling_instances": 0 if quick else 3,
        "bulk_backends": ["sqlite"],
        "cli_users": 0 if quick else 20_000,
        "otp_users": 5000 if quick else 20_000,
        "write_users": 200,
        "signin_users": 100 if quick else 1000,
        "signin_connections": [1] if quick else [1, 4],
        "signin_duration": 4 if quick else 10,
        "runs": 1 if quick else 3,
        "duration": 1 if quick else 2,
        "warmup": 0 if quick else 1,
        "scenarios": ["set-mfa-status.user_id.token", "get-mfa-status.user_id.token"] if quick else None,
    }
    for name, value in defaults.items():
        if getattr(args, name) is None:
            setattr(args, name, value)
    return args


class Bench:
    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.timing = Timing(args.runs, args.duration, args.warmup, args.wrk_threads)
        self.started = time.monotonic()
        self.workdir = args.workdir or Path(tempfile.mkdtemp(prefix="twofold-bench-"))
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.output = args.output or BENCH / "results"
        self.stem = "quick" if args.quick and not args.output else "latest"
        self.databases: dict[tuple[str, int | str], seed.BenchDatabase] = {}
        self.pg_labels: set[str] = set()  # with --postgres-one-database: at most one
        self.signin_dbs: dict[str, Any] = {}  # backend -> signin_seed.SigninDatabase
        self.code_books: dict[str, Any] = {}  # backend -> signin_requests.CodeBook
        self.results: dict[str, Any] = {
            "meta": environment.describe(args, self.timing),
            "wrk": {},
            "cells": [],
            "scaling": [],
            "bulk": [],
            "scale_out": None,
            "peers": [],
            "targets": [],
            "unavailable": [],
        }

    # ------------------------------------------------------------------------------------ plumbing
    def log(self, message: str) -> None:
        print(f"[{time.monotonic() - self.started:6.1f}s] {message}", file=sys.stderr, flush=True)

    def unavailable(self, what: str, reason: str) -> None:
        self.log(f"unavailable: {what}: {reason}")
        self.results["unavailable"].append({"what": what, "reason": reason})

    def url(self, backend: str, label: str) -> str:
        if backend == "sqlite":
            return seed.sqlite_url(self.workdir, label)
        if self.args.postgres_one_database:
            self.pg_labels.add(label)
            if len(self.pg_labels) > 1:
                raise ValueError(f"--postgres-one-database holds one database, not {sorted(self.pg_labels)}")
        return seed.postgres_url(self.args.postgres_url, label, self.args.postgres_one_database)

    def database(self, backend: str, users: int) -> seed.BenchDatabase:
        key = (backend, users)
        if key not in self.databases:
            self.log(f"seeding {backend} with {users:,} users")
            self.databases[key] = seed.prepare(backend, self.url(backend, str(users)), users)
            self.log(f"  seeded in {self.databases[key].seed_seconds:.1f} s")
        return self.databases[key]

    def twofold(self, db: seed.BenchDatabase, workers: int) -> Server:
        port = free_port()
        env = {**os.environ, **db.server_env(self.workdir / "data")}
        log = self.workdir / f"serve-{db.backend}-{db.users}-{workers}w.log"
        return Server(f"twofold/{db.backend}", twofold_command(port, workers), port, workers, env, log)

    def save(self) -> None:
        results = self.results
        report.add_ratios(results["cells"])
        results["wrk"]["ceiling"] = report.wrk_ceiling(results["cells"], self.args.wrk_threads)
        if self.args.scaling_users:
            results["scaling"] = report.scaling(results["cells"], self.args.users, self.args.scaling_users)
        results["targets"] = report.targets(results, self.args.users)
        results["meta"]["elapsed_s"] = time.monotonic() - self.started
        results["meta"]["load_end"] = environment.load_average()
        self.output.mkdir(parents=True, exist_ok=True)
        (self.output / f"{self.stem}.json").write_text(json.dumps(results, indent=2) + "\n")
        (self.output / f"{self.stem}.md").write_text(markdown.render(results))

    # ------------------------------------------------------------------------------------ the plan
    def groups(self, workers: int, backend: str) -> list[Group]:
        main = select(self.args.scenarios, SCENARIOS)
        cells = tuple((s, c) for s in main for c in sorted(self.args.connections))
        return [Group(backend, self.args.users, workers, cells)] if cells else []

    def run(self) -> None:
        args = self.args
        try:
            wrk = find_wrk()
        except WrkUnavailable as exc:
            raise SystemExit(f"cannot benchmark without wrk: {exc}") from None
        self.results["wrk"] = {"binary": wrk, "version": wrk_version(wrk), "threads": args.wrk_threads}
        backends = list(args.backends)
        if "postgresql" in backends + args.bulk_backends:
            try:
                seed.check_postgres(args.postgres_url, args.postgres_one_database)
            except Exception as exc:  # noqa: BLE001 - any failure means "not measured", said in the report
                self.unavailable("postgresql", str(exc).strip().splitlines()[0])
                backends = [b for b in backends if b != "postgresql"]
                args.bulk_backends = [b for b in args.bulk_backends if b != "postgresql"]
        for workers in args.workers:
            for app in BASELINES:
                self.run_baseline(wrk, app, workers)
            for backend in backends:
                for group in self.groups(workers, backend):
                    self.run_group(wrk, group)
                write_phase.run(self, wrk, backend, workers)
                signin_phase.run(self, wrk, backend, workers)
                if args.scaling_users and workers == max(args.workers):
                    self.run_scaling(wrk, backend, workers)
            self.save()
        if args.scaling_instances and "postgresql" in backends:
            self.run_scale_out(wrk, max(args.workers))
            self.save()
        if args.bulk_users:
            for backend in args.bulk_backends:
                self.run_bulk(backend, max(args.workers))
            self.save()
        if args.cli_users:
            for backend in backends:
                self.run_cli(backend, max(args.workers))
            self.save()
        if args.peers:
            from harness import peers

            self.results["peers"] = peers.run_all(self, wrk)
        self.save()

    # ------------------------------------------------------------------------------------- phases
    def run_baseline(self, wrk: str, app: str, workers: int) -> None:
        port = free_port()
        log = self.workdir / f"{app}-{workers}w.log"
        server = Server(app, baseline_command(app, port, workers), port, workers, dict(os.environ), log)
        source = Source(
            lambda path, n: write_requests(path, baseline_requests(port)),
            self.workdir / f"{app}.req",
            once=False,
        )
        self.log(f"baseline {app}, {workers} worker(s)")
        with server:
            self.measure_cells(
                wrk,
                server,
                source,
                [(None, c) for c in sorted(self.args.connections)],
                {
                    "kind": "baseline",
                    "phase": "main",
                    "name": app,
                    "backend": None,
                    "users": None,
                    "workers": workers,
                },
            )

    def run_group(self, wrk: str, group: Group) -> None:
        """All cells of one server.  Should the server die (this machine is shared), the cells not yet
        measured are retried once on a fresh server, and the report says so."""
        label = f"{group.backend}, {group.users:,} users, {group.workers} worker(s)"
        pending: dict[Scenario, list[int]] = {}
        for scenario, conns in group.cells:
            pending.setdefault(scenario, []).append(conns)
        for attempt in (1, 2):
            server: Server | None = None
            try:
                db = self.database(group.backend, group.users)
                with self.twofold(db, group.workers) as server:
                    token = fetch_token(server.port)
                    for scenario in list(pending):
                        if not pending[scenario]:
                            del pending[scenario]
                            continue
                        self.log(f"{scenario.name} on {label}")
                        source = Source(
                            self._maker(scenario, db, server.port, token),
                            self.workdir / "scenario.req",
                            once=scenario.auth == "hmac",
                        )
                        cells = [(scenario, c) for c in pending[scenario]]
                        base = {
                            "kind": "twofold",
                            "phase": "main",
                            "name": scenario.name,
                            "backend": group.backend,
                            "users": group.users,
                            "workers": group.workers,
                        }
                        self.measure_cells(wrk, server, source, cells, base, done=pending[scenario])
                        del pending[scenario]
                return
            except Exception as exc:  # noqa: BLE001 - one broken group must not lose the rest of the run
                traceback.print_exc()
                status = server.exit_status() if server else None
                reason = f"{type(exc).__name__}: {exc}" + (
                    f" (server exit status {status})" if status is not None else ""
                )
                if attempt == 1 and pending:
                    self.unavailable(f"{label}, first attempt (retried on a fresh server)", reason)
                else:
                    self.unavailable(label, reason)

    def run_scaling(self, wrk: str, backend: str, workers: int) -> None:
        """The same lookups against the small and the large pool, both servers up, runs interleaved."""
        scale = select(self.args.scenarios, SCALING_SCENARIOS)
        conns = max(self.args.connections)
        sizes = (self.args.users, self.args.scaling_users)
        label = f"scaling on {backend}: {sizes[0]:,} vs {sizes[1]:,} users, {workers} worker(s)"
        try:
            dbs = [self.database(backend, n) for n in sizes]
            with contextlib.ExitStack() as stack:
                servers = [stack.enter_context(self.twofold(db, workers)) for db in dbs]
                tokens = [fetch_token(server.port) for server in servers]
                for scenario in scale:
                    self.log(f"{scenario.name}, {label}")
                    pairs = []
                    for db, server, token in zip(dbs, servers, tokens, strict=True):
                        make = self._maker(scenario, db, server.port, token)
                        source = Source(
                            make, self.workdir / f"scaling-{db.users}.req", once=scenario.auth == "hmac"
                        )
                        warm_up(wrk, server, source, conns, self.timing)
                        pairs.append((server, source))
                    for db, result in zip(dbs, measure_paired(wrk, pairs, conns, self.timing), strict=True):
                        cell = {
                            "kind": "twofold",
                            "phase": "scaling",
                            "name": scenario.name,
                            "backend": backend,
                            "users": db.users,
                            "workers": workers,
                            "connections": conns,
                            **result,
                        }
                        self.results["cells"].append(cell)
                        self.log_cell(f"{db.users:>9,} users", result)
        except Exception as exc:  # noqa: BLE001
            traceback.print_exc()
            self.unavailable(label, f"{type(exc).__name__}: {exc}")

    def run_scale_out(self, wrk: str, workers: int) -> None:
        """N instances behind HAProxy against one, direct and through HAProxy (harness/scale_out.py)."""
        instances = self.args.scaling_instances
        label = f"scale-out on postgresql: {instances} instances of {workers} worker(s) behind HAProxy vs 1"
        self.log(label)
        try:
            db = self.database("postgresql", self.args.users)
            self.results["scale_out"] = scale_out.run(self, wrk, db, instances, workers)
        except Exception as exc:  # noqa: BLE001 - reported, the rest of the run goes on
            traceback.print_exc()
            self.unavailable(label, f"{type(exc).__name__}: {exc}")

    @staticmethod
    def _maker(scenario: Scenario, db: seed.BenchDatabase, port: int, token: str) -> Any:
        def make(path: Path, count: int) -> int:
            requests = scenario_requests(
                scenario.endpoint, scenario.by, scenario.auth, port, db.users, count, token, db.pool_id
            )
            return write_requests(path, requests)

        return make

    def measure_cells(
        self,
        wrk: str,
        server: Server,
        source: Source,
        cells: list[tuple[Any, int]],
        base: dict[str, Any],
        done: list[int] | None = None,
    ) -> None:
        """Warm up, then measure each cell; ``done`` (if given) loses each connection count measured."""
        warm_up(wrk, server, source, max(c for _, c in cells), self.timing)
        for _, conns in cells:
            result = measure(wrk, server, source, conns, self.timing)
            cell = {**base, "connections": conns, **result}
            self.results["cells"].append(cell)
            self.log_cell(f"{conns:>3} conns", result)
            if done is not None:
                done.remove(conns)

    def log_cell(self, what: str, result: dict[str, Any]) -> None:
        rps = result["rps"]
        note = (
            "" if result["valid"] else f"  INVALID: {result['bad_responses']} bad, {result['error_sample']!r}"
        )
        self.log(
            f"  {what}: {rps['median']:8,.0f} req/s (±{rps['spread_pct']:.0f}%), "
            f"p50 {result['latency_ms']['p50']:.1f} ms, p99 {result['latency_ms']['p99']:.1f} ms, "
            f"RSS {result['rss_mb']['max']:.0f} MB, background CPU {result['background_cpu']:.2f}{note}"
        )

    def run_bulk(self, backend: str, workers: int) -> None:
        """Three import paths on one server and database, each with its own users (see harness/bulk.py)."""
        users = self.args.bulk_users
        self.log(f"bulk import of {users:,} users on {backend}, {workers} worker(s)")
        rows: list[dict[str, Any]] = []
        try:
            db = seed.prepare(backend, self.url(backend, "bulk"), 0)
            self.databases[(backend, "bulk")] = db
            with self.twofold(db, workers) as server:
                token = fetch_token(server.port)
                rows += run_import(server.port, token, db.pool_id, users, self.args.bulk_connections)
        except Exception as exc:  # noqa: BLE001
            traceback.print_exc()
            rows.append({"path": "all", "unavailable": f"{type(exc).__name__}: {exc}"})
        self.log_bulk(rows, backend, workers)

    def run_cli(self, backend: str, workers: int) -> None:
        """`twofold users import` of a fresh CSV into a fresh database, as README shows it (harness/bulk.py)."""
        users = self.args.cli_users
        self.log(f"twofold users import of {users:,} rows on {backend}, {workers} worker(s)")
        try:
            db = seed.prepare(backend, self.url(backend, "cli"), 0)
            self.databases[(backend, "cli")] = db
            with self.twofold(db, workers) as server:
                row = run_cli_import(server.port, users, self.workdir, "cli", server.all_pids())
        except Exception as exc:  # noqa: BLE001 - reported, not fatal
            traceback.print_exc()
            row = {"path": "cli", "unavailable": f"{type(exc).__name__}: {exc}"}
        self.log_bulk([row], backend, workers)

    def log_bulk(self, rows: list[dict[str, Any]], backend: str, workers: int) -> None:
        for row in rows:
            row.update(backend=backend, workers=workers)
            if "users_per_s" in row:
                cpu = (
                    f" (CPU: client {row['client_cores']:.2f}, server {row['server_cores']:.2f},"
                    f" others {row['background_cpu']:.2f} cores)"
                    if "client_cores" in row
                    else ""
                )
                self.log(
                    f"  {row['path']}: {row['users']:,} users in {row['seconds']:.1f} s"
                    f" = {row['users_per_s']:,.0f} users/s{cpu}"
                )
            else:
                self.log(f"  {row['path']}: unavailable: {row['unavailable']}")
        self.results["bulk"] += rows

    def cleanup(self) -> None:
        if self.args.keep:
            self.log(f"kept {self.workdir}")
            return
        for (backend, _), db in self.databases.items():
            if backend == "postgresql" and not self.args.postgres_one_database:
                try:
                    seed.drop_postgres(db.url)
                except Exception as exc:  # noqa: BLE001
                    self.log(f"could not drop {db.url}: {exc}")
        if not self.args.workdir:
            shutil.rmtree(self.workdir, ignore_errors=True)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.list:
        for scenario in SCENARIOS + [s for s in SCALING_SCENARIOS if s not in SCENARIOS]:
            print(scenario.name)
        print(write_phase.NAME)
        for signin in SIGNIN_SCENARIOS:
            print(signin.name)
        return 0
    bench = Bench(args)
    try:
        bench.run()
    finally:
        bench.cleanup()
    stem = bench.output / bench.stem
    bench.log(f"wrote {stem}.json and {stem}.md")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
