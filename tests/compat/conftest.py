"""Fixtures of the contract tests: a live ``twofold serve`` per database backend, and the Node SDK.

Each test module gets its own server per backend (module scope), started on a fresh database:
a new SQLite file, or the shared PostgreSQL test database wiped first (``tests/conftest.py``).
Tests share that server, so they use unique identifiers (``support.new_person``) and never rely
on each other's order.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.compat.support import (
    NodeSdk,
    ensure_node_sdk,
)

REPO_ROOT = Path(__file__).resolve().parents[2]
NODE_CACHE = REPO_ROOT / ".cache" / "node"  # gitignored


@pytest.fixture(scope="session")
def node_sdk() -> NodeSdk:
    """``authing-node-sdk`` installed once into the gitignored cache, with the node binary to run it."""
    node, npm = shutil.which("node"), shutil.which("npm")
    if node is None or npm is None:
        pytest.skip("node/npm not installed: the authing-node-sdk contract tests need Node.js 18+ and npm")
    return NodeSdk(node, ensure_node_sdk(NODE_CACHE))
