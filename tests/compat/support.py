"""Helpers for the contract tests: a live ``twofold serve``, the Node SDK runner, a recording relay.

The fixtures that use them live in ``conftest.py``; test modules import these names directly.
"""

from __future__ import annotations

import asyncio
import http.client
import itertools
import json
import os
import secrets
import shutil
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from twofold.errors import parameter_name

TWOFOLD_BIN = Path(sys.executable).parent / "twofold"
NODE_SDK_VERSION = "4.0.1"
NODE_RUNNER = Path(__file__).resolve().parent / "node" / "run_calls.cjs"
STARTUP_TIMEOUT = 30.0
NODE_TIMEOUT = 60.0
ENVELOPE_KEYS = {"statusCode", "message", "requestId", "data"}

_sequence = itertools.count(1)
_run_tag = secrets.token_hex(3)
_phone_block = int(_run_tag, 16) % 10_000


# ------------------------------------------------------------------------------------------ test data
def new_person(prefix: str = "c") -> dict[str, str]:
    """Identifiers unique within the test session (and, by the random tag, across runs on one database)."""
    n = next(_sequence)
    tag = f"{prefix}{_run_tag}n{n}"
    return {
        "username": tag,
        "email": f"{tag}@example.com",
        "phone": f"139{_phone_block:04d}{n:04d}",
        "externalId": f"ext-{tag}",
    }


def assert_envelope(body: Any) -> dict[str, Any]:
    assert isinstance(body, dict), body
    assert set(body) >= ENVELOPE_KEYS, body
    return body


def ok_data(body: Any) -> Any:
    """The ``data`` of a successful envelope (``statusCode`` 200), failing with the whole body otherwise."""
    assert_envelope(body)
    assert body["statusCode"] == 200, body
    return body["data"]


# ------------------------------------------------------------------------------------ MFA test data
# A stored status, and a different valid one: each rejected write below is the latter plus one defect,
# so a server that applied part of a refused write would show it in get-mfa-status.
MFA_STATUS_BEFORE: dict[str, Any] = {
    "mfaToken": "before-token",
    "applicationMfa": [{"mfaPolicy": "OTP", "status": 1, "sort": 0}],
    "totpMfaEnabled": True,
    "mfaEmail": "before@example.com",
}
MFA_STATUS_OTHER: dict[str, Any] = {
    "mfaToken": "other-token",
    "applicationMfa": [{"mfaPolicy": "SMS", "status": 1, "sort": 1},
                       {"mfaPolicy": "EMAIL", "status": 1, "sort": 0}],
    "faceMfaEnabled": True,
    "mfaPhone": "13700137000",
    "mfaEmail": "other@example.com",
}


@dataclass(frozen=True)
class RejectedMfaWrite:
    """One invalid set-mfa-status: ``MFA_STATUS_OTHER`` with ``patch`` applied and ``drop`` removed."""

    name: str
    field_name: str  # the field the error message must name
    api_code: int
    patch: dict[str, Any] = field(default_factory=dict)
    drop: tuple[str, ...] = ()
    user_id_type: str | None = None
    zh_template: str = "参数 {name} 格式错误"  # a refusal of meaning must not say "format error"

    @property
    def zh_message(self) -> str:
        return self.zh_template.format(name=parameter_name(self.field_name))

    def trigger_data(self) -> dict[str, Any]:
        data = {**json.loads(json.dumps(MFA_STATUS_OTHER)), **self.patch}
        for name in self.drop:
            data.pop(name)
        return data


_AM = "mfaTriggerData.applicationMfa"
REJECTED_MFA_WRITES: list[RejectedMfaWrite] = [
    RejectedMfaWrite("unknown mfaPolicy", f"{_AM}[0].mfaPolicy", 40003,
                     {"applicationMfa": [{"mfaPolicy": "WEBAUTHN", "status": 1, "sort": 0}]}),
    RejectedMfaWrite("status 2", f"{_AM}[1].status", 40001,
                     {"applicationMfa": [{"mfaPolicy": "SMS", "status": 1, "sort": 0},
                                         {"mfaPolicy": "EMAIL", "status": 2, "sort": 1}]}),
    RejectedMfaWrite("negative sort", f"{_AM}[0].sort", 40001,
                     {"applicationMfa": [{"mfaPolicy": "SMS", "status": 1, "sort": -1}]}),
    RejectedMfaWrite("duplicate policy", f"{_AM}[1].mfaPolicy", 40030,
                     {"applicationMfa": [{"mfaPolicy": "SMS", "status": 1, "sort": 0},
                                         {"mfaPolicy": "SMS", "status": 0, "sort": 1}]},
                     zh_template="参数 {name} 与请求中的其他设置冲突"),
    RejectedMfaWrite("totpMfaEnabled not a boolean", "mfaTriggerData.totpMfaEnabled", 40001,
                     {"totpMfaEnabled": "no"}),
    RejectedMfaWrite("invalid mfaPhone", "mfaTriggerData.mfaPhone", 40001, {"mfaPhone": "12345"}),
    RejectedMfaWrite("invalid mfaEmail", "mfaTriggerData.mfaEmail", 40001, {"mfaEmail": "not-an-email"}),
    RejectedMfaWrite("missing mfaToken", "mfaTriggerData.mfaToken", 40001, drop=("mfaToken",)),
    RejectedMfaWrite("username not the user's", "mfaTriggerData.username", 40031,
                     {"username": "someone-else-entirely"},
                     zh_template="参数 {name} 与用户资料不一致，请通过 update-user 修改"),
    RejectedMfaWrite("unknown userIdType", "userIdType", 40001, user_id_type="nickname"),
    RejectedMfaWrite("custom_field userIdType", "userIdType", 40001, user_id_type="custom_field"),
]

# 64 + 1 + 167 = 232 characters: valid (email-validator allows up to 254), longer than 200
LONG_VALID_EMAIL = "Long." + "a" * 59 + "@" + ".".join(["b" * 60, "c" * 60, "d" * 41, "com"])


def mixed_case(text: str) -> str:
    """``pyab1@example.com`` -> ``PyAb1@ExAmPlE.CoM``: an address only a case-insensitive lookup finds."""
    return "".join(c.upper() if i % 2 == 0 else c.lower() for i, c in enumerate(text))


# -------------------------------------------------------------------------------------- live server
@dataclass
class LiveServer:
    """A running ``twofold serve`` and the bootstrap access key it was started with."""

    backend: str
    base_url: str
    port: int
    access_key_id: str
    access_key_secret: str
    env: dict[str, str] = field(default_factory=dict, repr=False)  # what `twofold serve` was started with
    _token: str | None = field(default=None, repr=False)

    def management_token(self) -> str:
        if self._token is None:
            response = httpx.post(f"{self.base_url}/api/v3/get-management-token",
                                  json={"accessKeyId": self.access_key_id,
                                        "accessKeySecret": self.access_key_secret}, timeout=10)
            self._token = ok_data(response.json())["access_token"]
        return self._token

    def call(self, method: str, path: str, **kwargs: Any) -> dict[str, Any]:
        """A plain, token-authenticated HTTP call (test setup and verification, not the SDK under test)."""
        headers = {"authorization": f"Bearer {self.management_token()}", **kwargs.pop("headers", {})}
        response = httpx.request(method, f"{self.base_url}/api/v3/{path}", headers=headers, timeout=10,
                                 **kwargs)
        assert response.status_code == 200, response.text
        return assert_envelope(response.json())

    def user_count(self, username: str) -> int:
        body = self.call("POST", "list-users", json={
            "advancedFilter": [{"field": "username", "operator": "EQUAL", "value": username}]})
        total: int = ok_data(body)["totalCount"]
        return total


def otp_required_user(server: LiveServer, prefix: str, password: str, *, secret: str | None = None,
                      recovery_code: str | None = None) -> dict[str, Any]:
    """A user with ``password`` whose MFA status requires OTP.  With ``secret`` the authenticator is
    bound (import-otp, with ``recovery_code`` when given); without, the sign-in must enrol one."""
    person = new_person(prefix)
    user: dict[str, Any] = ok_data(server.call("POST", "create-user", json={
        "username": person["username"], "email": person["email"], "password": password}))
    if secret is not None:
        otp = {"secret": secret} if recovery_code is None else {"secret": secret, "recoveryCode": recovery_code}
        ok_data(server.call("POST", "import-otp", json={"list": [{"userId": user["userId"], "otp": otp}]}))
    ok_data(server.call("POST", "set-mfa-status", json={"userId": user["userId"], "mfaTriggerData": {
        "mfaToken": "-", "applicationMfa": [{"mfaPolicy": "OTP", "status": 1, "sort": 0}],
        "totpMfaEnabled": secret is not None}}))
    return user


def create_access_key(server: LiveServer, *, allow_otp_secret_read: bool = False,
                      description: str = "compat test key") -> tuple[str, str]:
    """``twofold keys create --json`` on the live server's database; returns (accessKeyId, secret)."""
    assert server.env, "the live server's environment is needed to reach its database"
    command = [str(TWOFOLD_BIN), "keys", "create", "--json", "--description", description]
    if allow_otp_secret_read:
        command.append("--allow-otp-secret-read")
    done = subprocess.run(command, env=server.env, capture_output=True, timeout=60, check=False)
    if done.returncode != 0:
        raise AssertionError(f"twofold keys create exited {done.returncode}:\n"
                             f"{done.stdout.decode(errors='replace')}{done.stderr.decode(errors='replace')}")
    created = json.loads(done.stdout)
    assert created["permissions"] == (["otp:read-secret"] if allow_otp_secret_read else []), created
    return created["accessKeyId"], created["accessKeySecret"]


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def server_env(database_url: str, data_dir: Path, key_id: str, secret: str,
               master_key: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TWOFOLD_")}
    env.update({
        "TWOFOLD_DATA_DIR": str(data_dir),
        "TWOFOLD_DATABASE_URL": database_url,
        "TWOFOLD_SECRET_KEY": master_key,
        "TWOFOLD_BOOTSTRAP_ACCESS_KEY_ID": key_id,
        "TWOFOLD_BOOTSTRAP_ACCESS_KEY_SECRET": secret,
        "TWOFOLD_LOG_LEVEL": "INFO",
    })
    return env


def start_server(env: dict[str, str], workdir: Path, log_path: Path,
                 new_session: bool = False) -> tuple[subprocess.Popen[bytes], int]:
    """Start ``twofold serve`` on a free port and wait (bounded) until ``/healthz`` answers.
    ``new_session``: in a process group of its own, so that it can be killed with its workers."""
    last_error = "not started"
    for _attempt in range(3):  # a free port can be taken between probing and binding; try another
        chosen = free_port()
        with log_path.open("ab") as log:
            process = subprocess.Popen(
                [str(TWOFOLD_BIN), "serve", "--host", "127.0.0.1", "--port", str(chosen)],
                cwd=workdir, env=env, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                start_new_session=new_session,
            )
        deadline = time.monotonic() + STARTUP_TIMEOUT
        while time.monotonic() < deadline and process.poll() is None:
            try:
                if httpx.get(f"http://127.0.0.1:{chosen}/healthz", timeout=1).status_code == 200:
                    return process, chosen
            except httpx.TransportError:
                pass
            time.sleep(0.1)
        stop_server(process)
        last_error = log_path.read_text(errors="replace")[-4000:]
        if "address already in use" not in last_error.lower():
            break
    raise RuntimeError(f"twofold serve did not become healthy within {STARTUP_TIMEOUT:.0f} s:\n{last_error}")


def stop_server(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


# -------------------------------------------------------------------------------------- Python SDK
def genauth_client(server: LiveServer, secret: str | None = None, key_id: str | None = None,
                   lang: str | None = None, host: str | None = None) -> Any:
    from genauth import ManagementClient  # imported late: its import pulls in websockets

    return ManagementClient(access_key_id=key_id or server.access_key_id,
                            access_key_secret=secret or server.access_key_secret,
                            host=host or server.base_url, lang=lang)


# ---------------------------------------------------------------------------------------- Node SDK
@dataclass
class NodeSdk:
    """Runs ``node/run_calls.cjs`` with the cached ``authing-node-sdk`` on ``NODE_PATH``."""

    node: str
    node_modules: Path

    def run(
        self, clients: dict[str, dict[str, Any]], calls: list[dict[str, Any]], sdk_class: str = "ManagementClient"
    ) -> list[dict[str, Any]]:
        env = {**os.environ, "NODE_PATH": str(self.node_modules), "NODE_NO_WARNINGS": "1"}
        payload = json.dumps({"sdkClass": sdk_class, "clients": clients, "calls": calls})
        done = subprocess.run([self.node, str(NODE_RUNNER)], input=payload.encode(), capture_output=True,
                              env=env, timeout=NODE_TIMEOUT, check=False)
        if done.returncode != 0:
            raise AssertionError(f"node exited {done.returncode}:\n{done.stderr.decode(errors='replace')}")
        results: list[dict[str, Any]] = json.loads(done.stdout)
        assert len(results) == len(calls), results
        return results


def node_options(server: LiveServer, host: str | None = None, secret: str | None = None,
                 lang: str | None = None) -> dict[str, Any]:
    options: dict[str, Any] = {"host": host or server.base_url, "accessKeyId": server.access_key_id,
                               "accessKeySecret": secret or server.access_key_secret}
    if lang:
        options["lang"] = lang
    return options


def node_body(result: dict[str, Any]) -> dict[str, Any]:
    """The envelope an SDK call returned; a thrown error (e.g. a non-2xx HTTP status) fails the test."""
    assert result["ok"], result.get("error")
    return assert_envelope(result["result"])


def ensure_node_sdk(cache_dir: Path) -> Path:
    """Install ``authing-node-sdk`` into ``cache_dir`` once (npm, under a file lock); return node_modules."""
    import fcntl

    node_modules = cache_dir / "node_modules"
    manifest = node_modules / "authing-node-sdk" / "package.json"

    def installed() -> bool:
        try:
            return bool(json.loads(manifest.read_text())["version"] == NODE_SDK_VERSION)
        except (OSError, ValueError, KeyError):
            return False

    cache_dir.mkdir(parents=True, exist_ok=True)
    with (cache_dir / ".install.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not installed():
            npm = shutil.which("npm")
            assert npm is not None
            # npm's own download cache and update check stay inside cache_dir too: the suite
            # changes nothing outside the repository.
            env = dict(os.environ, npm_config_cache=str(cache_dir / "npm-cache"), npm_config_update_notifier="false")
            done = subprocess.run(
                [npm, "install", "--no-audit", "--no-fund", "--prefix", str(cache_dir),
                 f"authing-node-sdk@{NODE_SDK_VERSION}"],
                capture_output=True, timeout=300, check=False, env=env,
            )
            if done.returncode != 0 or not installed():
                raise RuntimeError(f"npm install authing-node-sdk@{NODE_SDK_VERSION} failed:\n"
                                   f"{done.stdout.decode(errors='replace')}{done.stderr.decode(errors='replace')}")
    return node_modules


# -------------------------------------------------------------------------------- recording relay
class RecordingRelay:
    """A TCP relay on 127.0.0.1 in front of the server that keeps every byte each client sent.

    The SDK is pointed at the relay, so the test sees the exact request the unmodified SDK produced
    (signature headers included) and can send the same bytes again.
    """

    def __init__(self, upstream_port: int) -> None:
        self._upstream_port = upstream_port
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._listener.settimeout(0.1)
        self.port: int = self._listener.getsockname()[1]
        self.streams: list[bytearray] = []
        self._threads: list[threading.Thread] = []
        self._sockets: list[socket.socket] = []
        self._stopping = threading.Event()
        self._acceptor = threading.Thread(target=self._accept, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> RecordingRelay:
        self._acceptor.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stopping.set()
        self._acceptor.join(timeout=5)
        self._listener.close()
        for thread in self._threads:
            thread.join(timeout=5)
        for sock in self._sockets:
            sock.close()

    def requests(self) -> list[bytes]:
        """Every HTTP request the clients sent, as raw bytes, in order."""
        return [raw for stream in self.streams for raw in split_http_requests(bytes(stream))]

    def _accept(self) -> None:
        while not self._stopping.is_set():
            try:
                client, _ = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            upstream = socket.create_connection(("127.0.0.1", self._upstream_port), timeout=10)
            self._sockets += [client, upstream]
            recorded = bytearray()
            self.streams.append(recorded)
            for source, sink, record in ((client, upstream, recorded), (upstream, client, None)):
                thread = threading.Thread(target=pump, args=(source, sink, record), daemon=True)
                thread.start()
                self._threads.append(thread)


def pump(source: socket.socket, sink: socket.socket, record: bytearray | None = None,
         gate: threading.Event | None = None) -> None:
    """Copy ``source`` to ``sink`` until it ends (keeping the bytes in ``record``), then half-close ``sink``.
    ``gate``: nothing reaches ``sink`` (bytes or the half-close) while it is clear."""
    try:
        while True:
            chunk = source.recv(65536)
            if gate is not None:
                gate.wait()
            if not chunk:
                break
            if record is not None:
                record.extend(chunk)
            sink.sendall(chunk)
    except OSError:
        pass
    finally:
        if gate is not None:
            gate.wait()
        try:
            sink.shutdown(socket.SHUT_WR)
        except OSError:
            pass


def split_http_requests(stream: bytes) -> list[bytes]:
    """Cut a client's byte stream into requests (Content-Length framing; the SDKs never chunk)."""
    found = []
    while stream:
        head_end = stream.index(b"\r\n\r\n") + 4
        length = 0
        for line in stream[:head_end].split(b"\r\n")[1:]:
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"transfer-encoding":
                raise AssertionError("chunked request bodies are not expected from the SDKs")
            if name.strip().lower() == b"content-length":
                length = int(value.strip())
        found.append(stream[:head_end + length])
        stream = stream[head_end + length:]
    return found


def request_line(raw: bytes) -> str:
    return raw.split(b"\r\n", 1)[0].decode("latin-1")


def send_raw(port: int, raw: bytes) -> tuple[int, dict[str, Any]]:
    """Send ``raw`` byte for byte on a new connection; return the HTTP status and the JSON body."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(raw)
        response = http.client.HTTPResponse(sock)
        response.begin()
        body = response.read()
    return response.status, json.loads(body)


async def race_totp_verify(clients: list[httpx.AsyncClient], tokens: list[str], code: str) -> list[dict[str, Any]]:
    """``mfa-totp-verify`` of one ``code``, each mfaToken on its own (already connected) client, all
    released at the same moment; every answer."""
    start = asyncio.Event()

    async def submit(client: httpx.AsyncClient, token: str) -> dict[str, Any]:
        await start.wait()
        response = await client.post("/api/v3/mfa-totp-verify", json={"totp": code}, headers={"authorization": token})
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body

    racing = [asyncio.create_task(submit(c, t)) for c, t in zip(clients, tokens, strict=True)]
    await asyncio.sleep(0)
    start.set()
    return list(await asyncio.gather(*racing))
