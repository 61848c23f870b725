"""A worker process for the cross-process tests: the real services, on the same database as the test.

``python -m tests.mfa_worker URL DATA_DIR NOW_MS POOL USER MODE CODE COUNT``: builds the services on a
fixed clock, prints ``ready``, waits for a line on stdin, then runs COUNT concurrent checks of CODE
(MODE: ``verify`` = TotpChecker.verify_totp, ``check`` = MfaCheck.check_totp, ``recovery`` =
MfaCheck.check_recovery_code) and prints the results as a JSON list.
"""

from __future__ import annotations

import asyncio
import sys

import orjson

from tests.conftest import SECRET_KEY
from twofold.config import Settings
from twofold.services.container import build_services


async def main(url: str, data_dir: str, now: int, pool: str, user: str, mode: str, code: str, count: int) -> None:
    settings = Settings(database_url=url, data_dir=data_dir, secret_key=SECRET_KEY)
    services = await build_services(settings, lambda: now)
    try:
        check = {
            "verify": lambda: services.mfa_check.totp.verify_totp(pool, user, code),
            "check": lambda: services.mfa_check.check_totp(pool, user, code),
            "recovery": lambda: services.mfa_check.check_recovery_code(pool, user, code),
        }[mode]
        print("ready", flush=True)
        await asyncio.get_running_loop().run_in_executor(None, sys.stdin.readline)
        results = await asyncio.gather(*(check() for _ in range(count)))
        print(orjson.dumps(list(results)).decode(), flush=True)
    finally:
        await services.close()


if __name__ == "__main__":
    a = sys.argv[1:]
    asyncio.run(main(a[0], a[1], int(a[2]), a[3], a[4], a[5], a[6], int(a[7])))
