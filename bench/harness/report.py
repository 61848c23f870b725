"""Ratios, targets, and the two outputs: results JSON and a Markdown table."""

from __future__ import annotations

from typing import Any

TARGET_WORKERS, TARGET_CONNECTIONS = 2, 64
SET_SHARE = {"sqlite": 0.50, "postgresql": 0.35}
GET_SHARE = 0.70
P99_LIMIT_MS = 50.0
SCALING_FLOOR = 0.80
BULK_FLOOR = 5000.0
# Issue 13: set-mfa-status against its floor, measured in alternation with it (harness/write_phase.py).
WRITE_FLOOR = {"postgresql": ("floor_write", 0.80, 100.0), "sqlite": ("parse_only", 0.50, 50.0)}
WRITE_FLOOR_TEXT = {
    "floor_write": "the floor (parse-only + one raw asyncpg UPDATE)",
    "parse_only": "parse-only",
}
PEER_FACTORS = {"privacyidea": 20.0, "moto": 10.0}
SIGNIN_FLOORS = {  # issue 13: each sign-in scenario against the floor measured in alternation with it
    "mfa-totp-verify.right": 0.5,
    "mfa-totp-verify.wrong": 0.5,
    "signin.password": 0.9,
}
BULK_PATHS = {
    "genauth": "create-users-batch, then set-mfa-status per user",
    "batch-with-status": "create-users-batch with mfaTriggerData (extension)",
    "cli": "twofold users import users.csv (defaults, CLI wall time)",
}


def _find(cells: list[dict[str, Any]], **match: Any) -> dict[str, Any] | None:
    for cell in cells:
        if all(cell.get(k) == v for k, v in match.items()):
            return cell
    return None


def _div(a: float | None, b: float | None) -> float | None:
    return a / b if a is not None and b else None


def add_ratios(cells: list[dict[str, Any]]) -> None:
    """Every figure also as a ratio to the parse-only baseline of the same workers and connections."""
    for cell in cells:
        base = _find(cells, name="parse_only", workers=cell["workers"], connections=cell["connections"])
        bare = _find(cells, name="bare", workers=cell["workers"], connections=cell["connections"])
        cell.setdefault("phase", "main")
        if base is None:
            cell["ratios"] = None
            continue
        cell["ratios"] = {
            "rps_vs_parse_only": _div(cell["rps"]["median"], base["rps"]["median"]),
            "rps_vs_bare": _div(cell["rps"]["median"], bare["rps"]["median"]) if bare else None,
            "p50_vs_parse_only": _div(cell["latency_ms"]["p50"], base["latency_ms"]["p50"]),
            "p99_vs_parse_only": _div(cell["latency_ms"]["p99"], base["latency_ms"]["p99"]),
            "rss_vs_parse_only": _div(cell["rss_mb"]["max"], base["rss_mb"]["max"]),
        }


def wrk_ceiling(cells: list[dict[str, Any]], threads: int) -> list[dict[str, Any]]:
    """wrk against the bare app: the rate, wrk's own CPU, and the rate at which wrk itself would saturate."""
    rows = []
    for cell in cells:
        if cell["name"] != "bare":
            continue
        cpu = cell["wrk_cpu"]
        rows.append(
            {
                "workers": cell["workers"],
                "connections": cell["connections"],
                "bare_rps": cell["rps"]["median"],
                "wrk_cpu_cores": cpu,
                "wrk_threads": min(threads, cell["connections"]),
                "wrk_saturation_rps_est": _div(
                    cell["rps"]["median"] * min(threads, cell["connections"]), cpu
                ),
            }
        )
    return rows


def scaling(cells: list[dict[str, Any]], small: int, large: int) -> list[dict[str, Any]]:
    """Pairs of scaling cells (measured interleaved on two servers): the large pool against the small."""
    rows = []
    for cell in cells:
        if cell.get("phase") != "scaling" or cell.get("users") != large:
            continue
        ref = _find(
            cells,
            phase="scaling",
            name=cell["name"],
            backend=cell["backend"],
            users=small,
            workers=cell["workers"],
            connections=cell["connections"],
        )
        rows.append(
            {
                "backend": cell["backend"],
                "scenario": cell["name"],
                "workers": cell["workers"],
                "connections": cell["connections"],
                "small_users": small,
                "large_users": large,
                "rps_small": ref["rps"]["median"] if ref else None,
                "rps_large": cell["rps"]["median"],
                "large_vs_small": _div(cell["rps"]["median"], ref["rps"]["median"]) if ref else None,
                "p99_small": ref["latency_ms"]["p99"] if ref else None,
                "p99_large": cell["latency_ms"]["p99"],
            }
        )
    return rows


def _target_point(cells: list[dict[str, Any]]) -> tuple[int, int]:
    workers = max((c["workers"] for c in cells), default=TARGET_WORKERS)
    conns = max((c["connections"] for c in cells), default=TARGET_CONNECTIONS)
    return min(workers, TARGET_WORKERS), min(conns, TARGET_CONNECTIONS)


def targets(results: dict[str, Any], main_users: int) -> list[dict[str, Any]]:
    cells = results["cells"]
    workers, conns = _target_point(cells)
    where = f"{conns} conn, {workers} workers"
    rows: list[dict[str, Any]] = []

    def add(target: str, measured: float | None, required: str, met: bool | None, note: str = "") -> None:
        rows.append({"target": target, "measured": measured, "required": required, "met": met, "note": note})

    for backend, share in SET_SHARE.items():
        for name in (
            "set-mfa-status.user_id.token",
            "set-mfa-status.email.token",
            "set-mfa-status.user_id.hmac",
            "set-mfa-status.email.hmac",
        ):
            cell = _find(
                cells,
                phase="main",
                name=name,
                backend=backend,
                users=main_users,
                workers=workers,
                connections=conns,
            )
            if cell is None or not cell.get("ratios"):
                continue
            ratio = cell["ratios"]["rps_vs_parse_only"]
            add(f"{name} on {backend} ({where}) vs parse-only", ratio, f">= {share:.0%}", ratio >= share)
            p99 = cell["latency_ms"]["p99"]
            add(f"{name} on {backend} ({where}) p99 ms", p99, f"< {P99_LIMIT_MS:.0f} ms", p99 < P99_LIMIT_MS)
        cell = _find(
            cells,
            phase="main",
            name="get-mfa-status.user_id.token",
            backend=backend,
            users=main_users,
            workers=workers,
            connections=conns,
        )
        if cell is not None and cell.get("ratios"):
            ratio = cell["ratios"]["rps_vs_parse_only"]
            add(
                f"get-mfa-status on {backend} ({where}) vs parse-only",
                ratio,
                f">= {GET_SHARE:.0%}",
                ratio >= GET_SHARE,
            )
    for backend, (floor, share, p99_limit) in WRITE_FLOOR.items():
        cell = _find(
            cells, phase="write", kind="twofold", backend=backend, workers=workers, connections=conns
        )
        if cell is None:
            continue
        what = f"issue 13: set-mfa-status on {backend} ({where}, {cell['users']:,} users)"
        ratio = cell["vs_floor"]
        add(
            f"{what} vs {WRITE_FLOOR_TEXT[floor]}",
            ratio,
            f">= {share:.0%}",
            None if ratio is None else ratio >= share,
        )
        p99 = cell["latency_ms"]["p99"]
        add(f"{what} p99 ms", p99, f"< {p99_limit:.0f} ms", p99 < p99_limit)
    rows += signin_targets(cells)
    for row in results.get("scaling", []):
        if row["large_vs_small"] is not None and ".email." in row["scenario"]:
            add(
                f"{row['scenario']} on {row['backend']}: {row['large_users']:,} vs {row['small_users']:,} users",
                row["large_vs_small"],
                f">= {SCALING_FLOOR:.0%} (within 20%)",
                row["large_vs_small"] >= SCALING_FLOOR,
            )
    for row in results.get("bulk", []):
        if row["backend"] != "sqlite" and row["path"] != "cli":  # the CLI's target holds on both
            continue
        what = f"bulk import, {BULK_PATHS.get(row['path'], row['path'])}, {row['backend']}"
        if row.get("users_per_s"):
            ups = row["users_per_s"]
            cpu = (
                f"CPU: client {row['client_cores']:.2f}, server {row['server_cores']:.2f}, others {row['background_cpu']:.2f} cores"
                if "client_cores" in row
                else ""
            )
            add(f"{what}, {row['users']:,} users", ups, f">= {BULK_FLOOR:,.0f} users/s", ups >= BULK_FLOOR, cpu)
        else:
            add(what, None, f">= {BULK_FLOOR:,.0f} users/s", None, row.get("unavailable", ""))
    for peer in results.get("peers", []):
        factor = PEER_FACTORS.get(peer["peer"])
        if factor is None:
            continue
        # Like for like: Twofold with as many workers as the peer, at the peer's connections.
        ours = _find(
            cells,
            phase="main",
            name="set-mfa-status.user_id.token",
            backend="sqlite",
            users=main_users,
            workers=peer.get("workers"),
            connections=peer.get("connections"),
        )
        what = (
            f"set-mfa-status (sqlite) vs {peer['peer']} {peer['call']}, {peer.get('workers', '?')} worker(s)"
        )
        if peer.get("rps") and ours:
            times = ours["rps"]["median"] / peer["rps"]
            add(what, times, f">= {factor:.0f}x", times >= factor)
        else:
            add(
                what,
                None,
                f">= {factor:.0f}x",
                None,
                peer.get("unavailable", "Twofold not measured at this point"),
            )
    return rows


def signin_targets(cells: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Issue 13: every sign-in cell at the target workers (its most connections) against its own floor
    (``vs_floor_pooled``: all answers over all of the floor's, steadier than the median ratio for the
    password sign-in's few answers per run), and its p99 (reported; no limit is set for it)."""
    signin = [c for c in cells if c.get("phase") == "signin" and c["kind"] == "twofold"]
    rows: list[dict[str, Any]] = []
    for backend in ("sqlite", "postgresql"):
        for name, share in SIGNIN_FLOORS.items():
            found = [c for c in signin if c["backend"] == backend and c["name"] == name]
            workers = min(max((c["workers"] for c in found), default=TARGET_WORKERS), TARGET_WORKERS)
            found = [c for c in found if c["workers"] == workers]
            if not found:
                continue
            cell = max(found, key=lambda c: c["connections"])
            floor = "raw Argon2" if cell["floor"]["name"] == "argon2" else "parse-only"
            where = f"{cell['connections']} conn, {workers} workers"
            ratio = cell.get("vs_floor_pooled")
            met = None if ratio is None else ratio >= share
            rows.append(
                {
                    "target": f"{name} on {backend} ({where}) vs {floor} (issue 13)",
                    "measured": ratio,
                    "required": f">= {share:.0%}",
                    "met": met,
                    "note": "",
                }
            )
            p99, floor_p99 = cell["latency_ms"]["p99"], cell["floor"]["p99_ms"]
            rows.append(
                {
                    "target": f"{name} on {backend} ({where}) p99 ms",
                    "measured": p99,
                    "required": "reported",
                    "met": None,
                    "note": f"floor's p99 {floor_p99:.1f} ms",
                }
            )
    return rows
