"""The 20-way race over HTTP: one valid TOTP code, submitted at the same moment by 20 sign-ins that each
hold their own mfaToken, against ``twofold serve`` with 2 uvicorn worker processes on one database
(for SQLite, the one file both workers open), gives exactly one token set (docs/signin.md#mfa-required).

The last accepted step is a compare-and-set in the database (services/totp_check.py); nothing in a
process can serialise the two workers, so only the database can make this pass.
"""

from __future__ import annotations

import asyncio
import os
import re
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pyotp
import pytest

from tests.compat.support import (
    STARTUP_TIMEOUT,
    LiveServer,
    ok_data,
    otp_required_user,
    race_totp_verify,
    server_env,
    start_server,
    stop_server,
)
from tests.conftest import (
    BACKENDS,
    BOOTSTRAP_KEY_ID,
    BOOTSTRAP_SECRET,
    SECRET_KEY,
    fresh_database_url,
    wipe_postgres,
)

pytestmark = pytest.mark.compat

PASSWORD = "race password 1!"  # noqa: S105 - a test password
RACERS = 20


def _workers(log: Path) -> list[int]:
    """The worker processes uvicorn started, once both have finished their startup (bounded wait)."""
    deadline = time.monotonic() + STARTUP_TIMEOUT
    while True:
        text = log.read_text(errors="replace")
        if text.count("Application startup complete.") >= 2 or time.monotonic() > deadline:
            return [int(pid) for pid in re.findall(r"Started server process \[(\d+)\]", text)]
        time.sleep(0.1)


def _connections_per_worker(server: LiveServer) -> dict[int, int]:
    """How many established connections to the server's port each worker process holds (/proc)."""
    inodes = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            fields = line.split()
            if int(fields[1].rsplit(":", 1)[1], 16) == server.port and fields[3] == "01":  # ESTABLISHED
                inodes.add(fields[9])
    owned: dict[int, int] = {}
    for pid in server.worker_pids:
        sockets = {os.readlink(fd) for fd in Path(f"/proc/{pid}/fd").iterdir() if fd.is_symlink()}
        owned[pid] = sum(1 for inode in inodes if f"socket:[{inode}]" in sockets)
    return owned


@dataclass
class WorkerServer(LiveServer):
    worker_pids: list[int] = field(default_factory=list)


@pytest.fixture(scope="module", params=BACKENDS)
def two_workers(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[WorkerServer]:
    backend: str = request.param
    workdir = tmp_path_factory.mktemp(f"race-{backend}")
    database_url = fresh_database_url(request, backend, workdir)
    env = {**server_env(database_url, workdir / "data", BOOTSTRAP_KEY_ID, BOOTSTRAP_SECRET, SECRET_KEY),
           "TWOFOLD_WORKERS": "2"}
    process, port = start_server(env, workdir, workdir / "server.log")
    try:
        workers = _workers(workdir / "server.log")
        assert len(workers) == 2, (workdir / "server.log").read_text()
        server = WorkerServer(backend, f"http://127.0.0.1:{port}", port, BOOTSTRAP_KEY_ID, BOOTSTRAP_SECRET, env)
        server.worker_pids = workers
        yield server
    finally:
        stop_server(process)
        if backend != "sqlite":
            wipe_postgres(database_url)


async def _race(server: WorkerServer, tokens: list[str], code: str) -> list[dict[str, Any]]:
    """Each submission on its own, already open connection, all released at once.  The connections are
    opened one by one, so the two workers share them out; the test checks that both hold some."""
    clients = [httpx.AsyncClient(base_url=server.base_url, timeout=60) for _ in tokens]
    try:
        for c in clients:  # connect first: the race is the POST
            assert (await c.get("/healthz")).status_code == 200
        held = _connections_per_worker(server)
        assert sum(held.values()) == len(tokens) and min(held.values()) >= 1, held
        return await race_totp_verify(clients, tokens, code)
    finally:
        await asyncio.gather(*(c.aclose() for c in clients))


async def test_one_code_from_twenty_sign_ins_on_two_workers_gives_one_token_set(two_workers: WorkerServer) -> None:
    server = two_workers
    app = ok_data(server.call("POST", "create-application", json={"appName": "Race"}))
    ok_data(server.call("POST", "update-application-mfa-settings",
                        json={"appId": app["appId"], "enabledFactors": ["OTP"]}))
    secret = pyotp.random_base32(32)
    user = otp_required_user(server, "race", PASSWORD, secret=secret)

    tokens = []
    async with httpx.AsyncClient(base_url=server.base_url, timeout=60) as http:
        for _ in range(RACERS):
            response = await http.post("/api/v3/signin", json={
                "connection": "PASSWORD", "client_id": app["appId"], "client_secret": app["appSecret"],
                "passwordPayload": {"email": user["email"], "password": PASSWORD}})
            body = response.json()
            assert (body["statusCode"], body["apiCode"]) == (302, 1636), body
            tokens.append(body["data"]["mfaToken"])
    assert len(set(tokens)) == RACERS

    answers = await _race(server, tokens, pyotp.TOTP(secret).now())

    assert all(a["statusCode"] == 200 for a in answers), answers
    winners = [a for a in answers if "tokenSet" in (a["data"] or {})]
    assert len(winners) == 1, answers
    assert winners[0]["data"]["verified"] is True
    assert sorted(a["data"]["verified"] for a in answers) == [False] * (RACERS - 1) + [True]
    async with httpx.AsyncClient(base_url=server.base_url, timeout=10) as http:
        access = winners[0]["data"]["tokenSet"]["access_token"]
        profile = (await http.get("/api/v3/get-profile", headers={"authorization": access})).json()
    assert ok_data(profile)["userId"] == user["userId"]
    history = ok_data(server.call("GET", "get-user-login-history", params={"userId": user["userId"], "limit": 50}))
    outcomes = [(e["outcome"], e["factor"]) for e in history["list"]]
    assert outcomes.count(("success", "OTP")) == 1 and outcomes.count(("mfa_challenge", None)) == RACERS
