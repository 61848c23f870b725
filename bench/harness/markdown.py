"""The Markdown rendering of a results document (bench/results/latest.md)."""

from __future__ import annotations

from typing import Any

from .report import BULK_PATHS


def _n(value: float | None, digits: int = 0) -> str:
    return "—" if value is None else f"{value:,.{digits}f}"


def _x(value: float | None) -> str:
    return "—" if value is None else f"{value:.2f}"


def _pct(value: float | None) -> str:
    return "—" if value is None else f"{value:.0%}"


def _table(header: list[str], rows: list[list[str]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    return lines + ["| " + " | ".join(row) + " |" for row in rows] + [""]


def _flag(cell: dict[str, Any]) -> str:
    if cell["valid"]:
        return ""
    why = [] if cell["requests"] else ["no answer in time"]
    if cell["bad_responses"] or cell["socket_errors"]:
        why.append(f"{cell['bad_responses'] + cell['socket_errors']} errors")
    if cell["exhausted"]:
        why.append("request file ran out: lower bound")
    return " ⚠ " + ", ".join(why)


def render(results: dict[str, Any]) -> str:
    meta = results["meta"]
    out = [f"# Twofold benchmark — {meta['started_at']}", ""]
    machine = meta["machine"]
    out += [
        f"Machine: {machine['nproc']} CPUs ({machine['cpu_model']}), {machine['mem_gib']:.1f} GiB RAM; "
        f"load average {meta['load_start']} at start, {meta.get('load_end', '?')} at the end. "
        f"Commit `{meta['commit']}`. {meta['versions']}.",
        "",
        "bg CPU = cores used by *other* processes during the runs (this machine is shared; harness/cpu.py): "
        "a cell with a high value was measured on a busy machine. With several workers, a run in which one "
        "worker did less than half the work of another (the kernel gave it few of wrk's connections) is "
        "repeated, up to 3 attempts (`unbalanced_runs_repeated` in the JSON).",
        "",
        f"Each cell: {meta['timing']['warmup']} s warm-up per scenario, then {meta['timing']['runs']} timed wrk "
        f"runs of {meta['timing']['seconds']} s ({meta['timing']['wrk_threads']} wrk thread(s)); median and "
        "spread ((max − min) / median) of req/s, medians of p50/p99. ×PO = ratio to the parse-only baseline "
        "at the same workers and connections. RSS = peak resident memory (VmHWM) of the busiest worker. "
        f"Wall time of the whole run: {_n(meta.get('elapsed_s'))} s.",
        "",
        "## Targets (issues 5 and 13)",
        "",
    ]
    out += _table(
        ["target", "measured", "required", "met"],
        [
            [
                t["target"],
                _x(t["measured"]) if t["measured"] is not None else "—",
                t["required"],
                {True: "yes", False: "**no**", None: "n/a"}[t["met"]]
                + (f" — {t['note']}" if t["note"] else ""),
            ]
            for t in results["targets"]
        ],
    )
    out += ["## Baselines and the load generator's ceiling", ""]
    base = [c for c in results["cells"] if c["kind"] == "baseline" and c.get("phase", "main") == "main"]
    bg = "bg CPU"
    out += _table(
        ["app", "workers", "conns", "req/s", "spread", "p50 ms", "p99 ms", "RSS MB", "wrk CPU", bg],
        [
            [
                c["name"],
                str(c["workers"]),
                str(c["connections"]),
                _n(c["rps"]["median"]) + _flag(c),
                f"{c['rps']['spread_pct']:.0f}%",
                _n(c["latency_ms"]["p50"], 2),
                _n(c["latency_ms"]["p99"], 2),
                _n(c["rss_mb"]["max"], 1),
                f"{c['wrk_cpu']:.2f}",
                f"{c.get('background_cpu', 0):.2f}",
            ]
            for c in base
        ],
    )
    if results["wrk"].get("ceiling"):
        out += [
            "wrk's ceiling: against the bare app wrk used the CPU shown; the rate at which wrk itself would "
            "be saturated is estimated as req/s × threads / CPU:",
            "",
        ]
        out += _table(
            ["workers", "conns", "bare req/s", "wrk CPU (cores)", "wrk saturates at ≈ req/s"],
            [
                [
                    str(r["workers"]),
                    str(r["connections"]),
                    _n(r["bare_rps"]),
                    f"{r['wrk_cpu_cores']:.2f}",
                    _n(r["wrk_saturation_rps_est"]),
                ]
                for r in results["wrk"]["ceiling"]
            ],
        )
    for backend in ("sqlite", "postgresql"):
        cells = [c for c in results["cells"] if c.get("backend") == backend and c.get("phase") == "main"]
        if not cells:
            continue
        out += [f"## Twofold on {backend}", ""]
        out += _table(
            [
                "scenario",
                "users",
                "w",
                "conns",
                "req/s",
                "spread",
                "×PO",
                "p50 ms",
                "p99 ms",
                "×PO p99",
                "RSS MB",
                "×PO RSS",
                bg,
            ],
            [
                [
                    c["name"],
                    f"{c['users']:,}",
                    str(c["workers"]),
                    str(c["connections"]),
                    _n(c["rps"]["median"]) + _flag(c),
                    f"{c['rps']['spread_pct']:.0f}%",
                    _x((c.get("ratios") or {}).get("rps_vs_parse_only")),
                    _n(c["latency_ms"]["p50"], 2),
                    _n(c["latency_ms"]["p99"], 2),
                    _x((c.get("ratios") or {}).get("p99_vs_parse_only")),
                    _n(c["rss_mb"]["max"], 1),
                    _x((c.get("ratios") or {}).get("rss_vs_parse_only")),
                    f"{c.get('background_cpu', 0):.2f}",
                ]
                for c in cells
            ],
        )
    out += _write_floor(results)
    out += _signin(results)
    if results.get("scaling"):
        out += [
            "## User-count scaling",
            "",
            "Both pools served at once by two servers; their runs interleaved (A B A B …) so that background "
            "load hits both alike.",
            "",
        ]
        out += _table(
            [
                "backend",
                "scenario",
                "w",
                "conns",
                "req/s small pool",
                "req/s large pool",
                "large/small",
                "p99 small",
                "p99 large",
            ],
            [
                [
                    r["backend"],
                    r["scenario"],
                    str(r["workers"]),
                    str(r["connections"]),
                    f"{_n(r['rps_small'])} ({r['small_users']:,})",
                    f"{_n(r['rps_large'])} ({r['large_users']:,})",
                    _pct(r["large_vs_small"]),
                    _n(r["p99_small"], 2),
                    _n(r["p99_large"], 2),
                ]
                for r in results["scaling"]
            ],
        )
    out += _scale_out(results.get("scale_out"))
    out += ["## Bulk import (users with MFA status)", ""]
    rows = []
    for r in results.get("bulk", []):
        path = BULK_PATHS.get(r.get("path", ""), r.get("path", "?"))
        if "users_per_s" not in r:
            rows.append([r["backend"], path, "—", "—", "—", "—", "unavailable: " + r.get("unavailable", "?")])
            continue
        detail = (
            f"create {r['create_users_per_s']:,.0f}/s, set-mfa-status {r['set_status_per_s']:,.0f}/s"
            if "create_users_per_s" in r
            else f"CPU: client {r['client_cores']:.2f}, server {r['server_cores']:.2f}, others {r['background_cpu']:.2f} cores"
            if "client_cores" in r
            else ""
        )
        rows.append(
            [
                r["backend"],
                path,
                f"{r['users']:,}",
                str(r["workers"]),
                str(r["connections"]),
                f"{r['seconds']:.1f}",
                _n(r["users_per_s"]) + (f" ({detail})" if detail else ""),
            ]
        )
    out += _table(["backend", "path", "users", "w", "client conns", "seconds", "users/s"], rows)
    if results.get("peers"):
        out += ["## Peers (same machine, same wrk)", ""]
        out += _table(
            ["peer", "call", "version", "w", "conns", "req/s", "p50 ms", "p99 ms"],
            [
                [
                    p["peer"],
                    p["call"],
                    p.get("version", "—"),
                    str(p.get("workers", "—")),
                    str(p.get("connections", "—")),
                    _n(p.get("rps")) if p.get("rps") else "unavailable: " + p.get("unavailable", "?"),
                    _n(p.get("p50_ms"), 2),
                    _n(p.get("p99_ms"), 2),
                ]
                for p in results["peers"]
            ],
        )
    if results.get("unavailable"):
        out += (
            ["## Not measured, or interrupted", ""]
            + [f"* {u['what']}: unavailable: {u['reason']}" for u in results["unavailable"]]
            + [""]
        )
    return "\n".join(out)


_FLOORS = {"parse_only": "parse-only", "argon2": "raw Argon2", "floor_write": "parse-only + UPDATE"}


def _write_floor(results: dict[str, Any]) -> list[str]:
    """Issue 13: set-mfa-status with its floor measured in alternation with it (harness/write_phase.py)."""
    cells = [c for c in results["cells"] if c.get("phase") == "write" and c["kind"] == "twofold"]
    if not cells:
        return []
    out = [
        "## The write path against its floor (issue 13)",
        "",
        "`set-mfa-status` by user id, a user drawn at random from a small pool, Twofold with its default "
        "logging; each cell's floor measured in alternation with it (A B A B A B, the same requests): on "
        "PostgreSQL `bench/apps/floor_write.py` (the parse-only endpoint plus one raw asyncpg UPDATE of "
        "the stored status), on SQLite the parse-only app. *ratio* = median req/s ÷ the floor's. *CPU us/req* = "
        "CPU time of the server's processes per answer (PostgreSQL's not counted), the median of the runs: on "
        "a busy machine it moves much less than req/s.",
        "",
    ]
    rows = [
        [
            c["backend"],
            f"{c['users']:,}",
            str(c["workers"]),
            str(c["connections"]),
            _n(c["rps"]["median"]) + _flag(c),
            f"{c['rps']['spread_pct']:.0f}%",
            _FLOORS[c["floor"]["name"]],
            _n(c["floor"]["rps"]),
            _x(c.get("vs_floor")),
            _n(c["latency_ms"]["p50"], 2),
            _n(c["latency_ms"]["p99"], 2),
            _n(c["floor"]["p99_ms"], 2),
            _n(c.get("server_cpu_us")),
            _n(c["floor"].get("server_cpu_us")),
            f"{c.get('background_cpu', 0):.2f}",
        ]
        for c in cells
    ]
    header = ["backend", "users", "w", "conns", "req/s", "spread", "floor", "floor req/s", "ratio"]
    header += ["p50 ms", "p99 ms", "floor p99 ms", "CPU us/req", "floor CPU us/req", "bg CPU"]
    return out + _table(header, rows)
def _scale_out(phase: dict[str, Any] | None) -> list[str]:
    if not phase:
        return []
    out = [
        "## Scale-out behind HAProxy",
        "",
        f"{phase['scenario']}; PostgreSQL, {phase['users']:,} users; every instance `twofold serve` with "
        f"{phase['workers_per_instance']} worker(s); Debian's HAProxy with the shipped `deploy/haproxy.cfg`. All "
        "instances up at once, runs interleaved (A B C A B C …).",
        "",
        "**On this machine it shows overhead, not gain.** The instances, PostgreSQL, HAProxy and wrk share the "
        "same 2 cores, so no number of instances can serve more than the cores allow: throughput ≤ cores / CPU "
        "per request, and more instances only add HAProxy's hop and more processes competing for the cores. "
        "What the extra instances cost shows in the CPU per request (µs of CPU, summed over the Twofold "
        "processes, the PostgreSQL backends of the benchmark's database, HAProxy and wrk), which does not "
        "depend on the neighbours. A req/s ratio above 1 here is not a gain: on a shared machine (background "
        "column: cores other processes used meanwhile) more processes get a larger share of the cores.",
        "",
    ]
    out += _table(
        ["configuration", "conns", "req/s", "vs 1 direct", "p50 ms", "p99 ms", "app µs", "db µs", "HAProxy µs",
         "wrk µs", "CPU µs/req", "CPU vs 1 direct", "background cores"],
        [
            [
                r["config"] + _flag(r),
                str(r["connections"]),
                _n(r["rps"]["median"]),
                _x(r["ratio_to_direct"]),
                _n(r["latency_ms"]["p50"], 2),
                _n(r["latency_ms"]["p99"], 2),
                *(_n(r["cpu_per_request_us"][k]) for k in ("app", "db", "haproxy", "wrk", "total")),
                _x(r["cpu_ratio_to_direct"]),
                _x(r["background_cpu"]),
            ]
            for r in phase["rows"]
        ],
    )
    m = phase["model"]
    out += [
        f"Capacity model (docs/performance.md#capacity), from the direct runs: one core serves "
        f"{_n(m['app_rps_per_core'])} req/s of Twofold CPU and {_n(m['db_rps_per_core'])} req/s of PostgreSQL "
        f"CPU. With Twofold, PostgreSQL and wrk on the same {m['cores']} cores it predicts "
        f"{_n(m['predicted_rps_idle_machine'])} req/s on an idle machine, and {_n(m['predicted_rps_free_cores'])} "
        f"req/s on the {_x(m['free_cores'])} cores the neighbours left during the runs (measured: "
        f"{_n(m['measured_rps'])}).",
        "",
    ]
    return out



def _signin(results: dict[str, Any]) -> list[str]:
    """Issue 10: each sign-in cell with the floor measured in alternation with it (harness/signin_phase.py)."""
    cells = [c for c in results["cells"] if c.get("phase") == "signin" and c["kind"] == "twofold"]
    if not cells:
        return []
    out = [
        "## Sign-in (issue 10)",
        "",
        "Each cell's floor was measured in alternation with it (A B A B A B, same wrk, same seconds): "
        "`mfa-totp-verify` against the parse-only app, `signin.password` against raw Argon2 verifications "
        "(`PasswordHasher().verify`, the server's parameters, through `asyncio.to_thread` on as many "
        "processes as the server has workers, with as many in flight as wrk has connections). "
        "*ratio* = median req/s ÷ the floor's median req/s; *pooled* = all answers of the cell's runs per "
        "second ÷ all of its floor's (steadier for the sign-in, whose runs hold a few dozen answers). *answers* = answers as expected / not: `verified: true` for "
        "the right code, `verified: false` for the wrong one, the token set for a sign-in. "
        "`.right`: every request a different user with a fresh valid code (the replay guard spends one "
        "step per user); `.wrong`: wrong codes cycling over their own users, so each user's first five "
        "are counted and the rest meet the lock.",
        "",
    ]
    rows = []
    for c in cells:
        floor = c.get("floor") or {}
        answers = c.get("answers") or {}
        rows.append(
            [
                c["backend"],
                c["name"],
                str(c["workers"]),
                str(c["connections"]),
                _n(c["rps"]["median"], 1 if c["rps"]["median"] < 100 else 0) + _flag(c),
                f"{c['rps']['spread_pct']:.0f}%",
                _FLOORS.get(floor.get("name", ""), floor.get("name", "—")),
                _n(floor.get("rps"), 1 if (floor.get("rps") or 0) < 100 else 0),
                _x(c.get("vs_floor")),
                _x(c.get("vs_floor_pooled")),
                _n(c["latency_ms"]["p50"], 2),
                _n(c["latency_ms"]["p99"], 2),
                _n(floor.get("p99_ms"), 2),
                f"{answers.get('as_expected', 0):,} / {answers.get('not', 0):,}",
                f"{c.get('background_cpu', 0):.2f}",
            ]
        )
    out += _table(
        [
            "backend",
            "scenario",
            "w",
            "conns",
            "req/s",
            "spread",
            "floor",
            "floor req/s",
            "ratio",
            "pooled",
            "p50 ms",
            "p99 ms",
            "floor p99 ms",
            "answers",
            "bg CPU",
        ],
        rows,
    )
    return out
