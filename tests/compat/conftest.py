"""Fixtures of the contract tests: a live ``twofold serve`` per database backend, and the Node SDK.

Each test module gets its own server per backend (module scope), started on a fresh database:
a new SQLite file, or the shared PostgreSQL test database wiped first (``tests/conftest.py``).
Tests share that server, so they use unique identifiers (``support.new_person``) and never rely
on each other's order.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.compat.support import (
    LiveServer,
    NodeSdk,
    ensure_node_sdk,
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
from tests.delivery_peers import SmtpHandler, Webhook, code_in, smtp_server, webhook_receiver

REPO_ROOT = Path(__file__).resolve().parents[2]
NODE_CACHE = REPO_ROOT / ".cache" / "node"  # gitignored


@pytest.fixture(scope="session")
def node_sdk() -> NodeSdk:
    """``authing-node-sdk`` installed once into the gitignored cache, with the node binary to run it."""
    node, npm = shutil.which("node"), shutil.which("npm")
    if node is None or npm is None:
        pytest.skip("node/npm not installed: the authing-node-sdk contract tests need Node.js 18+ and npm")
    return NodeSdk(node, ensure_node_sdk(NODE_CACHE))


# ------------------------------------------------------------------- a live server that delivers
WEBHOOK_SECRET = "whsec-compat-0123456789abcdef"  # noqa: S105 - a test secret


@dataclass
class DeliveringServer:
    """A live ``twofold serve`` whose email goes to a real SMTP server (aiosmtpd) and whose SMS goes
    to a real webhook receiver, both in the test process."""

    server: LiveServer
    mail: SmtpHandler
    hook: Webhook

    def mails_to(self, address: str) -> list[str]:
        return [code_in(r.message.get_content()) for r in self.mail.received if r.recipients == [address]]

    def mail_code(self, address: str) -> str:
        """The code of the last email to ``address``."""
        found = self.mails_to(address)
        assert found, f"no email reached {address}"
        return found[-1]

    def texts_to(self, e164: str) -> list[str]:
        return [code_in(r["json"]["text"]) for r in self.hook.delivered if r["json"]["to"] == e164]

    def sms_code(self, e164: str) -> str:
        found = self.texts_to(e164)
        assert found, f"no SMS reached {e164}"
        return found[-1]


@pytest.fixture(scope="module", params=BACKENDS)
def delivering_server(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[DeliveringServer]:
    """Like ``live_server``, with ``TWOFOLD_SMTP_URL`` and ``TWOFOLD_SMS_WEBHOOK_URL`` set."""
    backend: str = request.param
    workdir = tmp_path_factory.mktemp(f"delivering-{backend}")
    database_url = fresh_database_url(request, backend, workdir)
    hook = Webhook(WEBHOOK_SECRET.encode())
    with smtp_server() as (mail, smtp_port), webhook_receiver(hook) as hook_url:
        env = server_env(database_url, workdir / "data", BOOTSTRAP_KEY_ID, BOOTSTRAP_SECRET, SECRET_KEY)
        env.update({
            "TWOFOLD_SMTP_URL": f"smtp://127.0.0.1:{smtp_port}",
            "TWOFOLD_SMTP_FROM": "Twofold <no-reply@twofold.test>",
            "TWOFOLD_SMS_WEBHOOK_URL": hook_url,
            "TWOFOLD_SMS_WEBHOOK_SECRET": WEBHOOK_SECRET,
            "TWOFOLD_PASSCODE_IP_HOURLY_LIMIT": "1000",  # every test sends from 127.0.0.1
        })
        process, port = start_server(env, workdir, workdir / "server.log")
        try:
            server = LiveServer(backend, f"http://127.0.0.1:{port}", port, BOOTSTRAP_KEY_ID, BOOTSTRAP_SECRET, env)
            yield DeliveringServer(server, mail, hook)
        finally:
            stop_server(process)
            if backend != "sqlite":
                wipe_postgres(database_url)
