"""Online master-key rotation (docs/keys.md#rotation): ``twofold keys rotate-master`` while two real
servers on one database keep serving TOTP sign-ins, management-key authentication and TOTP imports.

* No request fails, during the rotation or after it.
* Every TOTP user still verifies, every access key still authenticates, every imported secret reads
  back as the last one written (the rotation's compare-and-set never clobbers a server's write).
* Server B is started before the rotation and only ever reads ciphertexts: the ones the rotation and
  server A write under the new key reach it by its reload on an unknown key id.
* After a restart everything still reads; the old key is retired, its material erased, and no
  ciphertext in the database names it (nor is any left without a key id).

The rotation's throughput under load is printed next to a second rotation's on idle servers (the
same rows, the same run).
"""

from __future__ import annotations

import asyncio
import itertools
import json
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pyotp
import pytest

from tests.compat.support import (
    TWOFOLD_BIN,
    LiveServer,
    create_access_key,
    ok_data,
    otp_required_user,
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
from twofold.auth.vault import key_id_of
from twofold.config import Settings
from twofold.services.container import Services, build_services
from twofold.services.key_rotation import KeyUse
from twofold.storage.repositories import ciphertexts

PASSWORD = "rotation password 1!"  # noqa: S105 - a test password
REFRESH_SECONDS = 0.5
GRACE_SECONDS = 1.5
SIGNIN_USERS = 24
BULK_USERS = 1500  # each with a TOTP secret and a recovery code: two ciphertexts
REWRITTEN_USERS = 100  # bulk users whose secret a server re-imports during the rotation
ACCESS_KEYS = 3


@dataclass
class Fleet:
    backend: str
    env: dict[str, str]
    workdir: Path
    servers: list[LiveServer] = field(default_factory=list)
    processes: list[subprocess.Popen[bytes]] = field(default_factory=list)

    def start(self, index: int) -> LiveServer:
        process, port = start_server(self.env, self.workdir, self.workdir / f"server-{index}.log")
        server = LiveServer(self.backend, f"http://127.0.0.1:{port}", port, BOOTSTRAP_KEY_ID, BOOTSTRAP_SECRET,
                            self.env)
        if index < len(self.servers):
            self.servers[index], self.processes[index] = server, process
        else:
            self.servers.append(server)
            self.processes.append(process)
        return server

    def restart(self, index: int) -> LiveServer:
        stop_server(self.processes[index])
        return self.start(index)

    def twofold(self, *args: str) -> Any:
        done = subprocess.run([str(TWOFOLD_BIN), *args, "--json"], env=self.env, capture_output=True,
                              timeout=600, check=False)
        assert done.returncode == 0, done.stdout.decode(errors="replace") + done.stderr.decode(errors="replace")
        return json.loads(done.stdout)


@pytest.fixture(params=BACKENDS)
def fleet(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Fleet]:
    backend: str = request.param
    database_url = fresh_database_url(request, backend, tmp_path)
    env = {**server_env(database_url, tmp_path / "data", BOOTSTRAP_KEY_ID, BOOTSTRAP_SECRET, SECRET_KEY),
           "TWOFOLD_KEYRING_REFRESH_SECONDS": str(REFRESH_SECONDS)}
    running = Fleet(backend, env, tmp_path)
    try:
        running.start(0)
        running.start(1)  # B: started before the rotation
        yield running
    finally:
        for process in running.processes:
            stop_server(process)
        if backend != "sqlite":
            wipe_postgres(database_url)


@dataclass
class SignInUser:
    email: str
    secret: str
    last_step: int = -1


class Load:
    """Threads asking the servers while the rotation runs; every outcome that was not a success."""

    def __init__(self, fleet: Fleet, app: dict[str, Any], users: list[SignInUser], keys: list[tuple[str, str]],
                 rewritten: list[str]) -> None:
        self.fleet, self.app, self.users, self.keys, self.rewritten = fleet, app, users, keys, rewritten
        self.failures: list[str] = []
        self.counts = {"totp": 0, "management": 0, "import": 0}
        self.expected: dict[str, str] = {}  # the last secret the importer wrote, per user
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._threads = [
            threading.Thread(target=self._totp, args=(users[0::2], 0), daemon=True),
            threading.Thread(target=self._totp, args=(users[1::2], 1), daemon=True),
            threading.Thread(target=self._management, args=(0,), daemon=True),
            threading.Thread(target=self._management, args=(1,), daemon=True),
            threading.Thread(target=self._importer, daemon=True),
        ]

    def __enter__(self) -> Load:
        for thread in self._threads:
            thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=60)
        assert not any(t.is_alive() for t in self._threads), "a request hung"

    def _record(self, kind: str, failure: str | None) -> None:
        with self._lock:
            self.counts[kind] += 1
            if failure is not None:
                self.failures.append(f"{kind}: {failure}")

    def _totp(self, users: list[SignInUser], first: int) -> None:
        """One sign-in at a time, spread over the 30 s step (a code verifies once per user and step)."""
        pause = 30 / len(users)
        for n in itertools.count(first):
            step = int(time.time()) // 30
            waiting = [u for u in users if u.last_step < step]
            if waiting:
                server = self.fleet.servers[n % 2]
                try:
                    verified = sign_in_with_totp(server, self.app, waiting[0], step)
                    self._record("totp", None if verified else f"not verified on {server.base_url}")
                except (httpx.HTTPError, AssertionError, KeyError, ValueError) as exc:
                    self._record("totp", repr(exc))
            if self._stop.wait(pause):
                return

    def _management(self, first: int) -> None:
        for n in itertools.count(first):
            if self._stop.is_set():
                return
            server = self.fleet.servers[n % 2]
            key_id, secret = self.keys[n % len(self.keys)]
            try:
                authenticate(server, key_id, secret)
                self._record("management", None)
            except (httpx.HTTPError, AssertionError, KeyError, ValueError) as exc:
                self._record("management", repr(exc))

    def _importer(self) -> None:
        server = self.fleet.servers[0]
        for user_id in itertools.cycle(self.rewritten):
            if self._stop.is_set():
                return
            secret = pyotp.random_base32(32)
            try:
                ok_data(server.call("POST", "import-otp", json={"list": [{"userId": user_id, "otp": {"secret": secret}}]}))
                self.expected[user_id] = secret
                self._record("import", None)
            except (httpx.HTTPError, AssertionError, KeyError, ValueError) as exc:
                self._record("import", repr(exc))


def sign_in_with_totp(server: LiveServer, app: dict[str, Any], user: SignInUser, step: int) -> bool:
    """Password sign-in, then the TOTP code of ``step`` (the current one, or the next when the current
    one is spent): whether the sign-in completed."""
    with httpx.Client(base_url=f"{server.base_url}/api/v3", timeout=30) as http:
        body = http.post("signin", json={
            "connection": "PASSWORD", "client_id": app["appId"], "client_secret": app["appSecret"],
            "passwordPayload": {"email": user.email, "password": PASSWORD}}).json()
        assert (body["statusCode"], body["apiCode"]) == (302, 1636), body
        code = pyotp.TOTP(user.secret).at(step * 30)
        answer = http.post("mfa-totp-verify", json={"totp": code},
                           headers={"authorization": body["data"]["mfaToken"]}).json()
    user.last_step = step
    return bool(answer["statusCode"] == 200 and answer["data"]["verified"] and "tokenSet" in answer["data"])


def authenticate(server: LiveServer, key_id: str, secret: str) -> None:
    """A management token from the key, and a call with it."""
    with httpx.Client(base_url=f"{server.base_url}/api/v3", timeout=30) as http:
        token = ok_data(http.post("get-management-token", json={"accessKeyId": key_id,
                                                                "accessKeySecret": secret}).json())
        ok_data(http.get("list-users", params={"page": 1, "limit": 1},
                         headers={"authorization": f"Bearer {token['access_token']}"}).json())


def verify_everyone(server: LiveServer, app: dict[str, Any], users: list[SignInUser]) -> list[str]:
    """Each user signs in with a code not used yet (the current step's, or the next one's)."""
    failed = []
    for user in users:
        step = int(time.time()) // 30
        step = step if user.last_step < step else step + 1
        if not sign_in_with_totp(server, app, user, step):
            failed.append(user.email)
    return failed


def setup(fleet: Fleet) -> tuple[dict[str, Any], list[SignInUser], list[str], list[tuple[str, str]]]:
    server = fleet.servers[0]
    app = ok_data(server.call("POST", "create-application", json={"appName": "Rotation"}))
    ok_data(server.call("POST", "update-application-mfa-settings", json={"appId": app["appId"], "enabledFactors": ["OTP"]}))
    users = []
    for i in range(SIGNIN_USERS):
        secret = pyotp.random_base32(32)
        users.append(SignInUser(otp_required_user(server, f"rot{i}", PASSWORD, secret=secret)["email"], secret))
    bulk: list[str] = []
    for start in range(0, BULK_USERS, 500):
        batch = [{"username": f"bulk-{n}", "otp": {"secret": pyotp.random_base32(32), "recoveryCode": f"rc-{n:06d}"}}
                 for n in range(start, min(start + 500, BULK_USERS))]
        bulk += [u["userId"] for u in ok_data(server.call("POST", "create-users-batch", json={"list": batch}))]
    keys = [(BOOTSTRAP_KEY_ID, BOOTSTRAP_SECRET)] + [create_access_key(server) for _ in range(ACCESS_KEYS)]
    return app, users, bulk, keys


async def read_every_ciphertext(env: dict[str, str]) -> dict[str, set[str]]:
    """In a fresh process's services: decrypt every ciphertext of the database; the key ids, per column."""
    settings = Settings(database_url=env["TWOFOLD_DATABASE_URL"], data_dir=Path(env["TWOFOLD_DATA_DIR"]),
                        secret_key=env["TWOFOLD_SECRET_KEY"])
    services = await build_services(settings)
    found: dict[str, set[str]] = {}
    try:
        async with services.db.read() as conn:
            for col in ciphertexts.COLUMNS:
                rows = await conn.fetch_all(
                    f"SELECT {col.column} AS ct FROM {col.table} WHERE {col.column} IS NOT NULL")  # noqa: S608
                for row in rows:
                    await services.keyring.decrypt(row["ct"])
                    found.setdefault(col.name, set()).add(key_id_of(row["ct"]))
    finally:
        await services.close()
    return found


def rows_per_second(rotation: dict[str, Any]) -> float:
    return sum(rotation["rewritten"].values()) / max(rotation["seconds"], 1e-9)


def test_rotation_under_load_loses_nothing_and_fails_no_request(fleet: Fleet) -> None:
    app, users, bulk, keys = setup(fleet)
    [before] = [k for k in fleet.twofold("keys", "master-status") if k["state"] == "active"]

    with Load(fleet, app, users, keys, bulk[:REWRITTEN_USERS]) as load:
        time.sleep(2)
        rotation = fleet.twofold("keys", "rotate-master", "--grace", str(GRACE_SECONDS), "--batch", "200")
        time.sleep(2)  # and on, after the rotation
    print(f"{fleet.backend}: {load.counts} requests during the rotation, {len(load.failures)} failed; rotation {rotation}")
    assert load.failures == [], load.failures[:20]
    assert min(load.counts.values()) > 0, load.counts
    assert rotation["retired"] == [before["id"]] and rotation["active"] != before["id"]
    assert sum(rotation["rewritten"].values()) >= 2 * (BULK_USERS - REWRITTEN_USERS)  # the importer rewrites some

    # everything works after it, on both servers; B never encrypted, so it met the new key on reads
    first_half, second_half = users[: SIGNIN_USERS // 2], users[SIGNIN_USERS // 2 :]
    assert verify_everyone(fleet.servers[1], app, first_half) == []
    for key_id, secret in keys:
        for server in fleet.servers:
            authenticate(server, key_id, secret)
    for user_id, secret in load.expected.items():
        assert ok_data(fleet.servers[1].call("GET", "get-otp-secret-by-user", params={"userId": user_id}))["secret"] == secret

    # the old key is retired and nothing names it; nothing is left without a key id
    status = {k["id"]: k for k in fleet.twofold("keys", "master-status")}
    assert status[before["id"]]["state"] == "retired" and status[before["id"]]["ciphertexts"] == 0
    assert {k: v["state"] for k, v in status.items()} == {before["id"]: "retired", rotation["active"]: "active"}
    assert set().union(*asyncio.run(read_every_ciphertext(fleet.env)).values()) == {rotation["active"]}

    # a restarted server reads everything
    restarted = fleet.restart(0)
    assert verify_everyone(restarted, app, second_half) == []
    for key_id, secret in keys:
        authenticate(restarted, key_id, secret)
    for user_id in bulk[REWRITTEN_USERS : REWRITTEN_USERS + 50]:
        assert ok_data(restarted.call("GET", "get-otp-secret-by-user", params={"userId": user_id}))["secret"]

    # the baseline: the same rows rotated again with the servers idle
    idle = fleet.twofold("keys", "rotate-master", "--grace", str(GRACE_SECONDS), "--batch", "200")
    assert idle["retired"] == [rotation["active"]]
    for key_id, secret in keys:
        for server in fleet.servers:
            authenticate(server, key_id, secret)
    print(f"{fleet.backend}: re-encrypted {rows_per_second(rotation):.0f} rows/s under load, "
          f"{rows_per_second(idle):.0f} rows/s idle (ratio {rows_per_second(rotation) / rows_per_second(idle):.2f})")


def run_twofold(env: dict[str, str], *args: str) -> Any:
    done = subprocess.run([str(TWOFOLD_BIN), *args, "--json"], env=env, capture_output=True, timeout=600, check=False)
    assert done.returncode == 0, done.stdout.decode(errors="replace") + done.stderr.decode(errors="replace")
    return json.loads(done.stdout)


async def kill_when(services: Services, process: subprocess.Popen[bytes],
                    ready: Callable[[dict[str, KeyUse]], bool]) -> dict[str, KeyUse]:
    """SIGKILL ``process`` once ``ready`` holds of the keyring's status, read from the database (bounded
    wait); that status."""
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and process.poll() is None:
        status = {k.id: k for k in await services.key_rotation.status()}
        if ready(status):
            process.kill()
            process.wait(timeout=10)
            return status
        await asyncio.sleep(0.01)
    raise AssertionError(f"never ready; rotate-master exited {process.poll()}")


async def test_a_killed_rotation_resumes_where_it_stopped(api: Any, services: Services, settings: Settings) -> None:
    """Killed in its grace period, then killed again midway through the re-encryption, ``rotate-master``
    run once more finishes the same rotation: one new key, the old one retired, nothing left under it."""
    for start in range(0, 3000, 500):
        await api.ok("POST", "create-users-batch", {"list": [
            {"username": f"resume-{n}", "otp": {"secret": pyotp.random_base32(32)}} for n in range(start, start + 500)]})
    env = {**server_env(settings.resolved_database_url, settings.data_dir, BOOTSTRAP_KEY_ID, BOOTSTRAP_SECRET,
                        SECRET_KEY), "TWOFOLD_KEYRING_REFRESH_SECONDS": str(REFRESH_SECONDS)}
    old = services.keyring.active

    def rotate(*args: str) -> subprocess.Popen[bytes]:
        return subprocess.Popen([str(TWOFOLD_BIN), "keys", "rotate-master", *args], env=env,
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    seen = await kill_when(services, rotate("--grace", "600"), lambda status: len(status) == 2)
    [new] = [k.id for k in seen.values() if k.state == "active"]
    assert {k.id: k.state for k in seen.values()} == {old: "decrypt", new: "active"}

    def midway(status: dict[str, KeyUse]) -> bool:
        return status[new].total > 10 and status[old].total > 10

    seen = await kill_when(services, rotate("--grace", "1", "--batch", "1"), midway)  # its grace is long over
    assert {k.id: k.state for k in seen.values()} == {old: "decrypt", new: "active"}

    finished = run_twofold(env, "keys", "rotate-master", "--grace", "1")
    assert finished["resumed"] and finished["active"] == new and finished["retired"] == [old]
    status = {k.id: k for k in await services.key_rotation.status()}
    assert status[old].state == "retired" and status[old].total == 0
    assert status[new].total >= 3000 and set(status) == {old, new}
    assert set().union(*(await read_every_ciphertext(env)).values()) == {new}
