"""``--peers``: the equivalent calls of two other MFA managers, on this machine, through the same wrk.

* moto's Cognito server (``moto[server,cognitoidp]``): ``AdminSetUserMFAPreference`` (SMS MFA on/off) for
  users of one pool.  moto does not check SigV4 signatures, so the requests carry a fixed, well-formed
  ``Authorization`` header.  ``moto_server`` is one threaded process (Werkzeug): one worker only.
* privacyIDEA (``privacyidea`` + ``gunicorn``, SQLite database, the documented ``pi-manage setup`` steps):
  ``POST /token/disable`` and ``/token/enable`` of HOTP tokens with an admin JWT, under gunicorn with
  the same worker counts as Twofold.  Its signed audit log and response signatures are left on: that is
  how it runs.

Each peer gets its own virtual environment under ``bench/.peers/<name>`` (git-ignored), installed from PyPI
the first time ``--peers`` is given.  When anything fails the row says ``unavailable: <reason>`` and the
run carries on.  docs/performance.md describes both setups.
"""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
from pathlib import Path
from typing import Any

from .measure import Source, Timing, measure, warm_up
from .requests import raw_request, write_requests
from .servers import Server, free_port

PEERS = Path(__file__).resolve().parent.parent / ".peers"
MIN_SECONDS = 5  # the peers answer tens to hundreds of requests per second: short runs would be noise
_PI_PASSWORD = "bench-admin-password"  # noqa: S105 - a throwaway local admin


class PeerUnavailable(Exception):
    pass


def _venv(name: str, packages: list[str], log: Any) -> Path:
    root = PEERS / name
    stamp = root / ".installed"
    if stamp.exists() and stamp.read_text() == " ".join(packages):
        return root / "bin"
    log(f"installing {' '.join(packages)} into {root} (first --peers run only)")
    steps = (
        [sys.executable, "-m", "venv", "--clear", str(root)],
        [str(root / "bin" / "python"), "-m", "pip", "install", "-q", *packages],
    )
    for step in steps:
        done = subprocess.run(step, capture_output=True, text=True, timeout=1200, check=False)
        if done.returncode != 0:
            tail = (done.stderr or done.stdout).strip().splitlines()
            raise PeerUnavailable(
                f"{' '.join(step[-len(packages) - 1 :])}: {tail[-1] if tail else done.returncode}"
            )
    stamp.write_text(" ".join(packages))
    return root / "bin"


def _version(bin_dir: Path, dist: str) -> str:
    done = subprocess.run(
        [str(bin_dir / "python"), "-c", f"from importlib.metadata import version; print(version({dist!r}))"],
        capture_output=True,
        text=True,
        check=False,
    )
    return done.stdout.strip() or "?"


def _row(
    peer: str, call: str, version: str, workers: int, conns: int, cell: dict[str, Any]
) -> dict[str, Any]:
    row = {"peer": peer, "call": call, "version": version, "workers": workers, "connections": conns}
    if not cell["valid"]:
        return {
            **row,
            "unavailable": f"invalid run: {cell['bad_responses']} bad answers, {cell['error_sample']!r}",
        }
    return {
        **row,
        "rps": cell["rps"]["median"],
        "spread_pct": cell["rps"]["spread_pct"],
        "p50_ms": cell["latency_ms"]["p50"],
        "p99_ms": cell["latency_ms"]["p99"],
        "rss_mb": cell["rss_mb"]["max"],
    }


def _timing(bench: Any) -> Timing:
    t: Timing = bench.timing
    return Timing(t.runs, max(t.seconds, MIN_SECONDS), max(t.warmup, 1), t.wrk_threads)


# ------------------------------------------------------------------------------------------------ moto
_MOTO_SETUP = """
import json, sys, boto3
c = boto3.client("cognito-idp", endpoint_url=sys.argv[1], region_name="us-east-1",
                 aws_access_key_id="bench", aws_secret_access_key="bench")
pool = c.create_user_pool(PoolName="bench")["UserPool"]["Id"]
for i in range(int(sys.argv[2])):
    c.admin_create_user(UserPoolId=pool, Username=f"user{i}",
                        UserAttributes=[{"Name": "phone_number", "Value": "+15555550100"}])
print(json.dumps({"pool": pool}))
"""
_MOTO_AUTH = (
    "AWS4-HMAC-SHA256 Credential=bench/20260101/us-east-1/cognito-idp/aws4_request, "
    "SignedHeaders=host;x-amz-date;x-amz-target, Signature=0000"
)


def moto(bench: Any, wrk: str) -> list[dict[str, Any]]:
    call = "cognito-idp AdminSetUserMFAPreference"
    bin_dir = _venv("moto", ["moto[server,cognitoidp]"], bench.log)
    port, users, conns = free_port(), 100, max(bench.args.connections)
    server = Server(
        "moto",
        [str(bin_dir / "moto_server"), "-H", "127.0.0.1", "-p", str(port)],
        port,
        1,
        dict(os.environ),
        bench.workdir / "moto.log",
    )
    with server:
        setup = subprocess.run(
            [str(bin_dir / "python"), "-c", _MOTO_SETUP, f"http://127.0.0.1:{port}", str(users)],
            capture_output=True,
            text=True,
            timeout=300,
            check=True,
        )
        pool = json.loads(setup.stdout)["pool"]
        headers = {
            "content-type": "application/x-amz-json-1.1",
            "x-amz-target": "AWSCognitoIdentityProviderService.AdminSetUserMFAPreference",
            "x-amz-date": "20260101T000000Z",
            "authorization": _MOTO_AUTH,
        }

        def make(path: Path, count: int) -> int:
            rng = random.Random(7)
            bodies = (
                json.dumps(
                    {
                        "UserPoolId": pool,
                        "Username": f"user{rng.randrange(users)}",
                        "SMSMfaSettings": {"Enabled": bool(i % 2), "PreferredMfa": bool(i % 2)},
                    }
                ).encode()
                for i in range(count)
            )
            return write_requests(path, (raw_request("POST", "/", port, headers, b) for b in bodies))

        bench.log(f"peer moto, {call}, 1 worker")
        source = Source(make, bench.workdir / "moto.req", once=False, cycle_count=2000, expect="")
        warm_up(wrk, server, source, conns, _timing(bench))
        cell = measure(wrk, server, source, conns, _timing(bench))
    return [_row("moto", call, _version(bin_dir, "moto"), 1, conns, cell)]


# ----------------------------------------------------------------------------------------- privacyIDEA
def privacyidea(bench: Any, wrk: str) -> list[dict[str, Any]]:
    call = "POST /token/disable, /token/enable"
    bin_dir = _venv("privacyidea", ["privacyidea", "gunicorn"], bench.log)
    home = bench.workdir / "privacyidea"
    home.mkdir(parents=True, exist_ok=True)
    config = home / "pi.cfg"
    config.write_text(
        f"SQLALCHEMY_DATABASE_URI = 'sqlite:///{home / 'pi.sqlite'}'\n"
        "SECRET_KEY = 'bench-secret-key-0123456789abcdef'\nPI_PEPPER = 'bench-pepper-0123456789'\n"
        f"PI_ENCFILE = '{home / 'enckey'}'\nPI_AUDIT_KEY_PRIVATE = '{home / 'private.pem'}'\n"
        f"PI_AUDIT_KEY_PUBLIC = '{home / 'public.pem'}'\nPI_LOGFILE = '{home / 'privacyidea.log'}'\nPI_LOGLEVEL = 30\n"
    )
    env = dict(os.environ, PRIVACYIDEA_CONFIGFILE=str(config))
    for step in (
        ["setup", "create_enckey"],
        ["setup", "create_audit_keys"],
        ["setup", "create_tables"],
        ["admin", "add", "admin", "-p", _PI_PASSWORD],
    ):
        if (
            step[-1] in ("create_enckey", "create_audit_keys")
            and (home / ("enckey" if step[-1] == "create_enckey" else "private.pem")).exists()
        ):
            continue
        subprocess.run(
            [str(bin_dir / "pi-manage"), *step], env=env, capture_output=True, timeout=300, check=True
        )
    version = _version(bin_dir, "privacyidea")
    rows = []
    serials = [f"BENCH{i}" for i in range(50)]
    conns = max(bench.args.connections)
    for workers in bench.args.workers:
        port = free_port()
        command = [
            str(bin_dir / "gunicorn"),
            "-w",
            str(workers),
            "-b",
            f"127.0.0.1:{port}",
            "privacyidea.app:create_app(config_name='production', silent=True)",
        ]
        server = Server("privacyidea", command, port, workers, env, home / "gunicorn.log", forks=True)
        with server:
            token = _pi_json(port, "/auth", {"username": "admin", "password": _PI_PASSWORD})["value"]["token"]
            for serial in serials:
                _pi_json(port, "/token/init", {"type": "hotp", "genkey": 1, "serial": serial}, token)
            headers = {"content-type": "application/json", "authorization": token}

            def make(path: Path, count: int, port: int = port, headers: dict[str, str] = headers) -> int:
                rng = random.Random(7)
                picks = (
                    (("/token/disable", "/token/enable")[i % 2], rng.choice(serials)) for i in range(count)
                )
                return write_requests(
                    path,
                    (
                        raw_request("POST", p, port, headers, json.dumps({"serial": s}).encode())
                        for p, s in picks
                    ),
                )

            bench.log(f"peer privacyIDEA {version}, {call}, {workers} worker(s)")
            source = Source(make, home / "pi.req", once=False, cycle_count=2000, expect='"status": true')
            warm_up(wrk, server, source, conns, _timing(bench))
            rows.append(
                _row(
                    "privacyidea",
                    call,
                    version,
                    workers,
                    conns,
                    measure(wrk, server, source, conns, _timing(bench)),
                )
            )
    return rows


def _pi_json(port: int, path: str, body: dict[str, Any], token: str | None = None) -> dict[str, Any]:
    import urllib.request

    headers = {"content-type": "application/json", **({"authorization": token} if token else {})}
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}{path}", data=json.dumps(body).encode(), headers=headers
    )
    with urllib.request.urlopen(request, timeout=60) as resp:
        payload: dict[str, Any] = json.load(resp)
    if not payload.get("result", {}).get("status"):
        raise PeerUnavailable(f"privacyIDEA {path}: {payload}")
    result: dict[str, Any] = payload["result"]
    return result


def run_all(bench: Any, wrk: str) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    for name, call, peer in (
        ("moto", "cognito-idp AdminSetUserMFAPreference", moto),
        ("privacyidea", "POST /token/disable, /token/enable", privacyidea),
    ):
        try:
            rows += peer(bench, wrk)
        except Exception as exc:  # noqa: BLE001 - a peer that cannot run is reported, not fatal
            reason = f"{type(exc).__name__}: {str(exc).strip().splitlines()[-1] if str(exc).strip() else ''}"
            if isinstance(exc, subprocess.CalledProcessError):
                reason = f"{' '.join(map(str, exc.cmd[-3:]))} failed: {(exc.stderr or b'')[-300:]!r}"
            bench.log(f"peer {name} unavailable: {reason}")
            rows.append({"peer": name, "call": call, "unavailable": reason})
    return rows
