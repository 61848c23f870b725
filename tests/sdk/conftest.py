"""Fixtures of the SDK tests: the SDK in-process against the real app, and a live ``twofold serve``.

``sdk`` is an ``AsyncManagementClient`` over ``httpx.ASGITransport`` on every database backend (the root
``services`` fixture) and with both authentication schemes. ``live_server`` runs the real server on a
socket (module scope, per backend) for the end-to-end tests; it reuses the contract tests' helpers.
"""

from __future__ import annotations

import itertools
import secrets
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from tests.conftest import BOOTSTRAP_KEY_ID, BOOTSTRAP_SECRET
from twofold.api.app import create_app
from twofold.config import Settings
from twofold.services.container import Services
from twofold_client import AsyncManagementClient

IN_PROCESS_HOST = "http://twofold.test"
_sequence = itertools.count(1)
_run = secrets.token_hex(3)


def person(**overrides: Any) -> dict[str, Any]:
    """``create_user`` keyword arguments with identifiers unique in this test session."""
    n = next(_sequence)
    tag = f"sdk{_run}n{n}"
    fields: dict[str, Any] = {
        "username": tag,
        "email": f"{tag}@example.com",
        "phone": f"137{int(_run, 16) % 10_000:04d}{n:04d}",
        "external_id": f"ext-{tag}",
        "nickname": f"Person {n}",
    }
    fields.update(overrides)
    return fields


@pytest.fixture
def app(settings: Settings, services: Services) -> FastAPI:
    return create_app(settings, services)


def in_process_client(app: FastAPI, **options: Any) -> AsyncManagementClient:
    options.setdefault("backoff_factor", 0)
    return AsyncManagementClient(
        BOOTSTRAP_KEY_ID,
        BOOTSTRAP_SECRET,
        IN_PROCESS_HOST,
        transport=httpx.ASGITransport(app=app),
        **options,
    )


@pytest.fixture(params=["token", "signature"])
async def sdk(request: pytest.FixtureRequest, app: FastAPI) -> AsyncIterator[AsyncManagementClient]:
    async with in_process_client(app, auth=request.param) as client:
        yield client
