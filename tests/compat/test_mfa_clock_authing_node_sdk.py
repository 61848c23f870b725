"""An expired mfaToken through the unmodified ``authing-node-sdk`` ``AuthenticationClient``, over real HTTP,
on both databases: the real app on a real socket (uvicorn in a thread), its services on a clock the test
moves (docs/signin.md#mfa-required: the mfaToken lives ``TWOFOLD_MFA_TOKEN_TTL_SECONDS``).

A module of its own: its server is built on the function-scoped ``settings`` database, which must not
be wiped under a module-scoped ``live_server`` of the same backend.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Iterator

import pyotp
import pytest
import uvicorn

from tests.compat.support import LiveServer, NodeSdk, free_port, node_body, ok_data
from tests.compat.test_mfa_step_authing_node_sdk import challenge, make_app, make_user, run, verify
from tests.conftest import BOOTSTRAP_KEY_ID, BOOTSTRAP_SECRET
from tests.integration.test_signin import FakeClock
from twofold.api.app import create_app
from twofold.config import Settings
from twofold.services.container import bootstrap, build_services

pytestmark = pytest.mark.compat


@pytest.fixture
def clocked_server(settings: Settings) -> Iterator[tuple[LiveServer, FakeClock]]:
    """The real app on a real socket (uvicorn in a thread), its services on a clock the test moves."""
    clock = FakeClock()
    port = free_port()
    holder: dict[str, uvicorn.Server] = {}
    failed: list[BaseException] = []

    def serve() -> None:
        async def main() -> None:
            services = await build_services(settings, clock)
            await bootstrap(services, settings)
            server = uvicorn.Server(uvicorn.Config(create_app(settings, services), host="127.0.0.1", port=port,
                                                   log_config=None, lifespan="on"))
            holder["server"] = server
            try:
                await server.serve()
            finally:
                await services.close()

        try:
            asyncio.run(main())
        except BaseException as exc:  # noqa: BLE001 - reported to the test below
            failed.append(exc)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not (holder.get("server") and holder["server"].started):
        assert not failed and time.monotonic() < deadline, f"the server did not start: {failed}"
        time.sleep(0.02)
    backend = "sqlite" if settings.resolved_database_url.startswith("sqlite") else "postgresql"
    try:
        yield LiveServer(backend, f"http://127.0.0.1:{port}", port, BOOTSTRAP_KEY_ID, BOOTSTRAP_SECRET), clock
    finally:
        holder["server"].should_exit = True
        thread.join(15)


def test_node_an_expired_mfa_token_is_refused(
    clocked_server: tuple[LiveServer, FakeClock], node_sdk: NodeSdk
) -> None:
    server, clock = clocked_server
    app = make_app(server)
    secret = pyotp.random_base32(32)
    user = make_user(server, secret)
    token = challenge(node_sdk, server, app, user)
    clock.now += 300_000  # TWOFOLD_MFA_TOKEN_TTL_SECONDS' default: the token's last second is over
    code = pyotp.TOTP(secret).at(clock.now // 1000)  # right for the server's clock
    _, refused, introspected = run(node_sdk, server, app, [
        {"method": "setAccessToken", "args": token},
        {"method": "mfaOtpVerify", "args": {"totp": code}},
        {"method": "verifyMfaToken", "args": {"token": token}},
    ])
    answer = node_body(refused)
    assert (answer["statusCode"], answer["apiCode"], answer["data"]) == (401, 2021, None), answer
    assert introspected["result"] == {"active": False}
    clock.now -= 1_000  # one second earlier the same token and code finish the sign-in
    assert ok_data(verify(node_sdk, server, app, token, code))["tokenSet"]["access_token"]
