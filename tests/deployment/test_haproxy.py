"""The deployment of docs/deployment.md, brought up on this machine: 3 ``twofold serve`` instances on one
PostgreSQL database, started at the same moment (so their migrations race), and Debian's HAProxy in front
with the shipped ``deploy/haproxy.cfg`` (only its ports and servers changed).

What the tests show: the state is in the database, not in an instance (one TOTP code, one lockout, one
send interval, whichever instance a request reaches; the send interval also with 3 more instances whose
counters are in Redis); the audit trail sees the client behind HAProxy, not HAProxy; and HAProxy
routes around an instance killed under load without losing a write it acknowledged, and takes it back
when it returns.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import subprocess
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

import httpx
import pyotp
import pytest
from bench.harness.haproxy import haproxy_config

from tests.compat.support import (
    LiveServer,
    free_port,
    new_person,
    ok_data,
    otp_required_user,
    race_totp_verify,
    server_env,
    stop_server,
)
from tests.conftest import BOOTSTRAP_KEY_ID, BOOTSTRAP_SECRET, POSTGRES_URL, REDIS_URL, SECRET_KEY
from tests.deployment.support import WAIT, Cluster, Instance, metric_total, start_instance
from tests.migrations.test_concurrent_upgrade import empty_schema

pytestmark = [
    pytest.mark.skipif(not POSTGRES_URL, reason="TWOFOLD_TEST_POSTGRES_URL not set: the deployment is on PostgreSQL"),
    pytest.mark.skipif(shutil.which("haproxy") is None, reason="haproxy not installed (.ci/run installs Debian's)"),
]

INSTANCES = 3
RACERS = 20
PASSWORD = "deploy password 1!"  # noqa: S105 - a test password


@contextmanager
def brought_up(workdir: Path, database_url: str, **extra_env: str) -> Iterator[Cluster]:
    """3 instances started at once on ``database_url``, HAProxy in front; stopped afterwards."""
    front_port = free_port()
    instances = []
    for n in range(1, INSTANCES + 1):
        env = {**server_env(database_url, workdir / f"data{n}", BOOTSTRAP_KEY_ID, BOOTSTRAP_SECRET, SECRET_KEY),
               # HAProxy (here on 127.0.0.1) names the client in X-Forwarded-For (docs/deployment.md#client-addresses)
               "TWOFOLD_FORWARDED_ALLOW_IPS": "127.0.0.1",
               # one issuer for all: an instance refuses the tokens of another issuer (docs/deployment.md)
               "TWOFOLD_ISSUER_URL": f"http://127.0.0.1:{front_port}/oidc", **extra_env}
        instances.append(Instance(f"app{n}", free_port(), env, workdir / f"app{n}.log"))
    stats_socket = workdir / "haproxy.sock"
    config = workdir / "haproxy.cfg"
    config.write_text(haproxy_config(front_port, stats_socket, [(i.name, i.port) for i in instances]))
    haproxy_log = workdir / "haproxy.log"
    haproxy: subprocess.Popen[bytes] | None = None
    try:
        # all three at once on an empty database: their migrations and their bootstrap (the default pool,
        # the bootstrap key) race, and two advisory locks serialise them (docs/deployment.md#migrations)
        errors: list[BaseException] = []

        def start(i: Instance) -> None:
            try:
                start_instance(i, workdir)
            except BaseException as exc:  # noqa: BLE001 - reported below
                errors.append(exc)

        threads = [threading.Thread(target=start, args=(i,)) for i in instances]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert not errors, errors
        with haproxy_log.open("ab") as log:
            haproxy = subprocess.Popen(["haproxy", "-db", "-f", str(config)], stdin=subprocess.DEVNULL,
                                       stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + WAIT
        while not stats_socket.exists():
            assert haproxy.poll() is None and time.monotonic() < deadline, haproxy_log.read_text()
            time.sleep(0.1)
        front = LiveServer("postgresql", f"http://127.0.0.1:{front_port}", front_port,
                           BOOTSTRAP_KEY_ID, BOOTSTRAP_SECRET, instances[0].env)
        result = Cluster(front, instances, stats_socket, haproxy_log)
        result.wait_states({i.name: "UP" for i in instances})
        yield result
    finally:
        if haproxy is not None:
            haproxy.terminate()
            haproxy.wait(timeout=10)
        for i in instances:
            if i.process is not None:
                stop_server(i.process)


@pytest.fixture(scope="module")
def cluster(postgres_ready: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    with brought_up(tmp_path_factory.mktemp("deployment"), empty_schema(postgres_ready)) as result:
        yield result


@pytest.fixture(scope="module")
def redis_cluster(
    cluster: Cluster, redis_answers: str | None, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Cluster]:
    """3 more instances with their send limits and throttles in Redis, on the database ``cluster``
    migrated (it keeps running), behind a HAProxy of their own."""
    if redis_answers:
        pytest.skip(redis_answers)
    database_url = cluster.instances[0].env["TWOFOLD_DATABASE_URL"]
    with brought_up(tmp_path_factory.mktemp("deployment-redis"), database_url, TWOFOLD_REDIS_URL=REDIS_URL,
                    TWOFOLD_REDIS_KEY_PREFIX=f"twofold-test:{uuid.uuid4().hex}:",
                    # a loaded test machine can take longer than the default 0.2 s to connect: a fallback
                    # would count apart from Redis (docs/deployment.md#redis), not what this test is about
                    TWOFOLD_REDIS_TIMEOUT_SECONDS="5") as result:
        yield result


def counted_in(request: pytest.FixtureRequest, where: str) -> Cluster:
    """The cluster whose short-lived counters are in the database, or in Redis."""
    return cast(Cluster, request.getfixturevalue("cluster" if where == "database" else "redis_cluster"))


def sign_in(base_url: str, app: dict[str, Any], email: str) -> str:
    body = httpx.post(f"{base_url}/api/v3/signin", timeout=30, json={
        "connection": "PASSWORD", "client_id": app["appId"], "client_secret": app["appSecret"],
        "passwordPayload": {"email": email, "password": PASSWORD}}).json()
    assert (body["statusCode"], body["apiCode"]) == (302, 1636), body
    token: str = body["data"]["mfaToken"]
    return token


def verify_totp(base_url: str, token: str, code: str) -> dict[str, Any]:
    response = httpx.post(f"{base_url}/api/v3/mfa-totp-verify", json={"totp": code},
                          headers={"authorization": token}, timeout=30)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    assert body["statusCode"] == 200, body
    return body


# ------------------------------------------------------------------------------------ shared state
async def test_one_totp_code_twenty_times_across_the_instances_succeeds_once(cluster: Cluster) -> None:
    app = cluster.app()
    secret = pyotp.random_base32(32)
    user = otp_required_user(cluster.front, "race", PASSWORD, secret=secret)
    tokens = [sign_in(cluster.front.base_url, app, user["email"]) for _ in range(RACERS)]
    before = [metric_total(i, "twofold_mfa_verifications_total", factor="OTP") for i in cluster.instances]
    code = pyotp.TOTP(secret).now()

    clients = [httpx.AsyncClient(base_url=cluster.front.base_url, timeout=60) for _ in tokens]
    try:
        for c in clients:  # connected first: the race is the POST
            assert (await c.get("/healthz")).status_code == 200
        answers = await race_totp_verify(clients, tokens, code)
    finally:
        await asyncio.gather(*(c.aclose() for c in clients))

    assert all(a["statusCode"] == 200 for a in answers), answers
    assert sorted(a["data"]["verified"] for a in answers) == [False] * (RACERS - 1) + [True], answers
    winners = [a["data"]["tokenSet"] for a in answers if "tokenSet" in (a["data"] or {})]
    assert len(winners) == 1, answers
    for instance in cluster.instances:  # the tokens one instance issued are good on every instance
        profile = httpx.get(f"{instance.url}/api/v3/get-profile", timeout=30,
                            headers={"authorization": winners[0]["access_token"]}).json()
        assert ok_data(profile)["userId"] == user["userId"], (instance.name, profile)
    checked = [metric_total(i, "twofold_mfa_verifications_total", factor="OTP") - b
               for i, b in zip(cluster.instances, before, strict=True)]
    assert sum(checked) == RACERS and min(checked) >= 1, checked  # every instance took part


def test_a_lockout_reached_through_one_instance_holds_on_another(cluster: Cluster) -> None:
    app = cluster.app()
    secret = pyotp.random_base32(32)
    user = otp_required_user(cluster.front, "lock", PASSWORD, secret=secret)
    a, b = cluster.instances[0].url, cluster.instances[1].url
    totp = pyotp.TOTP(secret)
    wrong = f"{(int(totp.now()) + 500_000) % 1_000_000:06d}"
    for _ in range(5):  # TWOFOLD_MFA_MAX_FAILURES, the default
        assert verify_totp(a, sign_in(a, app, user["email"]), wrong)["data"]["verified"] is False
    refused = verify_totp(b, sign_in(b, app, user["email"]), totp.now())
    assert refused["data"]["verified"] is False, refused  # the right code, refused while locked
    status = ok_data(cluster.direct(2).call("GET", "twofold/get-mfa-lock-status",
                                            params={"userId": user["userId"], "factor": "OTP"}))
    otp = [(f["failures"], f["locked"]) for f in status["factors"] if f["factor"] == "OTP"]
    assert otp == [(5, True)], status


@pytest.mark.parametrize("where", ["database", "redis"])
def test_the_send_interval_holds_across_instances(request: pytest.FixtureRequest, where: str) -> None:
    cluster = counted_in(request, where)
    app = cluster.app()
    person = new_person("send")
    ok_data(cluster.front.call("POST", "create-user", json={"email": person["email"], "password": PASSWORD}))
    answers = []
    for instance in cluster.instances[:2]:
        response = httpx.post(f"{instance.url}/api/v3/send-email", timeout=30,
                              json={"email": person["email"], "channel": "CHANNEL_LOGIN"},
                              headers={"x-genauth-app-id": app["appId"]})
        assert response.status_code == 200, response.text
        answers.append(response.json())
    assert answers[0]["statusCode"] == 200, answers
    assert answers[1]["apiCode"] == 2080, answers  # refused by the other instance: one interval


@pytest.mark.parametrize("where", ["database", "redis"])
async def test_parallel_sends_to_one_target_across_the_instances_send_once(
    request: pytest.FixtureRequest, where: str
) -> None:
    cluster = counted_in(request, where)
    app = cluster.app()
    clients = [httpx.AsyncClient(base_url=cluster.front.base_url, timeout=60) for _ in range(RACERS)]
    try:
        answers = await asyncio.gather(*(
            c.post("/api/v3/send-email", json={"email": f"race-{where}@example.com", "channel": "CHANNEL_LOGIN"},
                   headers={"x-genauth-app-id": app["appId"]}) for c in clients))
    finally:
        await asyncio.gather(*(c.aclose() for c in clients))
    fallbacks = [metric_total(i, "twofold_counter_fallbacks_total") for i in cluster.instances]
    assert fallbacks == [0.0] * INSTANCES, fallbacks  # with Redis, every count was made there
    codes = sorted((a.json()["statusCode"], a.json().get("apiCode")) for a in answers)
    assert codes == [(200, None)] + [(400, 2080)] * (RACERS - 1), codes


def test_the_audit_trail_sees_the_client_behind_haproxy_not_haproxy(cluster: Cluster) -> None:
    """The client connects from 127.0.0.3; HAProxy reaches the instances from 127.0.0.1."""
    client = "127.0.0.3"
    token = cluster.front.management_token()

    def recorded(base_url: str, forwarded_for: str | None = None) -> str:
        headers = {"authorization": f"Bearer {token}"}
        if forwarded_for is not None:
            headers["x-forwarded-for"] = forwarded_for
        with httpx.Client(transport=httpx.HTTPTransport(local_address=client), timeout=30, headers=headers) as http:
            user = ok_data(http.post(f"{base_url}/api/v3/create-user",
                                     json={"username": new_person("ip")["username"]}).json())
            events = ok_data(http.get(f"{base_url}/api/v3/twofold/list-audit-events",
                                      params={"userId": user["userId"]}).json())
        address: str = events[0]["clientIp"]
        return address

    assert recorded(cluster.front.base_url) == client  # not HAProxy's 127.0.0.1
    assert recorded(cluster.front.base_url, "203.0.113.9") == client  # HAProxy appends the real peer
    assert recorded(cluster.instances[0].url, "203.0.113.9") == client  # a direct, untrusted peer: ignored


# ---------------------------------------------------------------------------------- failure and rejoin
@dataclass
class Load:
    """create-user calls through HAProxy from ``workers`` concurrent clients, until stopped."""

    front: LiveServer
    workers: int = 6
    password: str | None = None  # with one, each call hashes it (argon2): requests stay in flight longer
    acked: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    stop: asyncio.Event = field(default_factory=asyncio.Event)

    async def run(self) -> None:
        token = self.front.management_token()

        async def worker() -> None:
            async with httpx.AsyncClient(base_url=self.front.base_url, timeout=30,
                                         headers={"authorization": f"Bearer {token}"}) as http:
                while not self.stop.is_set():
                    username = new_person("load")["username"]
                    try:
                        user = {"username": username} if self.password is None else {
                            "username": username, "password": self.password}
                        response = await http.post("/api/v3/create-user", json=user)
                        body = response.json() if response.status_code == 200 else {}
                    except (httpx.TransportError, ValueError) as exc:
                        self.failed.append(f"{username}: {exc!r}")
                        continue
                    if body.get("statusCode") == 200:
                        self.acked.append(username)
                    else:
                        self.failed.append(f"{username}: HTTP {response.status_code} {response.text[:200]}")

        await asyncio.gather(*(worker() for _ in range(self.workers)))

    async def until(self, acked: int) -> None:
        deadline = time.monotonic() + WAIT
        while len(self.acked) < acked:
            assert time.monotonic() < deadline, (len(self.acked), self.failed[-5:])
            await asyncio.sleep(0.05)


async def test_an_instance_killed_under_load_loses_no_acknowledged_write_and_rejoins(cluster: Cluster) -> None:
    victim = cluster.instances[2]
    assert victim.process is not None
    load = Load(cluster.front)
    running = asyncio.create_task(load.run())
    try:
        await load.until(30)
        os.killpg(victim.process.pid, signal.SIGKILL)
        victim.process.wait(timeout=10)
        killed_at = len(load.acked) + len(load.failed)
        await asyncio.to_thread(cluster.wait_states, {victim.name: "DOWN"})
        failed_before_down = len(load.failed)
        await load.until(len(load.acked) + 60)
        routed_around = list(load.failed[failed_before_down:])

        await asyncio.to_thread(start_instance, victim, victim.log.parent)
        await asyncio.to_thread(cluster.wait_states, {i.name: "UP" for i in cluster.instances})
        await load.until(len(load.acked) + 60)
    finally:
        load.stop.set()
        await running

    # only the requests in flight on the killed instance may fail (one per client at most)
    assert len(load.failed) <= load.workers, (killed_at, load.failed)
    assert routed_around == [], routed_around
    # it took its share again after it came back (its counters start from zero at its new start)
    assert metric_total(victim, "twofold_http_requests_total", route="/api/v3/create-user") >= 1
    # every acknowledged write is there, read through an instance that was never killed
    direct = cluster.direct(0)
    for username in load.acked:
        assert direct.user_count(username) == 1, username


async def test_sigterm_drains_the_requests_in_flight_without_an_error(cluster: Cluster) -> None:
    stopping = cluster.instances[1]
    assert stopping.process is not None
    load = Load(cluster.front, password=PASSWORD)
    running = asyncio.create_task(load.run())
    try:
        await load.until(20)
        served_before = metric_total(stopping, "twofold_http_requests_total", route="/api/v3/create-user")
        os.killpg(stopping.process.pid, signal.SIGTERM)
        exit_code = await asyncio.to_thread(stopping.process.wait, WAIT)
        await asyncio.to_thread(cluster.wait_states, {stopping.name: "DOWN"})
        await load.until(len(load.acked) + 30)
        await asyncio.to_thread(start_instance, stopping, stopping.log.parent)
        await asyncio.to_thread(cluster.wait_states, {i.name: "UP" for i in cluster.instances})
    finally:
        load.stop.set()
        await running

    assert served_before >= 1  # it was taking its share when it was stopped
    assert load.failed == [], load.failed
    # a graceful end: uvicorn finished its shutdown, then (uvicorn >= 0.29) re-raised the SIGTERM it caught
    assert exit_code in (0, -signal.SIGTERM), exit_code
    assert "Finished server process" in stopping.log.read_text(errors="replace")
    direct = cluster.direct(0)
    for username in load.acked:
        assert direct.user_count(username) == 1, username
