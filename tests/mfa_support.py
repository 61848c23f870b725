"""Test support for the MFA code checks: an injected clock, services built on it, a user with an
authenticator, and worker processes that run the real services against the same database."""

from __future__ import annotations

import os
import random
import subprocess
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import orjson
import pyotp

from tests.conftest import Api
from tests.factories import user_payload
from twofold.api.app import create_app
from twofold.config import Settings
from twofold.services.container import Services, bootstrap, build_services
from twofold.services.context import system_clock
from twofold.services.totp_check import PERIOD_SECONDS, time_step

REPO = Path(__file__).resolve().parent.parent
STEP_MS = PERIOD_SECONDS * 1000


class FakeClock:
    """Milliseconds that move only when told to."""

    def __init__(self, now: int) -> None:
        self.now = now

    def __call__(self) -> int:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += int(seconds * 1000)


def step_start(offset_seconds: int = 10) -> int:
    """The latest time, not after now, that is ``offset_seconds`` into a TOTP step (not in the future,
    so the management tokens it issues are valid at once)."""
    offset = offset_seconds * 1000
    return (system_clock() - offset) // STEP_MS * STEP_MS + offset


@dataclass
class OtpUser:
    services: Services
    clock: FakeClock
    api: Api
    pool_id: str
    user_id: str
    secret: str
    recovery_code: str

    def code(self, steps_from_now: int = 0) -> str:
        return pyotp.TOTP(self.secret).generate_otp(time_step(self.clock()) + steps_from_now)

    def wrong_code(self) -> str:
        """A well-formed code that is none of the accepted window's."""
        window = {self.code(offset) for offset in (-1, 0, 1)}
        pick = random.Random(self.user_id)  # noqa: S311 - a test value, not a secret
        return next(c for c in (f"{pick.randrange(1_000_000):06d}" for _ in range(100)) if c not in window)

    async def audit(self) -> list[dict[str, Any]]:
        events = await self.services.audit.list_events(self.pool_id, self.user_id, limit=500)
        return [{"action": e.action, "after": e.after, "actor": e.actor} for e in events]


async def bind_otp(api: Api, secret: str, recovery_code: str, **user: Any) -> str:
    created = await api.ok("POST", "create-user", user_payload(**user))
    item = {"userId": created["userId"], "otp": {"secret": secret, "recoveryCode": recovery_code}}
    await api.ok("POST", "import-otp", {"list": [item]})
    return str(created["userId"])


@asynccontextmanager
async def otp_user(settings: Settings, clock: FakeClock | None = None) -> AsyncIterator[OtpUser]:
    """Services on an injected clock, and a user with a bound authenticator and recovery code."""
    clock = clock or FakeClock(step_start())
    services = await build_services(settings, clock)
    await bootstrap(services, settings)
    try:
        app = create_app(settings, services)
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as http:
            api = await Api(http).login()
            secret = pyotp.random_base32(32)  # 160 bits
            user_id = await bind_otp(api, secret, "rc-0123-4567")
            pool, _ = await services.keys.ensure_default_pool()
            yield OtpUser(services, clock, api, pool.id, user_id, secret, "rc-0123-4567")
    finally:
        await services.close()


def run_workers(
    settings: Settings, now: int, pool_id: str, user_id: str, mode: str, code: str, per_process: int, processes: int = 2
) -> list[bool]:
    """Run ``per_process`` concurrent checks of ``code`` in each of ``processes`` OS processes at once
    (each with its own services on the same database); every result."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join((str(REPO / "src"), str(REPO)))}  # this checkout's code
    args = [
        sys.executable, "-m", "tests.mfa_worker",
        settings.resolved_database_url, str(settings.data_dir), str(now), pool_id, user_id, mode, code, str(per_process),
    ]
    workers = [
        subprocess.Popen(args, cwd=REPO, env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        for _ in range(processes)
    ]
    results: list[bool] = []
    try:
        for worker in workers:  # every worker has built its services and waits
            assert worker.stdout is not None and worker.stdout.readline().strip() == "ready"
        for worker in workers:
            assert worker.stdin is not None
            worker.stdin.write("go\n")
            worker.stdin.flush()
        for worker in workers:
            out, _ = worker.communicate(timeout=120)
            assert worker.returncode == 0, out
            results.extend(orjson.loads(out.strip().splitlines()[-1]))
    finally:
        for worker in workers:
            if worker.poll() is None:
                worker.kill()
                worker.wait()
    return results

