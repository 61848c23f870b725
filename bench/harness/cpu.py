"""How much CPU *other* processes used during a run: this machine is shared, and a test suite running
next to the benchmark takes cores away from the server under test.  Each run records

    background cores = (busy CPU of the whole machine - the server's processes - PostgreSQL - wrk - us)
                       / wall time

so a report can tell a slow server from a busy neighbour.
"""

from __future__ import annotations

import os
from pathlib import Path

_TICK = os.sysconf("SC_CLK_TCK")


def machine_busy_seconds() -> float:
    fields = Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]
    user, nice, system, _idle, _iowait, irq, softirq, steal = (int(x) for x in fields[:8])
    return (user + nice + system + irq + softirq + steal) / _TICK


def process_seconds(pid: int) -> float:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return 0.0
    fields = stat.rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / _TICK  # utime, stime


def postgres_pids() -> list[int]:
    pids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if (entry / "comm").read_text().strip() == "postgres":
                    pids.append(int(entry.name))
            except OSError:
                continue
    return pids


class Meter:
    """Start before a run, ``stop(wall, wrk_cpu_seconds)`` after it: the background CPU in cores."""

    def __init__(self, pids: list[int], workers: list[int] | None = None) -> None:
        self._pids = [*pids, os.getpid()] + postgres_pids()
        self._server = {pid: process_seconds(pid) for pid in pids}
        self._workers = {pid: process_seconds(pid) for pid in workers or []}
        self._busy = machine_busy_seconds()
        self._ours = sum(process_seconds(p) for p in self._pids)

    def worker_balance(self) -> float:
        """CPU of the least busy worker / the busiest one during the run (1.0 with a single worker).

        uvicorn's workers share one listening socket; when wrk opens all its connections at once, the
        worker that wakes first may accept nearly all of them, and the run measures one worker only.
        """
        used = [process_seconds(pid) - start for pid, start in self._workers.items()]
        if len(used) < 2 or max(used) <= 0:
            return 1.0
        return min(used) / max(used)

    def server_seconds(self) -> float:
        """CPU seconds the server's own processes used since the start (the database's not counted)."""
        return sum(process_seconds(pid) - start for pid, start in self._server.items())

    def stop(self, wall: float, wrk_cpu_seconds: float) -> float:
        busy = machine_busy_seconds() - self._busy
        pids = set(self._pids) | set(postgres_pids())  # backends started during the run count as ours
        ours = sum(process_seconds(p) for p in pids) - self._ours
        return max(0.0, (busy - ours - wrk_cpu_seconds) / wall) if wall else 0.0
