"""Fixtures of the integration tests that build services in-process on a clock the test moves."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import pytest

from tests.delivery_peers import Factory, ManualClock
from twofold.config import Settings
from twofold.services.container import Services, build_services


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def make(settings: Settings, clock: ManualClock) -> Factory:
    """``async with make(**setting_overrides) as services``: services on ``clock``, closed afterwards."""

    @asynccontextmanager
    async def factory(**overrides: Any) -> AsyncIterator[Services]:
        built = await build_services(settings.model_copy(update=overrides), clock)
        try:
            yield built
        finally:
            await built.close()

    return factory
