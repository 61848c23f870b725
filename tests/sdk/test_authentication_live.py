"""``AuthenticationClient`` and its async twin against ``twofold serve`` over real sockets, on both
databases: the management client sets the scene, the authentication client signs in, enrols an
authenticator from the otpauth URI (pyotp plays the authenticator app), verifies, and uses the tokens."""

from __future__ import annotations

import time

import pyotp
import pytest

from tests.compat.support import LiveServer
from tests.sdk.conftest import person
from twofold_client import (
    ApplicationMfa,
    AsyncAuthenticationClient,
    AsyncManagementClient,
    AuthenticationClient,
    AuthenticationError,
    Factor,
    InvalidGrantError,
    ManagementClient,
    MfaTriggerData,
    WrongCodeError,
)

PASSWORD = "live password 42"
OTP_REQUIRED = MfaTriggerData(
    mfa_token="-", application_mfa=[ApplicationMfa(mfa_policy=Factor.OTP, status=1, sort=0)]
)


def authenticator(uri: str) -> pyotp.TOTP:
    totp = pyotp.parse_uri(uri)
    assert isinstance(totp, pyotp.TOTP) and (totp.digits, totp.interval) == (6, 30)
    return totp


def test_sync_otp_sign_in_end_to_end(live_server: LiveServer) -> None:
    with ManagementClient(
        live_server.access_key_id, live_server.access_key_secret, live_server.base_url
    ) as admin:
        app = admin.create_application("Live SDK app", app_identifier=f"live-{person()['username']}")
        admin.update_application_mfa_settings(app.app_id, enabled_factors=[Factor.OTP])
        fields = person(password=PASSWORD)
        user = admin.create_user(**fields)
        admin.set_users_mfa_status(OTP_REQUIRED, user.user_id)
    assert app.app_secret

    with AuthenticationClient(app.app_id, app.app_secret, live_server.base_url) as auth:
        result = auth.sign_in_by_password(PASSWORD, email=fields["email"])
        assert result.tokens is None and result.mfa is not None
        challenge = result.mfa
        assert challenge.factors == [Factor.OTP] and challenge.must_enroll(Factor.OTP)

        pending = auth.send_enroll_factor_request(challenge.mfa_token, Factor.OTP)
        assert pending.otp_data is not None
        assert pending.otp_data.qr_code_uri.startswith("otpauth://totp/")
        totp = authenticator(pending.otp_data.qr_code_uri)
        code = totp.now()
        auth.enroll_factor(challenge.mfa_token, pending.enrollment_token, code)
        with pytest.raises(WrongCodeError):  # the enrolment code is spent
            auth.verify_totp(challenge.mfa_token, code)
        tokens = auth.verify_totp(challenge.mfa_token, totp.at(time.time() + 30))

        assert auth.get_profile(tokens.access_token).user_id == user.user_id
        assert [f.factor_type for f in auth.list_enrolled_factors(tokens.access_token)] == [Factor.OTP]
        assert tokens.refresh_token
        refreshed = auth.get_new_access_token_by_refresh_token(tokens.refresh_token)
        with pytest.raises(InvalidGrantError):
            auth.get_new_access_token_by_refresh_token(tokens.refresh_token)
        assert auth.introspect_token(refreshed.access_token).active is False  # the reuse revoked it all

        second = auth.sign_in_by_password(PASSWORD, username=fields["username"]).mfa
        assert second is not None and not second.must_enroll(Factor.OTP)
        recovered = auth.verify_recovery_code(second.mfa_token, pending.otp_data.recovery_code or "")
        assert recovered.user.user_id == user.user_id
        assert auth.introspect_token(recovered.tokens.access_token).active is True
        auth.revoke_token(recovered.tokens.access_token)
        with pytest.raises(AuthenticationError) as revoked:
            auth.get_profile(recovered.tokens.access_token)
        assert revoked.value.api_code == 40111
        assert auth.get_jwks().keys and auth.get_openid_configuration().issuer


async def test_async_otp_sign_in_end_to_end(live_server: LiveServer) -> None:
    async with AsyncManagementClient(
        live_server.access_key_id, live_server.access_key_secret, live_server.base_url, auth="signature"
    ) as admin:
        app = await admin.create_application("Live async app", app_identifier=f"live-{person()['username']}")
        await admin.update_application_mfa_settings(app.app_id, enabled_factors=[Factor.OTP])
        fields = person(password=PASSWORD)
        user = await admin.create_user(**fields)
        await admin.set_users_mfa_status(OTP_REQUIRED, user.user_id)
    assert app.app_secret

    async with AsyncAuthenticationClient(
        app.app_id, app.app_secret, live_server.base_url, token_endpoint_auth_method="client_secret_basic"
    ) as auth:
        challenge = (await auth.sign_in_by_password(PASSWORD, account=fields["email"])).mfa
        assert challenge is not None and challenge.must_enroll(Factor.OTP)
        pending = await auth.send_enroll_factor_request(challenge.mfa_token)
        assert pending.otp_data is not None
        totp = authenticator(pending.otp_data.qr_code_uri)
        await auth.enroll_factor(challenge.mfa_token, pending.enrollment_token, totp.now())
        tokens = await auth.verify_totp(challenge.mfa_token, totp.at(time.time() + 30))
        assert (await auth.get_profile(tokens.access_token)).email == fields["email"]
        assert tokens.refresh_token
        refreshed = await auth.get_new_access_token_by_refresh_token(tokens.refresh_token)
        assert (await auth.introspect_token(refreshed.access_token)).sub == user.user_id
        await auth.revoke_token(refreshed.refresh_token or "")
        with pytest.raises(AuthenticationError):
            await auth.get_profile(refreshed.access_token)
