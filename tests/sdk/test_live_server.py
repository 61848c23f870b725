"""End to end over real sockets: the SDK against ``twofold serve``, and timeouts against a silent peer."""

from __future__ import annotations

import re
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Literal

import pytest

from tests.compat.support import LiveServer
from tests.sdk.conftest import person
from twofold_client import (
    ApplicationMfa,
    AsyncManagementClient,
    AuthenticationError,
    Factor,
    ManagementClient,
    MfaTriggerData,
    NotFoundError,
    TransportError,
    UserIdType,
    VersionConflictError,
)

Auth = Literal["token", "signature"]


def client_for(server: LiveServer, auth: Auth) -> ManagementClient:
    return ManagementClient(server.access_key_id, server.access_key_secret, server.base_url, auth=auth)


@pytest.mark.parametrize("auth", ["token", "signature"])
def test_sync_client_manages_users_and_mfa_over_http(live_server: LiveServer, auth: Auth) -> None:
    with client_for(live_server, auth) as client:
        fields = person()
        user = client.create_user(**fields)
        assert client.get_user(fields["email"], UserIdType.EMAIL).user_id == user.user_id
        data = MfaTriggerData(
            mfa_token="-", application_mfa=[ApplicationMfa(mfa_policy=Factor.OTP, status=1, sort=0)]
        )
        assert client.set_users_mfa_status(data, user.user_id, version=0) == 1
        status = client.get_user_mfa_status(user.user_id)
        # OTP required, flag left out: not enrolled, since no secret is bound (docs/mfa-status.md)
        assert (status.version, status.totp_mfa_enabled) == (1, False)
        with pytest.raises(VersionConflictError):
            client.set_users_mfa_status(data, user.user_id, version=0)
        with pytest.raises(NotFoundError) as caught:
            client.get_user("000000000000000000000000")
        assert caught.value.api_code == 40401 and caught.value.request_id


@pytest.mark.parametrize("auth", ["token", "signature"])
async def test_async_client_over_http(live_server: LiveServer, auth: Auth) -> None:
    async with AsyncManagementClient(
        live_server.access_key_id, live_server.access_key_secret, live_server.base_url, auth=auth
    ) as client:
        user = await client.create_user(**person())
        assert (await client.get_user_batch([user.user_id]))[0].user_id == user.user_id
        assert (await client.list_audit_events(user_id=user.user_id))[0].action == "user.create"


@pytest.mark.parametrize("auth", ["token", "signature"])
def test_wrong_secret_is_refused_over_http(live_server: LiveServer, auth: Auth) -> None:
    with ManagementClient(
        live_server.access_key_id, "not-the-secret-0123", live_server.base_url, auth=auth
    ) as c:
        with pytest.raises(AuthenticationError) as caught:
            c.get_global_mfa_settings()
    assert (caught.value.status_code, caught.value.api_code) == (401, 40100)


README = Path(__file__).resolve().parents[2] / "clients" / "python" / "README.md"


def test_readme_examples_run(live_server: LiveServer) -> None:
    """The README's sync and async examples, pointed at the live server."""
    blocks = re.findall(r"```python\n(.*?)```", README.read_text(), re.S)
    for block in blocks[:2]:
        code = (
            block.replace('access_key_id="..."', f"access_key_id={live_server.access_key_id!r}")
            .replace('access_key_secret="..."', f"access_key_secret={live_server.access_key_secret!r}")
            .replace('"http://127.0.0.1:8080"', repr(live_server.base_url))
        )
        assert code != block
        exec(compile(code, str(README), "exec"), {})


# ---------------------------------------------------------------------------------- silent peer
class SilentPeer:
    """A TCP listener that accepts connections, reads, and never answers."""

    def __init__(self) -> None:
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._listener.settimeout(0.05)
        self.url = f"http://127.0.0.1:{self._listener.getsockname()[1]}"
        self.accepted = 0
        self._open: list[socket.socket] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self._listener.accept()
            except TimeoutError:
                continue
            self.accepted += 1
            self._open.append(conn)

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        for conn in self._open:
            conn.close()
        self._listener.close()


@pytest.fixture
def silent_peer() -> Iterator[SilentPeer]:
    peer = SilentPeer()
    yield peer
    peer.close()


def test_timeout_is_honoured_and_a_get_is_retried(silent_peer: SilentPeer) -> None:
    with ManagementClient(
        "k", "s", silent_peer.url, auth="signature", timeout=0.3, retries=1, backoff_factor=0
    ) as client:
        started = time.monotonic()
        with pytest.raises(TransportError, match="timed out"):
            client.get_global_mfa_settings()
        elapsed = time.monotonic() - started
    assert 0.5 <= elapsed < 3  # two attempts of 0.3 s each
    assert silent_peer.accepted == 2


def test_a_post_that_timed_out_is_not_repeated(silent_peer: SilentPeer) -> None:
    with ManagementClient(
        "k", "s", silent_peer.url, auth="signature", timeout=0.3, retries=3, backoff_factor=0
    ) as client:
        with pytest.raises(TransportError, match="timed out"):
            client.create_user(username="once")
    assert silent_peer.accepted == 1


async def test_async_timeout_is_honoured(silent_peer: SilentPeer) -> None:
    async with AsyncManagementClient(
        "k", "s", silent_peer.url, auth="signature", timeout=0.3, retries=0
    ) as c:
        started = time.monotonic()
        with pytest.raises(TransportError, match="timed out"):
            await c.get_global_mfa_settings()
    assert 0.25 <= time.monotonic() - started < 2


def test_connection_refused_is_a_transport_error() -> None:
    with socket.create_server(("127.0.0.1", 0)) as probe:
        url = f"http://127.0.0.1:{probe.getsockname()[1]}"
    with ManagementClient("k", "s", url, auth="signature", retries=2, backoff_factor=0) as client:
        with pytest.raises(TransportError) as caught:
            client.create_user(username="x")
    assert caught.value.http_status is None and "ConnectError" in str(caught.value)
