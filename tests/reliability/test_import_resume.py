"""An import killed midway (SIGKILL of ``twofold users import``), then continued with ``--resume``:
nothing lost, nothing duplicated, every row's MFA status as the file says (docs/reliability.md#crashes)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from pathlib import Path

import httpx

from tests.compat.support import TWOFOLD_BIN, LiveServer

ROWS = 3000
BATCH = 50


def row(i: int) -> str:
    policies = "SMS:1:0;EMAIL:0:1" if i % 2 else "OTP:1:0"
    return f"imp{i},imp{i}@example.com,{policies},139{i:08d}"


def cli_env(server: LiveServer) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TWOFOLD_")}
    env.update({"TWOFOLD_HOST": server.base_url, "TWOFOLD_ACCESS_KEY_ID": server.access_key_id,
                "TWOFOLD_ACCESS_KEY_SECRET": server.access_key_secret})
    return env


def saved_position(state: Path) -> int:
    try:
        return int(json.loads(state.read_text())["nextLine"])
    except (FileNotFoundError, ValueError, KeyError):
        return 0  # not written yet, or caught mid-replace


def test_an_import_killed_midway_resumes_with_nothing_lost_or_duplicated(
    live_server: LiveServer, tmp_path: Path
) -> None:
    source = tmp_path / "users.csv"
    source.write_text("username,email,mfaPolicies,mfaPhone\n" + "\n".join(row(i) for i in range(ROWS)) + "\n")
    state = source.with_name(source.name + ".import-state.json")
    command = [str(TWOFOLD_BIN), "users", "import", str(source), "--batch-size", str(BATCH), "--json"]
    first = subprocess.Popen(command, env=cli_env(live_server), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 300
    while saved_position(state) < ROWS // 4 and first.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    first.send_signal(signal.SIGKILL)  # mid-import: batches in flight, the position file being rewritten
    first.wait(timeout=30)
    stopped_at = saved_position(state)
    assert first.returncode == -signal.SIGKILL and 0 < stopped_at < ROWS + 1, (first.returncode, stopped_at)

    done = subprocess.run([*command, "--resume"], env=cli_env(live_server), capture_output=True, timeout=600,
                          check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    report = json.loads(done.stdout)
    assert report["failed"] == []
    # Rows from the saved position on were sent again: those the killed run had already written
    # (its batches in flight) are recognised and skipped, the rest created.
    assert report["created"] + report["skippedExisting"] == ROWS - (stopped_at - 2)

    headers = {"authorization": f"Bearer {live_server.management_token()}"}
    with httpx.Client(base_url=f"{live_server.base_url}/api/v3", headers=headers, timeout=30) as http:
        listed = http.post("list-users", json={"options": {"pagination": {"page": 1, "limit": 1}}}).json()
        assert listed["data"]["totalCount"] == ROWS  # nothing lost, nothing twice
        for i in range(0, ROWS, 97):  # a sample across the kill: each row whole
            status = http.get("get-mfa-status", params={"userId": f"imp{i}", "userIdType": "username"}).json()
            assert status["statusCode"] == 200, status
            policies = [(p["mfaPolicy"], p["status"]) for p in status["data"]["applicationMfa"]]
            assert policies == ([("SMS", 1), ("EMAIL", 0)] if i % 2 else [("OTP", 1)]), (i, policies)
            assert status["data"]["mfaPhone"] == f"139{i:08d}"
    assert not state.exists()  # a finished import leaves no state behind
    print(f"killed at row {stopped_at - 1} of {ROWS}; resumed: {report['created']} created, "
          f"{report['skippedExisting']} already there; lost 0, duplicated 0")  # docs/reliability.md
