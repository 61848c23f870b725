"""Test data for the console tests, set up and checked through the management API (not the console)."""

from __future__ import annotations

import subprocess
import sys
import time
from typing import Any

import pyotp

from tests.compat.support import LiveServer, new_person, ok_data

XSS_NICKNAME = "<script>alert(1)</script>"


def create_user(server: LiveServer, **extra: Any) -> dict[str, Any]:
    person = new_person("console")
    body = {
        "email": person["email"],
        "username": person["username"],
        "phone": person["phone"],
        "externalId": person["externalId"],
        **extra,
    }
    user: dict[str, Any] = ok_data(server.call("POST", "create-user", json=body))
    return user


def mfa_status(server: LiveServer, user_id: str) -> dict[str, Any]:
    status: dict[str, Any] = ok_data(server.call("GET", "get-mfa-status", params={"userId": user_id}))
    return status


def audit_actions(server: LiveServer, user_id: str) -> list[tuple[str, str]]:
    """(action, actor) of the user's audit events, newest first, read through the management API."""
    data = ok_data(server.call("GET", "twofold/list-audit-events", params={"userId": user_id}))
    return [(e["action"], e["actor"]) for e in data]


_FAIL_OTP = """
import asyncio, sys
from twofold.config import Settings
from twofold.services.container import build_services

async def main() -> None:
    services = await build_services(Settings())
    try:
        pool, _ = await services.keys.ensure_default_pool()
        for _ in range(int(sys.argv[3])):
            assert not await services.mfa_check.check_totp(pool.id, sys.argv[1], sys.argv[2])
    finally:
        await services.close()

asyncio.run(main())
"""
OTP_SECRET = "JBSWY3DPEHPK3PXPJBSWY3DP"


def lock_otp(server: LiveServer, user_id: str, failures: int) -> None:
    """Bind an authenticator (import-otp) and fail its code ``failures`` times, through the sign-in's
    own code check (services.mfa_check) on the server's database, as a sign-in would."""
    ok_data(server.call("POST", "import-otp", json={"list": [{"userId": user_id, "otp": {"secret": OTP_SECRET}}]}))
    totp = pyotp.TOTP(OTP_SECRET)
    now = time.time()
    valid = {totp.at(now + step * 30) for step in (-2, -1, 0, 1, 2)}
    wrong = next(code for code in ("000000", "111111", "222222", "333333", "444444", "555555") if code not in valid)
    subprocess.run([sys.executable, "-c", _FAIL_OTP, user_id, wrong, str(failures)], env=server.env,
                   check=True, timeout=60, capture_output=True)


_SEND_CODE = """
import asyncio, sys
from twofold.config import Settings
from twofold.domain.passcodes import Channel, Email
from twofold.services.container import build_services

async def main() -> None:
    services = await build_services(Settings())
    try:
        pool, _ = await services.keys.ensure_default_pool()
        await services.passcodes.send(pool.id, Channel.CHANNEL_LOGIN, Email.parse(sys.argv[1]), "198.51.100.7")
    finally:
        await services.close()

asyncio.run(main())
"""


def send_email_code(server: LiveServer, address: str) -> None:
    """A sign-in code to ``address`` through the passcode service on the server's database (no
    endpoint sends codes yet); with no SMTP configured it lands in the dev outbox."""
    subprocess.run([sys.executable, "-c", _SEND_CODE, address], env=server.env, check=True, timeout=60,
                   capture_output=True)
