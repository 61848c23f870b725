"""The deployment under test (tests/deployment/test_haproxy.py): ``twofold serve`` instances on fixed
ports and HAProxy's view of its servers (HAProxy's config, made from the shipped one: bench/harness/haproxy.py)."""

from __future__ import annotations

import socket
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from tests.compat.support import STARTUP_TIMEOUT, TWOFOLD_BIN, LiveServer, ok_data
from tests.conftest import BOOTSTRAP_KEY_ID, BOOTSTRAP_SECRET

WAIT = 60.0  # bound of every wait for HAProxy to see a state change


@dataclass
class Instance:
    name: str
    port: int
    env: dict[str, str]
    log: Path
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


@dataclass
class Cluster:
    front: LiveServer  # the HAProxy frontend
    instances: list[Instance]
    stats_socket: Path
    haproxy_log: Path
    apps: dict[str, Any] = field(default_factory=dict)

    def direct(self, index: int) -> LiveServer:
        """The same bootstrap key, talking to one instance instead of through HAProxy."""
        i = self.instances[index]
        return LiveServer("postgresql", i.url, i.port, BOOTSTRAP_KEY_ID, BOOTSTRAP_SECRET, i.env)

    def server_states(self) -> dict[str, str]:
        """HAProxy's view of each server of the backend (``UP``, ``DOWN``, …), from its runtime API."""
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
            sock.connect(str(self.stats_socket))
            sock.sendall(b"show stat\n")
            chunks = []
            while chunk := sock.recv(65536):
                chunks.append(chunk)
        lines = b"".join(chunks).decode().splitlines()
        header = lines[0].lstrip("# ").split(",")
        states = {}
        for line in lines[1:]:
            row = dict(zip(header, line.split(","), strict=False))
            if row.get("pxname") == "twofold" and row.get("svname") not in ("BACKEND", None):
                states[row["svname"]] = row["status"].split()[0]
        return states

    def wait_states(self, wanted: dict[str, str]) -> None:
        deadline = time.monotonic() + WAIT
        while True:
            states = self.server_states()
            if all(states.get(k) == v for k, v in wanted.items()):
                return
            if time.monotonic() > deadline:
                raise AssertionError(f"HAProxy did not reach {wanted}: {states}\n"
                                     + self.haproxy_log.read_text(errors="replace")[-3000:])
            time.sleep(0.2)

    def app(self, name: str = "Deploy") -> dict[str, Any]:
        if name not in self.apps:
            app = ok_data(self.front.call("POST", "create-application", json={"appName": name}))
            ok_data(self.front.call("POST", "update-application-mfa-settings",
                                    json={"appId": app["appId"], "enabledFactors": ["OTP"]}))
            self.apps[name] = app
        known: dict[str, Any] = self.apps[name]
        return known


def start_instance(instance: Instance, workdir: Path) -> None:
    """``twofold serve`` on the instance's fixed port (HAProxy's config names it), in its own process
    group; waits (bounded) until ``/healthz`` answers."""
    with instance.log.open("ab") as log:
        instance.process = subprocess.Popen(
            [str(TWOFOLD_BIN), "serve", "--host", "127.0.0.1", "--port", str(instance.port)],
            cwd=workdir, env=instance.env, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
            start_new_session=True)
    deadline = time.monotonic() + STARTUP_TIMEOUT * 2  # three start at once on a small machine
    while time.monotonic() < deadline and instance.process.poll() is None:
        try:
            if httpx.get(f"{instance.url}/healthz", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"{instance.name} did not become healthy:\n{instance.log.read_text(errors='replace')[-4000:]}")


def metric_total(instance: Instance, name: str, **labels: str) -> float:
    """The sum of one metric's samples on one instance (its own /metrics), those with ``labels``."""
    text = httpx.get(f"{instance.url}/metrics", timeout=10).text
    total = 0.0
    for line in text.splitlines():
        if line.startswith(name + "{") and all(f'{k}="{v}"' in line for k, v in labels.items()):
            total += float(line.rsplit(" ", 1)[1])
    return total
