"""One cell of the matrix: warm up, several timed wrk runs, median and spread, peak RSS per worker."""

from __future__ import annotations

import statistics
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .cpu import Meter
from .servers import Server
from .wrk import WrkRun, run_wrk

# Sizing of request files that may be sent only once (signed requests): the best rate seen so far for
# this scenario on this server (the warm-up runs at the most connections), with a margin.  Signing costs
# ~50-100 us per request in Python, so the files are kept no larger than they need to be.
_ONCE_PRIOR_RPS = 4000
_ONCE_MARGIN = 1.6
_ONCE_MAX = 400_000
# A run in which one worker did less than this share of the busiest worker's work is repeated (at most
# _ATTEMPTS times): with several workers, the kernel sometimes hands nearly all of wrk's connections to one.
_BALANCE_FLOOR = 0.5
_ATTEMPTS = 3


@dataclass(frozen=True)
class Timing:
    runs: int
    seconds: int
    warmup: int
    wrk_threads: int


class Source:
    """Where a cell's requests come from: a file cycled through, or fresh signed ones for every run."""

    def __init__(
        self,
        make: Callable[[Path, int], int],
        path: Path,
        once: bool,
        cycle_count: int = 5000,
        expect: str | None = None,
        margin: float = _ONCE_MARGIN,
    ):
        """``expect``: text every answer must contain (default: Twofold's ``"statusCode":200``);
        ``margin``: how much larger than the best rate seen a send-once file is made."""
        self._make, self.path, self.once, self.expect = make, path, once, expect
        self._margin = margin
        self._made = False
        self._cycle_count = cycle_count
        self.estimate: float | None = None

    def prepare(self, seconds: int) -> Path:
        if self.once:
            rate = self.estimate if self.estimate is not None else _ONCE_PRIOR_RPS
            count = min(_ONCE_MAX, int(rate * seconds * self._margin) + 500)
            self._make(self.path, count)
        elif not self._made:
            self._make(self.path, self._cycle_count)
            self._made = True
        return self.path

    def observe(self, run: WrkRun) -> None:
        if run.exhausted:  # the file was too small: the rate seen is a lower bound
            self.estimate = 2 * max(self.estimate or 0.0, run.rps, _ONCE_PRIOR_RPS / 2)
        else:
            self.estimate = max(self.estimate or 0.0, run.rps)


def _run(
    wrk: str,
    server: Server,
    source: Source,
    connections: int,
    seconds: int,
    threads: int,
    each_attempt: Callable[[], Callable[[WrkRun], None]] | None = None,
) -> WrkRun:
    """One timed wrk run (repeated when the workers were unbalanced, see ``_BALANCE_FLOOR``).
    ``each_attempt`` is called before every attempt; what it returns is given that attempt's result."""
    for attempt in range(1, _ATTEMPTS + 1):
        attempted = each_attempt() if each_attempt is not None else None
        result = _run_once(wrk, server, source, connections, seconds, threads)
        if attempted is not None:
            attempted(result)
        result.attempts = attempt
        if result.worker_balance >= _BALANCE_FLOOR or connections < 2 * server.workers:
            break
    return result


def _run_once(
    wrk: str, server: Server, source: Source, connections: int, seconds: int, threads: int
) -> WrkRun:
    path = source.prepare(seconds)
    meter = Meter(server.all_pids(), server.worker_pids())
    result = run_wrk(
        wrk, server.port, path, connections, seconds, threads, once=source.once, expect=source.expect
    )
    result.background_cpu = meter.stop(result.wall_seconds, result.wrk_cpu * result.wall_seconds)
    result.worker_balance = meter.worker_balance()
    result.server_cpu = meter.server_seconds()
    source.observe(result)
    return result


run_once = _run


def warm_up(wrk: str, server: Server, source: Source, connections: int, timing: Timing) -> None:
    if timing.warmup > 0:
        _run(wrk, server, source, connections, timing.warmup, timing.wrk_threads)


def measure(wrk: str, server: Server, source: Source, connections: int, timing: Timing) -> dict[str, Any]:
    server.reset_peak_rss()
    runs = [
        _run(wrk, server, source, connections, timing.seconds, timing.wrk_threads) for _ in range(timing.runs)
    ]
    rss = server.peak_rss_mb()
    return summarize(runs, rss)


def measure_paired(
    wrk: str, pairs: list[tuple[Server, Source]], connections: int, timing: Timing
) -> list[dict[str, Any]]:
    """The same cell on several servers, their runs interleaved (A B A B ...), so that a busy neighbour
    slows both sides of a comparison alike instead of only one of them."""
    for server, _ in pairs:
        server.reset_peak_rss()
    runs: list[list[WrkRun]] = [[] for _ in pairs]
    for _ in range(timing.runs):
        for index, (server, source) in enumerate(pairs):
            runs[index].append(_run(wrk, server, source, connections, timing.seconds, timing.wrk_threads))
    return [summarize(r, server.peak_rss_mb()) for r, (server, _) in zip(runs, pairs, strict=True)]


def summarize(runs: list[WrkRun], rss: list[float]) -> dict[str, Any]:
    rates = [r.rps for r in runs]
    median = statistics.median(rates)
    requests = sum(r.requests for r in runs)
    bad = sum(r.bad for r in runs)
    socket_errors = sum(r.socket_errors for r in runs)
    return {
        "rps": {
            "median": median,
            "min": min(rates),
            "max": max(rates),
            "spread_pct": (max(rates) - min(rates)) / median * 100 if median else 0.0,
        },
        "latency_ms": {
            "p50": statistics.median(r.p50_ms for r in runs),
            "p99": statistics.median(r.p99_ms for r in runs),
            "max": max(r.max_ms for r in runs),
        },
        "rss_mb": {"per_worker": [round(m, 1) for m in rss], "max": max(rss) if rss else 0.0},
        "wrk_cpu": statistics.median(r.wrk_cpu for r in runs),
        "background_cpu": statistics.median(r.background_cpu for r in runs),
        "worker_balance": min(r.worker_balance for r in runs),
        # Server CPU per answer: steadier than req/s on a shared machine (a busy neighbour takes cores
        # away, not much CPU time per request).
        "server_cpu_us": statistics.median(r.server_cpu / r.requests * 1e6 for r in runs if r.requests)
        if any(r.requests for r in runs)
        else None,
        "unbalanced_runs_repeated": sum(r.attempts - 1 for r in runs),
        "requests": requests,
        "bad_responses": bad,
        "socket_errors": socket_errors,
        "exhausted": any(r.exhausted for r in runs),
        "valid": requests > 0
        and bad + socket_errors <= requests * 0.001
        and not any(r.exhausted for r in runs),
        "error_sample": next((r.sample for r in runs if r.sample), None),
        "runs": [r.as_dict() for r in runs],
    }
