"""The benchmark harness runs end to end (``bench/run.py --quick``) and writes a well-formed result.

No timed assertions: the numbers live in bench/results/ and docs/performance.md, not in the test suite.
The quick run needs ``wrk``; without it the test is skipped (the harness never installs anything; .ci/run
installs wrk on CI machines).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import pytest

RUN = Path(__file__).resolve().parents[2] / "bench" / "run.py"
SCENARIO = "get-mfa-status.user_id.token"


def test_quick_run_writes_json_and_markdown_with_positive_figures(tmp_path: Path) -> None:
    if shutil.which("wrk") is None:
        pytest.skip("wrk not installed: the benchmark smoke run needs it (Debian/Ubuntu: apt-get install wrk)")
    done = subprocess.run(
        [
            sys.executable,
            str(RUN),
            "--quick",
            "--scenarios",
            SCENARIO,
            "--users",
            "200",
            "--cli-users",
            "300",
            "--output",
            str(tmp_path / "out"),
            "--workdir",
            str(tmp_path / "work"),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    if done.returncode != 0 and "cannot benchmark without wrk" in done.stderr:
        pytest.skip(done.stderr.strip().splitlines()[-1])
    assert done.returncode == 0, done.stderr[-2000:]

    results = json.loads((tmp_path / "out" / "latest.json").read_text())
    assert {"meta", "wrk", "cells", "targets", "bulk", "scaling", "peers"} <= results.keys()
    assert results["meta"]["machine"]["nproc"] >= 1
    by_name = {cell["name"]: cell for cell in results["cells"]}
    assert set(by_name) == {"bare", "parse_only", SCENARIO}
    for cell in by_name.values():
        assert cell["valid"], cell["error_sample"]
        assert cell["requests"] > 0
        assert cell["rps"]["median"] > 0
        assert cell["latency_ms"]["p50"] > 0 and cell["latency_ms"]["p99"] >= cell["latency_ms"]["p50"]
        assert cell["rss_mb"]["max"] > 0
    ours = by_name[SCENARIO]
    assert (ours["backend"], ours["workers"], ours["connections"]) == ("sqlite", 1, 16)
    assert ours["ratios"]["rps_vs_parse_only"] > 0
    assert results["wrk"]["ceiling"][0]["bare_rps"] > 0
    assert "| get-mfa-status.user_id.token |" in (tmp_path / "out" / "latest.md").read_text()
    # `twofold users import` as README shows it: every row created, its wall time and both sides' CPU
    [cli] = [row for row in results["bulk"] if row["path"] == "cli"]
    assert (cli["backend"], cli["users"]) == ("sqlite", 300)
    assert cli["users_per_s"] > 0 and cli["client_cpu_s"] > 0 and cli["server_cpu_s"] > 0
    [target] = [t for t in results["targets"] if "twofold users import" in t["target"]]
    assert target["measured"] == cli["users_per_s"] and target["note"].startswith("CPU: client")


def test_the_in_process_profiler_reports_every_scenario(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, str(RUN.with_name("inprocess.py")), "--users", "50", "--n", "60"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        cwd=tmp_path,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    rows = {line.split()[0]: line.split()[1:] for line in done.stdout.splitlines()[1:] if line.strip()}
    assert {"parse-only", "set-mfa-status.user_id.token", "set-mfa-status.user_id.hmac", SCENARIO} <= rows.keys()
    assert all(float(us) > 0 for us, _ in rows.values())


SIGNIN_SCENARIOS = {"mfa-totp-verify.right", "mfa-totp-verify.wrong", "signin.password"}


def _bench_postgres_url() -> str | None:
    """The harness creates and drops ``<name>_signin`` next to the test database, named after it."""
    url = os.environ.get("TWOFOLD_TEST_POSTGRES_URL")
    if not url:
        return None
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, f"/twofold_bench_smoke_{parts.path.lstrip('/')}", "", ""))


def _quick_run(tmp_path: Path, backend: str, *args: str) -> dict[str, Any]:
    """``run.py --quick`` on ``backend`` with ``args``, which must succeed; its JSON results.  Skips
    without wrk, or without a PostgreSQL to run on."""
    if shutil.which("wrk") is None:
        pytest.skip("wrk not installed: the benchmark smoke run needs it (Debian/Ubuntu: apt-get install wrk)")
    extra = ["--backends", backend]
    if backend == "postgresql":
        base = _bench_postgres_url()
        if base is None:
            pytest.skip("TWOFOLD_TEST_POSTGRES_URL not set")
        extra += ["--postgres-url", base]
    out, work = tmp_path / "out", tmp_path / "work"
    done = subprocess.run(
        [sys.executable, str(RUN), "--quick", *extra, *args, "--output", str(out), "--workdir", str(work)],
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    results: dict[str, Any] = json.loads((out / "latest.json").read_text())
    return results


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_quick_run_measures_the_sign_in_scenarios_against_their_floors(tmp_path: Path, backend: str) -> None:
    """Issue 10: TOTP verification against parse-only, password sign-in against raw Argon2, each cell
    with its floor measured in the same run, every answer the expected one (right code verified, wrong
    code refused, sign-in answered with tokens)."""
    results = _quick_run(tmp_path, backend, "--scenarios", "mfa-totp-verify.*,signin.*", "--signin-users", "20")
    assert results["unavailable"] == [], results["unavailable"]
    signin = [c for c in results["cells"] if c["phase"] == "signin"]
    ours = {c["name"]: c for c in signin if c["kind"] == "twofold"}
    assert set(ours) == SIGNIN_SCENARIOS
    floors = {(c["pair"], c["name"]) for c in signin if c["kind"] == "baseline"}
    assert floors == {
        ("mfa-totp-verify.right", "parse_only"),
        ("mfa-totp-verify.wrong", "parse_only"),
        ("signin.password", "argon2"),
    }
    for name, cell in ours.items():
        assert cell["backend"] == backend and cell["workers"] == 1
        assert cell["valid"], (name, cell["error_sample"])
        assert cell["requests"] > 0 and cell["answers"] == {"as_expected": cell["requests"], "not": 0}
        assert cell["floor"]["rps"] > 0 and cell["vs_floor"] > 0 and cell["vs_floor_pooled"] > 0
        assert cell["latency_ms"]["p99"] >= cell["latency_ms"]["p50"] > 0
    assert ours["signin.password"]["connections"] == 1
    markdown = (tmp_path / "out" / "latest.md").read_text()
    assert "## Sign-in (issue 10)" in markdown
    for name in SIGNIN_SCENARIOS:
        assert f"| {backend} | {name} | 1 |" in markdown


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_quick_run_measures_the_write_against_its_floor(tmp_path: Path, backend: str) -> None:
    """Issue 13: set-mfa-status in alternation with its floor (parse-only + one asyncpg UPDATE on
    PostgreSQL, parse-only on SQLite), every answer a success, the ratio and both CPU costs recorded,
    and the targets table holding the issue's two rows for the backend."""
    results = _quick_run(tmp_path, backend, "--scenarios", "set-mfa-status.floor", "--write-users", "50")
    assert not results["unavailable"], results["unavailable"]
    cells = [c for c in results["cells"] if c.get("phase") == "write"]
    floor = {"sqlite": "parse_only", "postgresql": "floor_write"}[backend]
    assert sorted((c["kind"], c["name"]) for c in cells) == [
        ("baseline", floor),
        ("twofold", "set-mfa-status.user_id.token"),
    ]
    for cell in cells:
        assert cell["valid"], cell["error_sample"]
        assert cell["server_cpu_us"] > 0
    ours = next(c for c in cells if c["kind"] == "twofold")
    assert (ours["backend"], ours["users"], ours["floor"]["name"]) == (backend, 50, floor)
    assert ours["vs_floor"] > 0
    rows = [t for t in results["targets"] if t["target"].startswith(f"issue 13: set-mfa-status on {backend}")]
    assert len(rows) == 2 and all(t["measured"] is not None for t in rows)
    assert "## The write path against its floor (issue 13)" in (tmp_path / "out" / "latest.md").read_text()


def test_quick_run_measures_scale_out_behind_haproxy(tmp_path: Path) -> None:
    """Issue 13: instances behind HAProxy against one instance, direct and through HAProxy, in one run,
    with the CPU per request of each side (the capacity model's inputs)."""
    if shutil.which("haproxy") is None:
        pytest.skip("haproxy not installed (.ci/run installs it)")
    results = _quick_run(
        tmp_path, "postgresql", "--scenarios", "none-of-the-main-matrix", "--scaling-instances", "2", "--users", "200"
    )
    assert results["unavailable"] == [], results["unavailable"]
    phase = results["scale_out"]
    assert (phase["instances"], phase["workers_per_instance"], phase["users"]) == (2, 1, 200)
    rows = {r["config"]: r for r in phase["rows"]}
    assert list(rows) == ["1 instance, direct", "1 instance via HAProxy", "2 instances via HAProxy"]
    for name, row in rows.items():
        assert row["valid"], (name, row["error_sample"])
        assert row["rps"]["median"] > 0 and row["ratio_to_direct"] > 0
        cpu = row["cpu_per_request_us"]
        assert cpu["app"] > 0 and cpu["db"] > 0, (name, cpu)  # both sides did the work
    # HAProxy worked only for the requests that went through it (directly: its health checks alone)
    direct = rows["1 instance, direct"]["cpu_per_request_us"]["haproxy"]
    assert all(rows[n]["cpu_per_request_us"]["haproxy"] > direct for n in list(rows)[1:]), rows
    assert phase["model"]["app_rps_per_core"] > 0 and phase["model"]["db_rps_per_core"] > 0
    markdown = (tmp_path / "out" / "latest.md").read_text()
    assert "## Scale-out behind HAProxy" in markdown and "overhead, not gain" in markdown
    assert "| 2 instances via HAProxy | 16 |" in markdown
