"""Limits at the edge, against a real ``twofold serve`` with small limits (docs/operations.md#limits-at-the-edge):
a body too large is refused with an envelope and changes nothing, chunked or not; headers too large and
headers too slow (slowloris) get their connection closed, and meanwhile the one worker serves others."""

from __future__ import annotations

import http.client
import json
import socket
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.compat.support import LiveServer, server_env, start_server, stop_server
from tests.conftest import BOOTSTRAP_KEY_ID, BOOTSTRAP_SECRET, SECRET_KEY

MAX_BODY = 4096
MAX_HEADERS = 2048
HEADER_TIMEOUT = 1.0


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    workdir: Path = tmp_path_factory.mktemp("edge")
    env = server_env(
        f"sqlite:///{workdir / 'twofold.db'}", workdir / "data", BOOTSTRAP_KEY_ID, BOOTSTRAP_SECRET, SECRET_KEY
    )
    env.update({
        "TWOFOLD_MAX_BODY_BYTES": str(MAX_BODY),
        "TWOFOLD_MAX_HEADER_BYTES": str(MAX_HEADERS),
        "TWOFOLD_HEADER_TIMEOUT_SECONDS": str(HEADER_TIMEOUT),
    })
    process, port = start_server(env, workdir, workdir / "server.log")
    try:
        yield LiveServer("sqlite", f"http://127.0.0.1:{port}", port, BOOTSTRAP_KEY_ID, BOOTSTRAP_SECRET, env)
    finally:
        stop_server(process)


def user_body(username: str, size: int) -> bytes:
    return json.dumps({"username": username, "nickname": "n" * size}).encode()


def test_a_body_over_the_limit_is_refused_by_its_length_and_changes_nothing(server: LiveServer) -> None:
    token = server.management_token()
    response = httpx.post(
        f"{server.base_url}/api/v3/create-user", content=user_body("edge-big", MAX_BODY),
        headers={"authorization": f"Bearer {token}", "content-type": "application/json"}, timeout=10,
    )
    body = response.json()
    assert response.status_code == 200
    assert (body["statusCode"], body["apiCode"]) == (413, 41300) and body["requestId"]
    assert server.user_count("edge-big") == 0
    small = httpx.post(
        f"{server.base_url}/api/v3/create-user", content=user_body("edge-small", 100),
        headers={"authorization": f"Bearer {token}", "content-type": "application/json"}, timeout=10,
    )
    assert small.json()["statusCode"] == 200 and server.user_count("edge-small") == 1


def test_a_chunked_body_over_the_limit_is_refused_as_it_streams_and_changes_nothing(server: LiveServer) -> None:
    token = server.management_token()

    def chunks() -> Iterator[bytes]:  # no content-length: counted as it arrives
        payload = user_body("edge-chunked", MAX_BODY * 2)
        for i in range(0, len(payload), 1000):
            yield payload[i : i + 1000]

    response = httpx.post(
        f"{server.base_url}/api/v3/create-user", content=chunks(),
        headers={"authorization": f"Bearer {token}", "content-type": "application/json"}, timeout=10,
    )
    body = response.json()
    assert (body["statusCode"], body["apiCode"]) == (413, 41300)
    assert server.user_count("edge-chunked") == 0


def read_status(sock: socket.socket) -> int:
    response = http.client.HTTPResponse(sock)
    response.begin()
    return response.status


def test_headers_over_the_limit_get_431_and_the_connection_closed(server: LiveServer) -> None:
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as sock:
        sock.sendall(b"GET /healthz HTTP/1.1\r\nhost: t\r\nx-padding: " + b"a" * MAX_HEADERS + b"\r\n\r\n")
        assert read_status(sock) == 431
        assert sock.recv(1) == b""  # closed


def test_a_slowloris_client_is_cut_off_and_does_not_hold_the_worker(server: LiveServer) -> None:
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as sock:
        sock.sendall(b"GET /healthz HTTP/1.1\r\nhost: t\r\n")
        sent, closed_by_server = 0, False
        deadline = time.monotonic() + 60  # the client would go on for a minute: far past the limit
        while time.monotonic() < deadline:
            # Meanwhile the server's only worker answers everyone else.
            assert httpx.get(f"{server.base_url}/healthz", timeout=10).status_code == 200
            try:
                sock.sendall(b"x-slow-%d: 1\r\n" % sent)
            except (BrokenPipeError, ConnectionResetError):
                closed_by_server = True
                break
            sent += 1
            time.sleep(0.2)
            sock.setblocking(False)
            try:
                if sock.recv(4096).startswith(b"HTTP/1.1 408"):
                    closed_by_server = True
                    break
            except BlockingIOError:
                pass
            finally:
                sock.setblocking(True)
        assert closed_by_server


def test_a_connection_that_sends_nothing_is_closed(server: LiveServer) -> None:
    with socket.create_connection(("127.0.0.1", server.port), timeout=HEADER_TIMEOUT * 30) as sock:
        assert read_status(sock) == 408  # without a byte sent, the deadline still runs
        assert sock.recv(1) == b""


def test_an_idle_kept_alive_connection_is_not_cut_by_the_header_deadline(server: LiveServer) -> None:
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as sock:
        for _ in range(2):  # idle longer than the header deadline, shorter than the keep-alive timeout
            sock.sendall(b"GET /healthz HTTP/1.1\r\nhost: t\r\n\r\n")
            response = http.client.HTTPResponse(sock)
            response.begin()
            assert response.status == 200 and response.read() == b'{"status":"ok"}'
            time.sleep(HEADER_TIMEOUT * 2)
