"""wrk: find it, run it with bench/lua/replay.lua, and read its JSON line back."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

LUA = Path(__file__).resolve().parent.parent / "lua" / "replay.lua"
_MARK = "BENCH_RESULT "


class WrkUnavailable(RuntimeError):
    pass


def find_wrk() -> str:
    """Return the path of ``wrk``.  The harness never installs it: installing needs root and changes the
    machine, which only the CI script may do (``.ci/run`` installs the Debian package when it is missing)."""
    found = shutil.which("wrk")
    if found is None:
        raise WrkUnavailable("wrk not installed: install it first (Debian/Ubuntu: apt-get install wrk)")
    return found


def wrk_version(binary: str) -> str:
    done = subprocess.run([binary, "-v"], capture_output=True, text=True, check=False)
    return (done.stdout or done.stderr).splitlines()[0].strip() if (done.stdout or done.stderr) else "?"


@dataclass
class WrkRun:
    rps: float
    requests: int
    seconds: float
    p50_ms: float
    p90_ms: float
    p99_ms: float
    max_ms: float
    socket_errors: int
    bad: int  # responses that were not HTTP 200 + statusCode 200
    exhausted: bool  # a BENCH_ONCE request file ran out: the rate is a lower bound
    wrk_cpu: float  # wrk's CPU time / wall time (1.0 = one core busy)
    sample: str | None
    wall_seconds: float = 0.0
    background_cpu: float = 0.0  # cores used by other processes meanwhile (harness/cpu.py)
    worker_balance: float = 1.0  # CPU of the least busy worker / the busiest (harness/cpu.py)
    server_cpu: float = 0.0  # CPU seconds of the server's processes during the run (harness/cpu.py)
    attempts: int = 1  # runs discarded because one worker had accepted (nearly) every connection, + 1

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def run_wrk(
    binary: str,
    port: int,
    requests_file: Path,
    connections: int,
    seconds: int,
    threads: int = 1,
    once: bool = False,
    expect: str | None = None,
) -> WrkRun:
    threads = max(1, min(threads, connections))
    env = dict(
        os.environ,
        BENCH_REQUESTS=str(requests_file),
        BENCH_THREADS=str(threads),
        BENCH_ONCE="1" if once else "0",
    )
    if expect is not None:
        env["BENCH_EXPECT"] = expect
    command = [
        binary,
        "-t",
        str(threads),
        "-c",
        str(connections),
        "-d",
        f"{seconds}s",
        "--timeout",
        "10s",
        "--latency",
        "-s",
        str(LUA),
        f"http://127.0.0.1:{port}/",
    ]
    started = time.monotonic()
    proc = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.monotonic() - started
    proc.returncode = os.waitstatus_to_exitcode(status)
    out = proc.stdout.read().decode() if proc.stdout else ""
    err = proc.stderr.read().decode() if proc.stderr else ""
    line = next((ln for ln in out.splitlines() if ln.startswith(_MARK)), None)
    if proc.returncode != 0 or line is None:
        raise RuntimeError(f"wrk failed ({proc.returncode}): {err.strip()[-500:] or out[-500:]}")
    data = json.loads(line[len(_MARK) :])
    errors = data["errors"]
    secs = data["duration_us"] / 1e6
    lat = data["latency_us"]
    return WrkRun(
        rps=data["requests"] / secs if secs else 0.0,
        requests=data["requests"],
        seconds=secs,
        p50_ms=lat["p50"] / 1000,
        p90_ms=lat["p90"] / 1000,
        p99_ms=lat["p99"] / 1000,
        max_ms=lat["max"] / 1000,
        socket_errors=errors["connect"] + errors["read"] + errors["write"] + errors["timeout"],
        bad=data["bad"],
        exhausted=bool(data["exhausted"]),
        wrk_cpu=(usage.ru_utime + usage.ru_stime) / wall if wall else 0.0,
        sample=data["sample"],
        wall_seconds=wall,
    )
