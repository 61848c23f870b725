"""Fixtures of the contract tests: a live ``twofold serve`` per database backend, and the Node SDK.

Each test module gets its own server per backend (module scope), started on a fresh database:
a new SQLite file, or the shared PostgreSQL test database wiped first (``tests/conftest.py``).
Tests share that server, so they use unique identifiers (``support.new_person``) and never rely
on each other's order.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
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
from tests.conftest import BACKENDS, BOOTSTRAP_KEY_ID, BOOTSTRAP_SECRET, SECRET_KEY, wipe_postgres

REPO_ROOT = Path(__file__).resolve().parents[2]
NODE_CACHE = REPO_ROOT / ".cache" / "node"  # gitignored


@pytest.fixture(scope="module", params=BACKENDS)
def live_server(request: pytest.FixtureRequest,
                tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """``twofold serve`` on 127.0.0.1:<free port>, bootstrapped with a known access key."""
    backend: str = request.param
    workdir = tmp_path_factory.mktemp(f"live-{backend}")
    if backend == "sqlite":
        database_url = f"sqlite:///{workdir / 'twofold.db'}"
    else:
        database_url = request.getfixturevalue("postgres_ready")
        wipe_postgres(database_url)
    env = server_env(database_url, workdir / "data", BOOTSTRAP_KEY_ID, BOOTSTRAP_SECRET, SECRET_KEY)
    process, port = start_server(env, workdir, workdir / "server.log")
    try:
        yield LiveServer(backend, f"http://127.0.0.1:{port}", port, BOOTSTRAP_KEY_ID, BOOTSTRAP_SECRET, env)
    finally:
        stop_server(process)
        if backend != "sqlite":
            wipe_postgres(database_url)  # leave nothing behind for the in-process tests


@pytest.fixture(scope="session")
def node_sdk() -> NodeSdk:
    """``authing-node-sdk`` installed once into the gitignored cache, with the node binary to run it."""
    node, npm = shutil.which("node"), shutil.which("npm")
    if node is None or npm is None:
        pytest.skip("node/npm not installed: the authing-node-sdk contract tests need Node.js 18+ and npm")
    return NodeSdk(node, ensure_node_sdk(NODE_CACHE))
