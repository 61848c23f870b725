"""The SDK's MFA lockout calls (get_mfa_lock_status, unlock_mfa, reset_mfa_factor): async in-process on
both databases and both authentication schemes, and sync over real sockets against ``twofold serve``.

Failures are produced by the real code check (``MfaCheck.check_totp``) on the server's database: the
end-user MFA routes arrive with the sign-in flow."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pyotp
import pytest

from tests.compat.support import LiveServer
from tests.conftest import SECRET_KEY
from tests.sdk.conftest import person
from twofold.config import Settings
from twofold.services.container import Services, build_services
from twofold_client import (
    AsyncManagementClient,
    Factor,
    ImportOtpItem,
    ManagementClient,
    MfaResetResult,
    NotFoundError,
    OtpData,
)


async def fail_otp(services: Services, user_id: str, times: int = 5) -> None:
    pool, _ = await services.keys.ensure_default_pool()
    for _ in range(times):
        assert not await services.mfa_check.check_totp(pool.id, user_id, "not-a-code")


async def test_async_client_sees_unlocks_and_resets_a_lock(sdk: AsyncManagementClient, services: Services) -> None:
    user = await sdk.create_user(**person())
    secret = pyotp.random_base32(32)
    await sdk.import_otp([ImportOtpItem(user_id=user.user_id, otp=OtpData(secret=secret))])
    status = await sdk.get_mfa_lock_status(user.user_id)
    assert status.user_id == user.user_id
    assert [(f.factor, f.failures, f.locked, f.locked_until) for f in status.factors] == [
        (factor, 0, False, None) for factor in Factor
    ]
    await fail_otp(services, user.user_id)
    otp = (await sdk.get_mfa_lock_status(user.user_id)).factors[0]
    assert (otp.factor, otp.failures, otp.locked) == (Factor.OTP, 5, True)
    assert otp.locked_until is not None and otp.last_failure_at is not None
    assert (otp.locked_until - otp.last_failure_at).total_seconds() == 60

    assert await sdk.unlock_mfa(user.username or "", "username", Factor.OTP) == [Factor.OTP]
    assert await sdk.unlock_mfa(user.user_id) == []
    assert (await sdk.get_mfa_lock_status(user.user_id)).factors[0].locked is False

    result = await sdk.reset_mfa_factor(user.user_id, factor="OTP")
    assert result == MfaResetResult(user_id=user.user_id, factors=[Factor.OTP], otp_removed=True)
    assert (await sdk.get_user_mfa_info(user.user_id)).totp_status == "disabled"
    everything = await sdk.reset_mfa_factor(user.user_id)
    assert (everything.factors, everything.otp_removed) == (list(Factor), False)


async def test_async_client_refuses_bad_arguments(sdk: AsyncManagementClient) -> None:
    with pytest.raises(ValueError):
        await sdk.unlock_mfa("someone", factor="PASSWORD")  # refused before anything is sent
    with pytest.raises(NotFoundError) as caught:
        await sdk.reset_mfa_factor("nobody-at-all", "username")
    assert caught.value.api_code == 40401


def test_sync_client_over_http(live_server: LiveServer, tmp_path: Path) -> None:
    with ManagementClient(
        live_server.access_key_id, live_server.access_key_secret, live_server.base_url
    ) as client:
        user = client.create_user(**person())
        client.import_otp([{"userId": user.user_id, "otp": {"secret": pyotp.random_base32(32)}}])
        settings = Settings(
            database_url=live_server.env["TWOFOLD_DATABASE_URL"], data_dir=tmp_path, secret_key=SECRET_KEY
        )

        async def fail_on_the_servers_database() -> None:
            services = await build_services(settings)
            try:
                await fail_otp(services, user.user_id)
            finally:
                await services.close()

        asyncio.run(fail_on_the_servers_database())
        otp = client.get_mfa_lock_status(user.email or "", "email").factors[0]
        assert (otp.failures, otp.locked) == (5, True)
        assert client.unlock_mfa(user.user_id, factor=Factor.OTP) == [Factor.OTP]
        assert client.get_mfa_lock_status(user.user_id).factors[0].failures == 0
        result = client.reset_mfa_factor(user.user_id)
        assert (result.otp_removed, result.factors) == (True, list(Factor))
        with pytest.raises(NotFoundError):
            client.get_otp_secret_by_user(user.user_id)
