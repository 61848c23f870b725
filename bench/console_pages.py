"""How long the admin console's pages take on a big pool (docs/console.md#big-pools).

Seeds a SQLite database with ``--users`` users through the benchmark's loader (``harness/seed.py``),
starts ``twofold serve`` on it, signs in to the console with the bench key over HTTP and times each
page ``--repeat`` times, one request at a time; prints the median and the slowest, in milliseconds.

    .venv/bin/python bench/console_pages.py --users 1000000
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import tempfile
import time
from pathlib import Path

import httpx
from harness import seed
from harness.servers import Server, free_port, twofold_command


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="twofold-console-bench-"))
    database = seed.prepare("sqlite", seed.sqlite_url(workdir, "console"), args.users)
    print(f"seeded {args.users} users in {database.seed_seconds:.1f} s")
    port = free_port()
    env = {**os.environ, **database.server_env(workdir / "data")}
    with Server("twofold", twofold_command(port, 1), port, 1, env, workdir / "server.log"):
        base = f"http://127.0.0.1:{port}"
        with httpx.Client(base_url=base, timeout=120) as client:
            form = client.get("/console/signin").text
            token = re.search(r'name="csrf" value="([^"]+)"', form).group(1)  # type: ignore[union-attr]
            signed = client.post("/console/signin", data={
                "csrf": token, "access_key_id": seed.KEY_ID, "access_key_secret": seed.KEY_SECRET})
            assert signed.status_code == 303, signed.text
            middle = args.users // 2
            first = client.get("/console/users").text
            cursor = re.search(r'after=([^"]+)"', first).group(1).replace("&amp;", "&")  # type: ignore[union-attr]
            pages = {
                "users, first page": "/console/users",
                "users, next page": f"/console/users?after={cursor}",
                "users, MFA required": "/console/users?mfa=required",
                "users, OTP enrolled": "/console/users?mfa=otp-enrolled",
                "users, locked": "/console/users?mfa=locked",
                "audit, a time window": "/console/audit?since=2020-01-01T00:00&until=2030-01-01T00:00",
                "search by email": f"/console/users?q={seed.user_email(middle)}",
                "search by user id": f"/console/users?q={seed.user_id(middle)}",
                "a user": f"/console/users/{seed.user_id(middle)}",
                "overview": "/console/",
            }
            print(f"| page ({args.users:,} users, SQLite) | median ms | slowest ms |")
            print("|---|---|---|")
            for name, path in pages.items():
                times = []
                for _ in range(args.repeat):
                    started = time.perf_counter()
                    response = client.get(path)
                    times.append((time.perf_counter() - started) * 1000)
                    assert response.status_code == 200, (path, response.status_code)
                print(f"| {name} | {statistics.median(times):.1f} | {max(times):.1f} |")


if __name__ == "__main__":
    main()
