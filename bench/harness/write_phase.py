"""The write path against its floor (issue 13), both measured in the same minutes.

For one backend and worker count, Twofold (default logging: one access line per request, as an operator
runs it) on a database of ``--write-users`` users (200 by default) is up together with its floor:

* PostgreSQL: ``bench/apps/floor_write.py``, the parse-only endpoint plus one raw asyncpg UPDATE of the
  user's stored status, on the same database;
* SQLite: the parse-only app (``bench/apps/parse_only.py``).

At every connection count, wrk runs against Twofold and against the floor in alternation (A B A B A B,
``measure_paired``); both get the same requests, ``set-mfa-status`` by user id for a user drawn at
random, with a management token (which the floors ignore: they parse the body only).  Every cell
records its floor and the ratio as the sign-in cells do (``signin_phase._record``), and both servers'
CPU per answer.
"""

from __future__ import annotations

import contextlib
import fnmatch
import os
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from .measure import Source, measure_paired, warm_up
from .requests import fetch_token, scenario_requests, write_requests
from .servers import Server, baseline_command, free_port, twofold_command
from .signin_phase import _record as record  # one shape for every cell measured against a floor

if TYPE_CHECKING:  # run.py's Bench, which drives every phase
    from run import Bench

NAME = "set-mfa-status.floor"  # the pattern that selects this phase (run.py --scenarios)
SCENARIO = "set-mfa-status.user_id.token"
FLOORS = {"postgresql": "floor_write", "sqlite": "parse_only"}


def selected(patterns: list[str] | None) -> bool:
    """Whether ``--scenarios`` selects this phase (as ``scenarios.select`` matches names)."""
    return not patterns or any(fnmatch.fnmatchcase(NAME, p) or NAME.startswith(p) for p in patterns)


def _requests(port: int, users: int, token: str, pool_id: str) -> Callable[[Path, int], int]:
    def make(path: Path, count: int) -> int:
        return write_requests(
            path, scenario_requests("set-mfa-status", "user_id", "token", port, users, count, token, pool_id)
        )

    return make


def run(bench: Bench, wrk: str, backend: str, workers: int) -> None:
    if not selected(bench.args.scenarios):
        return
    users = bench.args.write_users
    label = f"write floor on {backend}, {users:,} users, {workers} worker(s)"
    floor_name = FLOORS[backend]
    try:
        db = bench.database(backend, users)
        env = {**os.environ, **db.server_env(bench.workdir / "data")}
        env.pop("TWOFOLD_LOG_LEVEL", None)  # default logging
        port, floor_port = free_port(), free_port()
        log = bench.workdir / f"serve-write-{backend}-{workers}w.log"
        ours = Server(f"twofold/{backend}", twofold_command(port, workers), port, workers, env, log)
        floor_env = dict(os.environ)
        if backend == "postgresql":
            floor_env["FLOOR_DATABASE_URL"] = db.url
        floor = Server(
            floor_name,
            baseline_command(floor_name, floor_port, workers),
            floor_port,
            workers,
            floor_env,
            bench.workdir / f"{floor_name}-write-{workers}w.log",
        )
        with contextlib.ExitStack() as stack:
            stack.enter_context(ours)
            stack.enter_context(floor)
            token = fetch_token(port)
            source = Source(
                _requests(port, users, token, db.pool_id), bench.workdir / "write.req", once=False
            )
            floor_source = Source(
                _requests(floor_port, users, token, db.pool_id), bench.workdir / "write-floor.req", once=False
            )
            top = max(bench.args.connections)
            bench.log(f"{SCENARIO} against {floor_name}, {label}")
            warm_up(wrk, ours, source, top, bench.timing)
            warm_up(wrk, floor, floor_source, top, bench.timing)
            base = {"phase": "write", "backend": backend, "users": users, "workers": workers}
            for conns in sorted(bench.args.connections):
                mine, theirs = measure_paired(
                    wrk, [(ours, source), (floor, floor_source)], conns, bench.timing
                )
                record(bench, SCENARIO, floor_name, base, conns, mine, theirs)
                bench.results["cells"][-1]["floor"]["server_cpu_us"] = theirs["server_cpu_us"]
                bench.log(
                    f"      server CPU per answer {mine['server_cpu_us'] or 0:,.0f} us,"
                    f" {floor_name} {theirs['server_cpu_us'] or 0:,.0f} us"
                )
    except Exception as exc:  # noqa: BLE001 - one broken phase must not lose the rest of the run
        traceback.print_exc()
        bench.unavailable(label, f"{type(exc).__name__}: {exc}")
