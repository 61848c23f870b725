"""Issue 13's sign-in targets in the harness's table: each sign-in cell judged against the floor it was
measured with, at 2 workers and its most connections, on each backend (bench/harness/report.py)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))

from harness import report  # noqa: E402


def cell(backend: str, name: str, workers: int, conns: int, pooled: float, floor: str = "parse_only") -> dict[str, Any]:
    return {
        "phase": "signin", "kind": "twofold", "backend": backend, "name": name, "workers": workers,
        "connections": conns, "vs_floor_pooled": pooled, "latency_ms": {"p99": 10.0 * conns},
        "floor": {"name": floor, "p99_ms": 1.0},
    }


def test_each_sign_in_cell_is_judged_against_its_own_floor_at_the_target_point() -> None:
    cells = [
        cell("sqlite", "mfa-totp-verify.right", 2, 16, 0.9),  # fewer connections: not the target point
        cell("sqlite", "mfa-totp-verify.right", 2, 64, 0.45),
        cell("sqlite", "mfa-totp-verify.right", 1, 64, 0.9),  # one worker: not the target point
        cell("postgresql", "mfa-totp-verify.wrong", 2, 64, 0.5),
        cell("postgresql", "signin.password", 2, 4, 0.89, floor="argon2"),
        {"phase": "main", "kind": "twofold", "name": "get-mfa-status.user_id.token"},
    ]
    rows = {r["target"]: r for r in report.signin_targets(cells)}
    right = rows["mfa-totp-verify.right on sqlite (64 conn, 2 workers) vs parse-only (issue 13)"]
    assert (right["measured"], right["met"]) == (0.45, False)
    assert rows["mfa-totp-verify.wrong on postgresql (64 conn, 2 workers) vs parse-only (issue 13)"]["met"] is True
    password = rows["signin.password on postgresql (4 conn, 2 workers) vs raw Argon2 (issue 13)"]
    assert (password["required"], password["met"]) == (">= 90%", False)
    p99 = rows["mfa-totp-verify.right on sqlite (64 conn, 2 workers) p99 ms"]
    assert (p99["measured"], p99["met"]) == (640.0, None)
    assert len(rows) == 6  # three cells, a ratio and a p99 each; nothing for scenarios not measured
