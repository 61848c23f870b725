"""Bulk import of users with their MFA status, three ways, each reported in users/second:

* ``genauth``: what a GenAuth client can do: ``create-users-batch`` (1,000 per call), then one
  ``set-mfa-status`` per user created;
* ``batch-with-status``: ``create-users-batch`` whose items carry ``mfaTriggerData`` (a Twofold
  extension: user and status written in one transaction), 1,000 per call;
* ``cli``: ``twofold users import users.csv`` against the running server, as README shows it
  (``run_cli_import``: its own phase of ``bench/run.py``, on every backend, 20,000 rows by default).

The HTTP paths use a minimal asyncio HTTP/1.1 client over pre-built requests on several keep-alive
connections (no HTTP library in the way) and check every envelope.
"""

from __future__ import annotations

import asyncio
import csv
import json
import os
import re
import resource
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from twofold.cli.user_import import IN_FLIGHT

from .cpu import Meter, process_seconds
from .requests import raw_request
from .seed import EMAIL_DOMAIN, KEY_ID, KEY_SECRET

BATCH = 1000


class _Connection:
    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter):
        self.reader, self.writer = reader, writer

    async def send(self, raw: bytes) -> bytes:
        self.writer.write(raw)
        head = await self.reader.readuntil(b"\r\n\r\n")
        length = 0
        for line in head.split(b"\r\n"):
            if line[:15].lower() == b"content-length:":
                length = int(line[15:])
        return await self.reader.readexactly(length)


async def _send_all(port: int, requests: Sequence[bytes], connections: int) -> list[bytes]:
    """Send ``requests`` over ``connections`` keep-alive connections; answers in request order."""
    answers: list[bytes] = [b""] * len(requests)
    cursor = iter(range(len(requests)))

    async def worker() -> None:
        reader, writer = await asyncio.open_connection("127.0.0.1", port, limit=1 << 24)
        conn = _Connection(reader, writer)
        try:
            for index in cursor:
                answers[index] = await conn.send(requests[index])
        finally:
            writer.close()

    await asyncio.gather(*(worker() for _ in range(connections)))
    return answers


def _check(answer: bytes, what: str) -> dict[str, Any]:
    payload: dict[str, Any] = json.loads(answer)
    if payload.get("statusCode") != 200:
        raise RuntimeError(f"{what} failed: {answer[:300]!r}")
    return payload


def _headers(token: str, pool_id: str) -> dict[str, str]:
    return {
        "content-type": "application/json",
        "authorization": f"Bearer {token}",
        "x-genauth-userpool-id": pool_id,
    }


_STATUS = {"applicationMfa": [{"mfaPolicy": "OTP", "status": 1, "sort": 1}], "totpMfaEnabled": True}


async def _batch_with_status(
    port: int, token: str, pool_id: str, users: int, connections: int, prefix: str
) -> dict[str, Any]:
    headers = _headers(token, pool_id)
    batches = []
    for start in range(0, users, BATCH):
        items = [
            {"email": f"{prefix}{i}@{EMAIL_DOMAIN}", "username": f"{prefix}{i}", "mfaTriggerData": _STATUS}
            for i in range(start, min(users, start + BATCH))
        ]
        body = json.dumps({"list": items}, separators=(",", ":")).encode()
        batches.append(raw_request("POST", "/api/v3/create-users-batch", port, headers, body))
    t0 = time.monotonic()
    answers = await _send_all(port, batches, connections)
    seconds = time.monotonic() - t0
    created = sum(len(_check(answer, "create-users-batch")["data"]) for answer in answers)
    return {
        "path": "batch-with-status",
        "users": created,
        "connections": connections,
        "seconds": seconds,
        "users_per_s": created / seconds,
    }


async def _genauth(
    port: int, token: str, pool_id: str, users: int, connections: int, prefix: str
) -> dict[str, Any]:
    headers = _headers(token, pool_id)
    batches = []
    for start in range(0, users, BATCH):
        items = [
            {"email": f"{prefix}{i}@{EMAIL_DOMAIN}", "username": f"{prefix}{i}"}
            for i in range(start, min(users, start + BATCH))
        ]
        body = json.dumps({"list": items}, separators=(",", ":")).encode()
        batches.append(raw_request("POST", "/api/v3/create-users-batch", port, headers, body))
    t0 = time.monotonic()
    answers = await _send_all(port, batches, connections)
    t1 = time.monotonic()
    ids = [user["userId"] for answer in answers for user in _check(answer, "create-users-batch")["data"]]
    statuses = [
        raw_request(
            "POST",
            "/api/v3/set-mfa-status",
            port,
            headers,
            json.dumps(
                {
                    "userId": uid,
                    "mfaTriggerData": {
                        "mfaToken": "import",
                        "applicationMfa": [{"mfaPolicy": "OTP", "status": 1, "sort": 1}],
                        "totpMfaEnabled": True,
                    },
                },
                separators=(",", ":"),
            ).encode(),
        )
        for uid in ids
    ]
    t2 = time.monotonic()
    answers = await _send_all(port, statuses, connections)
    t3 = time.monotonic()
    for answer in answers:
        _check(answer, "set-mfa-status")
    create_s, status_s = t1 - t0, t3 - t2
    return {
        "path": "genauth",
        "seconds": create_s + status_s,
        "users": len(ids),
        "connections": connections,
        "create_seconds": create_s,
        "set_status_seconds": status_s,
        "create_users_per_s": len(ids) / create_s,
        "set_status_per_s": len(ids) / status_s,
        "users_per_s": len(ids) / (create_s + status_s),
    }


CLI_COLUMNS = ["username", "email", "mfaPolicies", "totpMfaEnabled", "mfaEmail"]
_CREATED = re.compile(r"created (\d+) user")


def write_import_csv(path: Path, users: int, prefix: str) -> None:
    """A CSV as README shows it, with an MFA status on every row (each user's own)."""
    with path.open("w", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(CLI_COLUMNS)
        for i in range(users):
            writer.writerow(
                [f"{prefix}{i}", f"{prefix}{i}@{EMAIL_DOMAIN}", f"OTP:1:{i % 2};SMS:{i % 2}:1", "true", ""]
            )


def run_cli_import(port: int, users: int, workdir: Path, prefix: str, server_pids: Sequence[int]) -> dict[str, Any]:
    """``twofold users import users.csv`` as a new user runs it (README): default batch size, the
    progress output, an access key in the environment, a running server. The figure is the wall time
    of the CLI process, start-up included; the client's CPU and the server's over the same time say
    which side was the bottleneck, and the background CPU (the machine's busy time less theirs and
    PostgreSQL's: harness/cpu.py) whether the machine let them run."""
    path = workdir / f"{prefix}.csv"
    write_import_csv(path, users, prefix)
    binary = Path(sys.executable).with_name("twofold")
    command = [str(binary), "users", "import", str(path)]
    env = dict(
        os.environ,
        TWOFOLD_HOST=f"http://127.0.0.1:{port}",
        TWOFOLD_ACCESS_KEY_ID=KEY_ID,
        TWOFOLD_ACCESS_KEY_SECRET=KEY_SECRET,
    )
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    server = sum(process_seconds(pid) for pid in server_pids)
    meter = Meter(list(server_pids))
    t0 = time.monotonic()
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=1800, check=False)
    seconds = time.monotonic() - t0
    server = sum(process_seconds(pid) for pid in server_pids) - server
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    client = after.ru_utime - children.ru_utime + after.ru_stime - children.ru_stime
    background = meter.stop(seconds, client)
    found = _CREATED.search(done.stdout)
    if done.returncode != 0 or found is None:
        raise RuntimeError(
            f"twofold users import exited {done.returncode}: {(done.stderr or done.stdout)[-300:]}"
        )
    created = int(found.group(1))
    return {
        "path": "cli",
        "users": created,
        "connections": IN_FLIGHT,
        "seconds": seconds,
        "users_per_s": created / seconds,
        "client_cpu_s": client,
        "server_cpu_s": server,
        "client_cores": client / seconds,
        "server_cores": server / seconds,
        "background_cpu": background,
    }


def run_import(port: int, token: str, pool_id: str, users: int, connections: int) -> list[dict[str, Any]]:
    """The two HTTP paths, each with its own users (``batch…`` and ``bulk…``)."""

    async def both() -> list[dict[str, Any]]:
        return [
            await _batch_with_status(port, token, pool_id, users, connections, "batch"),
            await _genauth(port, token, pool_id, users, connections, "bulk"),
        ]

    try:
        import uvloop

        return uvloop.run(both())
    except ImportError:
        return asyncio.run(both())
