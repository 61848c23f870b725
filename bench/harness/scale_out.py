"""Scale-out on one machine (issue 13): N instances of ``twofold serve`` over one PostgreSQL database,
behind Debian's HAProxy running the shipped ``deploy/haproxy.cfg``, against one instance, reached
directly and through HAProxy, all up at once and their runs interleaved (A B C A B C ...).

The load is a mix of the administrator's calls, half ``get-mfa-status`` and half ``set-mfa-status``.
Every run also records the CPU time of each side, so the report can give the inputs of the capacity
model of docs/performance.md#capacity: CPU seconds of the Twofold processes, of the PostgreSQL backends
of the benchmark's database, of HAProxy and of wrk, each divided by the requests served.

On a 2-core machine the instances share the same cores as PostgreSQL, HAProxy and wrk, so 3 instances
cannot be faster than one that already keeps both cores busy: the phase shows HAProxy's overhead and the
cost of more processes competing for the same cores, not a gain.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import socket
import subprocess
import time
import urllib.request
from itertools import chain
from pathlib import Path
from typing import Any

import psycopg

from .cpu import process_seconds
from .haproxy import haproxy_config
from .measure import Source, run_once, summarize, warm_up
from .requests import fetch_token, scenario_requests, write_requests
from .servers import Server, free_port

MIX = (("get-mfa-status", "user_id"), ("set-mfa-status", "user_id"))
MIX_NAME = "mix: get-mfa-status + set-mfa-status (1:1), by user_id, token"


class Balancer:
    """HAProxy in front of ``instances``; quacks like ``Server`` for harness/measure.py (its port is the
    frontend's, its processes are HAProxy's and the instances')."""

    def __init__(self, name: str, instances: list[Server], workdir: Path) -> None:
        self.name, self.instances = name, instances
        self.port = free_port()
        self.workers = sum(i.workers for i in instances)
        self._dir = workdir
        self._proc: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> Balancer:
        stats = self._dir / f"{self.name}.sock"
        path = self._dir / f"{self.name}.cfg"
        servers = [(f"app{n}", i.port) for n, i in enumerate(self.instances, 1)]
        path.write_text(haproxy_config(self.port, stats, servers))
        with (self._dir / f"{self.name}.log").open("ab") as log:
            self._proc = subprocess.Popen(["haproxy", "-db", "-f", str(path)], stdin=subprocess.DEVNULL,
                                          stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + 30
        while self._up(stats) < len(self.instances):
            if self._proc.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"HAProxy did not see its {len(self.instances)} server(s) UP; see {self._dir}")
            time.sleep(0.2)
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @staticmethod
    def _up(stats: Path) -> int:
        """How many servers HAProxy's runtime API reports UP (its health checks on /readyz passed)."""
        try:
            with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
                sock.connect(str(stats))
                sock.sendall(b"show stat\n")
                text = b"".join(iter(lambda: sock.recv(65536), b"")).decode()
        except OSError:
            return 0
        return sum(1 for line in text.splitlines() if line.startswith("twofold,app") and ",UP," in line)

    def haproxy_pids(self) -> list[int]:
        return [self._proc.pid] if self._proc is not None else []

    def worker_pids(self) -> list[int]:
        return sorted(chain.from_iterable(i.worker_pids() for i in self.instances))

    def all_pids(self) -> list[int]:
        return sorted({*self.haproxy_pids(), *chain.from_iterable(i.all_pids() for i in self.instances)})

    def reset_peak_rss(self) -> None:
        for i in self.instances:
            i.reset_peak_rss()

    def peak_rss_mb(self) -> list[float]:
        return list(chain.from_iterable(i.peak_rss_mb() for i in self.instances))

    def exit_status(self) -> int | None:
        return self._proc.poll() if self._proc is not None else None

    def stop(self) -> None:
        proc, self._proc = self._proc, None
        if proc is not None and proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def database_backends(url: str) -> list[int]:
    """The PostgreSQL backends connected to the benchmark's database (others' databases excluded)."""
    with psycopg.connect(url, autocommit=True) as conn:
        rows = conn.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()"
        ).fetchall()
    return [int(r[0]) for r in rows]


class CpuLedger:
    """CPU seconds of the Twofold processes, the database's backends and HAProxy over one run."""

    def __init__(self, url: str, app_pids: list[int], haproxy_pids: list[int]) -> None:
        self._url, self._app, self._haproxy = url, app_pids, haproxy_pids
        self._db = {pid: process_seconds(pid) for pid in database_backends(url)}
        self._start = (self._sum(app_pids), self._sum(haproxy_pids))

    @staticmethod
    def _sum(pids: list[int]) -> float:
        return sum(process_seconds(p) for p in pids)

    def stop(self) -> dict[str, float]:
        db = sum(process_seconds(p) - self._db.get(p, 0.0) for p in database_backends(self._url))
        return {
            "app_s": self._sum(self._app) - self._start[0],
            "haproxy_s": self._sum(self._haproxy) - self._start[1],
            "db_s": db,
        }


def mix_requests(port: int, users: int, count: int, token: str, pool_id: str) -> Any:
    streams = [scenario_requests(e, by, "token", port, users, count // 2, token, pool_id, seed=7 + n)
               for n, (e, by) in enumerate(MIX)]
    return chain.from_iterable(zip(*streams, strict=True))


def run(bench: Any, wrk: str, db: Any, instances: int, workers: int) -> dict[str, Any]:
    """The three configurations on ``db`` (a seeded PostgreSQL database), ``workers`` per instance."""
    if shutil.which("haproxy") is None:
        raise RuntimeError("haproxy not installed (Debian: apt-get install haproxy; .ci/run installs it)")
    args, timing = bench.args, bench.timing
    conns = max(args.connections)
    with contextlib.ExitStack() as stack:
        servers = [stack.enter_context(bench.twofold(db, workers)) for _ in range(instances)]
        one = stack.enter_context(Balancer("haproxy-1", servers[:1], bench.workdir))
        many = stack.enter_context(Balancer(f"haproxy-{instances}", servers, bench.workdir))
        token = fetch_token(servers[0].port)
        path = bench.workdir / "scale-out.req"
        source = Source(lambda p, n: write_requests(p, mix_requests(one.port, db.users, n, token, db.pool_id)),
                        path, once=False, cycle_count=10_000)
        _check_every_instance_answers(servers, token, db.pool_id)
        targets: list[tuple[str, Any]] = [
            ("1 instance, direct", servers[0]),
            ("1 instance via HAProxy", one),
            (f"{instances} instances via HAProxy", many),
        ]
        app_pids = sorted(chain.from_iterable(s.all_pids() for s in servers))
        haproxy_pids = one.haproxy_pids() + many.haproxy_pids()
        for _, target in targets:
            warm_up(wrk, target, source, conns, timing)
        runs: list[list[Any]] = [[] for _ in targets]
        cpu: list[list[dict[str, float]]] = [[] for _ in targets]
        attempts: list[dict[str, float]] = []

        def account() -> Any:  # the CPU of each attempt (a run is repeated when its workers were unbalanced)
            ledger = CpuLedger(db.url, app_pids, haproxy_pids)
            return lambda r: attempts.append({**ledger.stop(), "wrk_s": r.wrk_cpu * r.wall_seconds,
                                              "requests": r.requests})

        for _ in range(timing.runs):
            for index, (_, target) in enumerate(targets):
                runs[index].append(run_once(wrk, target, source, conns, timing.seconds, timing.wrk_threads, account))
                cpu[index].append(attempts[-1])  # the attempt that was kept
        rows = []
        for (label, target), r, c in zip(targets, runs, cpu, strict=True):
            row = {"config": label, "connections": conns, **summarize(r, target.peak_rss_mb()),
                   "cpu_per_request_us": per_request(c)}
            rows.append(row)
            bench.log_cell(f"{label:>26}", row)
    base, base_cpu = rows[0]["rps"]["median"], rows[0]["cpu_per_request_us"]["total"]
    for row in rows:
        row["ratio_to_direct"] = row["rps"]["median"] / base if base else None
        row["cpu_ratio_to_direct"] = row["cpu_per_request_us"]["total"] / base_cpu if base_cpu else None
    return {"scenario": MIX_NAME, "backend": "postgresql", "users": db.users, "instances": instances,
            "workers_per_instance": workers, "rows": rows, "model": model(rows[0])}


def _check_every_instance_answers(servers: list[Server], token: str, pool_id: str) -> None:
    """One get-mfa-status through each instance before timing: a broken instance fails here, not as 502s."""
    for server in servers:
        raw = next(scenario_requests("get-mfa-status", "user_id", "token", server.port, 1, 1, token, pool_id))
        target = raw.split(b" ", 2)[1].decode()
        request = urllib.request.Request(f"http://127.0.0.1:{server.port}{target}",
                                         headers={"authorization": f"Bearer {token}", "x-genauth-userpool-id": pool_id})
        with urllib.request.urlopen(request, timeout=30) as resp:
            if json.load(resp).get("statusCode") != 200:
                raise RuntimeError(f"instance on port {server.port} does not answer get-mfa-status")


def per_request(samples: list[dict[str, float]]) -> dict[str, float]:
    """Microseconds of CPU per request served, over all runs of one configuration."""
    requests = sum(s["requests"] for s in samples) or 1
    used = {k.removesuffix("_s"): sum(s[k] for s in samples) / requests * 1e6
            for k in ("app_s", "db_s", "haproxy_s", "wrk_s")}
    return {**used, "total": sum(used.values())}


def model(direct: dict[str, Any]) -> dict[str, Any]:
    """The capacity model's inputs and its prediction for this machine, from the direct runs.  Everything
    shares the same cores here, so throughput ~ cores / (app + db + load generator) CPU per request; on a
    shared machine only the cores the neighbours left (cores - background) count."""
    cpu = direct["cpu_per_request_us"]
    cores = os.cpu_count() or 1
    shared = cpu["app"] + cpu["db"] + cpu["wrk"]
    free = max(0.0, cores - direct["background_cpu"])
    return {
        "cores": cores,
        "app_us": cpu["app"],
        "db_us": cpu["db"],
        "app_rps_per_core": 1e6 / cpu["app"] if cpu["app"] else None,
        "db_rps_per_core": 1e6 / cpu["db"] if cpu["db"] else None,
        "predicted_rps_idle_machine": cores / shared * 1e6 if shared else None,
        "free_cores": free,
        "predicted_rps_free_cores": free / shared * 1e6 if shared else None,
        "measured_rps": direct["rps"]["median"],
    }
