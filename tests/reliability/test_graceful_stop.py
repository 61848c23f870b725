"""A ``twofold serve`` with several workers that is told to stop (SIGTERM) refuses new connections at
once while it finishes the requests in flight (docs/deployment.md#draining), so that HAProxy sends them
to another instance. uvicorn's supervisor kept the port open until its workers were done: HAProxy's
requests on the connections the port still accepted then failed (the walk-through of the deployment
found it, with TWOFOLD_WORKERS=2)."""

from __future__ import annotations

import json
import signal
import socket
import time
from pathlib import Path

from tests.conftest import BOOTSTRAP_KEY_ID, BOOTSTRAP_SECRET
from tests.reliability.support import serve_sqlite

WAIT = 30.0


def refuses_connections(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=5).close()
    except ConnectionRefusedError:
        return True
    return False


def test_a_stopping_server_refuses_new_connections_while_it_finishes_a_request(tmp_path: Path) -> None:
    process, server = serve_sqlite(tmp_path / "twofold.db", tmp_path, TWOFOLD_WORKERS="2")
    body = json.dumps({"accessKeyId": BOOTSTRAP_KEY_ID, "accessKeySecret": BOOTSTRAP_SECRET}).encode()
    try:
        with socket.create_connection(("127.0.0.1", server.port), timeout=WAIT) as in_flight:
            in_flight.sendall(b"POST /api/v3/get-management-token HTTP/1.1\r\nHost: twofold\r\n"
                              b"Content-Type: application/json\r\nExpect: 100-continue\r\n"
                              + f"Content-Length: {len(body)}\r\n\r\n".encode())
            # uvicorn answers 100 Continue when the app asks for the body: the request is in flight
            assert in_flight.recv(100).startswith(b"HTTP/1.1 100 Continue"), "no 100 Continue"

            process.send_signal(signal.SIGTERM)
            deadline = time.monotonic() + WAIT
            while not refuses_connections(server.port) and time.monotonic() < deadline:
                time.sleep(0.1)
            assert refuses_connections(server.port), "the stopping server still accepts connections"
            assert process.poll() is None  # still finishing the request in flight

            in_flight.sendall(body)
            answer = b""
            while chunk := in_flight.recv(65536):  # the answer says "connection: close"
                answer += chunk
        head, _, payload = answer.decode().partition("\r\n\r\n")
        assert head.startswith("HTTP/1.1 200"), head
        assert json.loads(payload)["statusCode"] == 200, payload
        assert process.wait(timeout=WAIT) in (0, -signal.SIGTERM)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(timeout=WAIT)
