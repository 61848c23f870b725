"""The SDK's ``AsyncAuthenticationClient`` against the real app in-process, on every database backend:
sign-in with each client authentication method, the OTP step, enrolment from the otpauth URI (codes
computed with pyotp from the URI's secret, as an authenticator app would), tokens and typed errors."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx
import jwt
import pyotp
import pytest
from fastapi import FastAPI

from tests.sdk.conftest import IN_PROCESS_HOST, in_process_client, person
from twofold_client import (
    ApplicationMfa,
    AsyncAuthenticationClient,
    AsyncManagementClient,
    AuthenticationError,
    BadRequestError,
    Factor,
    InvalidGrantError,
    MfaChallenge,
    MfaTriggerData,
    SignInResult,
    TokenSet,
    WrongCodeError,
)

PASSWORD = "correct horse battery 7"
OTP_REQUIRED = MfaTriggerData(
    mfa_token="-", application_mfa=[ApplicationMfa(mfa_policy=Factor.OTP, status=1, sort=0)]
)


@dataclass
class Setup:
    app_id: str
    app_secret: str
    email: str
    user_id: str


async def new_app_and_user(sdk: AsyncManagementClient, *, require_otp: bool = True) -> Setup:
    app = await sdk.create_application("SDK sign-in", app_identifier=f"sdk-{person()['username']}")
    fields = person(password=PASSWORD)
    user = await sdk.create_user(**fields)
    await sdk.update_application_mfa_settings(app.app_id, enabled_factors=[Factor.OTP])
    if require_otp:
        await sdk.set_users_mfa_status(OTP_REQUIRED, user.user_id)
    assert app.app_secret
    return Setup(app.app_id, app.app_secret, fields["email"], user.user_id)


def auth_client(app: FastAPI, setup: Setup, **options: Any) -> AsyncAuthenticationClient:
    options.setdefault("backoff_factor", 0)
    secret = None if options.get("token_endpoint_auth_method") == "none" else setup.app_secret
    return AsyncAuthenticationClient(
        setup.app_id, secret, IN_PROCESS_HOST, transport=httpx.ASGITransport(app=app), **options
    )


@pytest.fixture
async def sdk(app: FastAPI) -> AsyncIterator[AsyncManagementClient]:
    """The management client, one scheme only: the management auth schemes have their own tests."""
    async with in_process_client(app) as client:
        yield client


@pytest.fixture
async def auth(
    app: FastAPI, sdk: AsyncManagementClient
) -> AsyncIterator[tuple[AsyncAuthenticationClient, Setup]]:
    setup = await new_app_and_user(sdk)
    async with auth_client(app, setup) as client:
        yield client, setup


async def enrol_otp(auth: AsyncAuthenticationClient, challenge: MfaChallenge) -> tuple[pyotp.TOTP, str]:
    """Enrol an authenticator with the mfaToken, as a person scanning the QR code would."""
    pending = await auth.send_enroll_factor_request(challenge.mfa_token, Factor.OTP)
    assert pending.otp_data is not None and pending.otp_data.recovery_code
    assert pending.otp_data.qr_code_png().startswith(b"\x89PNG\r\n\x1a\n")
    totp = pyotp.parse_uri(pending.otp_data.qr_code_uri)
    assert isinstance(totp, pyotp.TOTP) and totp.secret == pending.otp_data.secret
    await auth.enroll_factor(challenge.mfa_token, pending.enrollment_token, totp.now())
    return totp, pending.otp_data.recovery_code


def later_code(totp: pyotp.TOTP) -> str:
    """The next step's code: the enrolment code's step is spent (the server accepts ±1 step)."""
    return totp.at(time.time() + 30)


async def test_otp_sign_in_enrol_verify_profile_refresh_revoke(
    auth: tuple[AsyncAuthenticationClient, Setup],
) -> None:
    client, setup = auth
    result = await client.sign_in_by_password(PASSWORD, email=setup.email)
    assert isinstance(result, SignInResult) and result.mfa_required and result.tokens is None
    challenge = result.mfa
    assert challenge is not None and challenge.mfa_token
    assert (challenge.factors, challenge.default_factor, challenge.must_enroll(Factor.OTP)) == (
        [Factor.OTP],
        Factor.OTP,
        True,
    )
    assert challenge.email == setup.email and not challenge.must_enroll(Factor.SMS)  # not challenged

    totp, _ = await enrol_otp(client, challenge)
    with pytest.raises(WrongCodeError) as wrong:
        await client.verify_totp(challenge.mfa_token, "000000" if later_code(totp) != "000000" else "111111")
    assert (wrong.value.status_code, wrong.value.api_code) == (400, 6001)
    tokens = await client.verify_totp(challenge.mfa_token, later_code(totp))  # the mfaToken survived
    assert isinstance(tokens, TokenSet) and tokens.token_type == "Bearer" and tokens.expires_in > 0
    assert tokens.refresh_token and tokens.id_token

    with pytest.raises(AuthenticationError) as spent:  # a spent mfaToken never yields tokens again
        await client.verify_totp(challenge.mfa_token, later_code(totp))
    assert spent.value.api_code == 2021

    profile = await client.get_profile(tokens.access_token)
    assert (profile.user_id, profile.email) == (setup.user_id, setup.email)
    [factor] = await client.list_enrolled_factors(tokens.access_token)
    assert factor.factor_type is Factor.OTP
    assert await client.check_totp(tokens.access_token, "not-a-code") is False

    live = await client.introspect_token(tokens.access_token)
    assert (live.active, live.token_type, live.sub, live.client_id) == (
        True,
        "access_token",
        setup.user_id,
        setup.app_id,
    )

    refreshed = await client.get_new_access_token_by_refresh_token(tokens.refresh_token)
    assert refreshed.refresh_token and refreshed.refresh_token != tokens.refresh_token
    assert (await client.get_profile(refreshed.access_token)).user_id == setup.user_id
    await client.revoke_token(refreshed.access_token)
    with pytest.raises(AuthenticationError) as revoked:
        await client.get_profile(refreshed.access_token)
    assert revoked.value.api_code == 40111
    with pytest.raises(InvalidGrantError):  # revoking either token revokes the sign-in
        await client.get_new_access_token_by_refresh_token(refreshed.refresh_token)

    again = await client.sign_in_by_password(PASSWORD, email=setup.email)
    assert again.mfa is not None and not again.mfa.must_enroll(Factor.OTP)  # enrolled now


async def test_a_reused_refresh_token_is_refused_and_revokes_the_sign_in(
    app: FastAPI, sdk: AsyncManagementClient
) -> None:
    setup = await new_app_and_user(sdk, require_otp=False)
    async with auth_client(app, setup) as client:
        tokens = (await client.sign_in_by_password(PASSWORD, email=setup.email)).tokens
        assert tokens is not None and tokens.refresh_token
        refreshed = await client.get_new_access_token_by_refresh_token(tokens.refresh_token)
        with pytest.raises(InvalidGrantError) as reused:
            await client.get_new_access_token_by_refresh_token(tokens.refresh_token)
        error = reused.value
        assert (error.status_code, error.oauth_error, error.api_code) == (400, "invalid_grant", None)
        assert isinstance(error, BadRequestError)
        assert (await client.introspect_token(refreshed.access_token)).active is False
        await client.revoke_token("not-a-token")  # RFC 7009: fine for any token


async def test_recovery_code_works_once_and_returns_a_new_one(
    auth: tuple[AsyncAuthenticationClient, Setup],
) -> None:
    client, setup = auth
    first = await client.sign_in_by_password(PASSWORD, email=setup.email)
    assert first.mfa is not None
    _, recovery_code = await enrol_otp(client, first.mfa)

    second = await client.sign_in_by_password(PASSWORD, username=setup.email.split("@")[0])
    assert second.mfa is not None
    signed_in = await client.verify_recovery_code(second.mfa.mfa_token, recovery_code)
    assert signed_in.user.user_id == setup.user_id and signed_in.tokens.access_token
    assert signed_in.new_recovery_code and signed_in.new_recovery_code != recovery_code
    assert (await client.get_profile(signed_in.tokens.access_token)).user_id == setup.user_id

    third = await client.sign_in_by_password(PASSWORD, account=setup.email)
    assert third.mfa is not None
    with pytest.raises(WrongCodeError) as used:
        await client.verify_recovery_code(third.mfa.mfa_token, recovery_code)
    assert (used.value.status_code, used.value.api_code) == (400, 6002) and used.value.request_id
    assert (await client.verify_recovery_code(third.mfa.mfa_token, signed_in.new_recovery_code)).tokens


async def test_wrong_enrolment_code_and_token(auth: tuple[AsyncAuthenticationClient, Setup]) -> None:
    client, setup = auth
    result = await client.sign_in_by_password(PASSWORD, email=setup.email)
    assert result.mfa is not None
    pending = await client.send_enroll_factor_request(result.mfa.mfa_token)
    assert pending.otp_data is not None
    right = pyotp.TOTP(pending.otp_data.secret).now()
    with pytest.raises(WrongCodeError) as wrong:
        await client.enroll_factor(
            result.mfa.mfa_token, pending.enrollment_token, "999999" if right != "999999" else "888888"
        )
    assert wrong.value.api_code == 40062
    with pytest.raises(BadRequestError) as unknown:
        await client.enroll_factor(result.mfa.mfa_token, "not-a-token", right)
    assert unknown.value.api_code == 40061 and not isinstance(unknown.value, WrongCodeError)
    with pytest.raises(BadRequestError) as unsupported:
        await client.send_enroll_factor_request(result.mfa.mfa_token, Factor.FACE)
    assert unsupported.value.api_code == 40060
    # starting over with the same mfaToken (the README's advice when 60 s passed) enrols the new secret
    again = await client.send_enroll_factor_request(result.mfa.mfa_token)
    assert again.otp_data is not None and again.otp_data.secret != pending.otp_data.secret
    await client.enroll_factor(
        result.mfa.mfa_token, again.enrollment_token, pyotp.TOTP(again.otp_data.secret).now()
    )


async def test_no_mfa_answers_tokens_and_wrong_credentials_look_alike(
    app: FastAPI, sdk: AsyncManagementClient
) -> None:
    setup = await new_app_and_user(sdk, require_otp=False)
    async with auth_client(app, setup) as client:
        result = await client.sign_in_by_password(PASSWORD, email=setup.email, scope="openid profile email")
        assert result.mfa is None and result.tokens is not None and "email" in (result.tokens.scope or "")
        refusals = []
        for call in (
            client.sign_in_by_password("wrong password", email=setup.email),
            client.sign_in_by_password(PASSWORD, email="nobody@example.com"),
        ):
            with pytest.raises(AuthenticationError) as caught:
                await call
            refusals.append((caught.value.status_code, caught.value.api_code, caught.value.message))
        assert refusals[0] == refusals[1] == (401, 40110, "Incorrect account or password")
    async with AsyncAuthenticationClient(
        setup.app_id, "0" * 64, IN_PROCESS_HOST, transport=httpx.ASGITransport(app=app)
    ) as wrong_secret:
        with pytest.raises(AuthenticationError) as caught:
            await wrong_secret.sign_in_by_password(PASSWORD, email=setup.email)
        assert caught.value.api_code == 40110
        with pytest.raises(AuthenticationError) as oauth:
            await wrong_secret.introspect_token("x")
        assert (oauth.value.status_code, oauth.value.oauth_error) == (401, "invalid_client")


async def test_basic_and_public_clients(app: FastAPI, sdk: AsyncManagementClient) -> None:
    setup = await new_app_and_user(sdk, require_otp=False)
    async with auth_client(app, setup, token_endpoint_auth_method="client_secret_basic") as basic:
        tokens = (await basic.sign_in_by_password(PASSWORD, email=setup.email)).tokens
        assert tokens is not None and tokens.refresh_token
        assert (await basic.get_new_access_token_by_refresh_token(tokens.refresh_token)).access_token
    async with auth_client(app, setup, token_endpoint_auth_method="none") as public:
        with pytest.raises(AuthenticationError):  # a confidential app needs its secret
            await public.sign_in_by_password(PASSWORD, email=setup.email)
        assert await sdk.set_application_auth_method(setup.app_id, "none") == "none"
        tokens = (await public.sign_in_by_password(PASSWORD, email=setup.email)).tokens
        assert tokens is not None and tokens.refresh_token
        assert (await public.introspect_token(tokens.refresh_token)).token_type == "refresh_token"


async def test_discovery_jwks_and_an_offline_check_with_pyjwt(
    app: FastAPI, sdk: AsyncManagementClient
) -> None:
    """What the SDK README says to do for an offline check (PyJWT is not a dependency of the SDK)."""
    setup = await new_app_and_user(sdk, require_otp=False)
    async with auth_client(app, setup) as client:
        config = await client.get_openid_configuration()
        assert config.jwks_uri == f"{config.issuer}/.well-known/jwks.json"
        assert config.id_token_signing_alg_values_supported == ["RS256"]
        jwks = await client.get_jwks()
        tokens = (await client.sign_in_by_password(PASSWORD, email=setup.email)).tokens
        assert tokens is not None
        kid = jwt.get_unverified_header(tokens.access_token)["kid"]
        key = jwt.PyJWKSet.from_dict(jwks.model_dump())[kid]
        claims = jwt.decode(
            tokens.access_token, key, algorithms=["RS256"], audience=setup.app_id, issuer=config.issuer
        )
        assert claims["sub"] == setup.user_id


def test_client_configuration_is_checked_before_anything_is_sent() -> None:
    with pytest.raises(ValueError, match="app_secret"):
        AsyncAuthenticationClient("app", None)
    with pytest.raises(ValueError, match="token_endpoint_auth_method"):
        AsyncAuthenticationClient("app", "s", token_endpoint_auth_method="private_key_jwt")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="host"):
        AsyncAuthenticationClient("app", "s", "ftp://x")


async def test_exactly_one_account_identifier(app: FastAPI) -> None:
    async with AsyncAuthenticationClient(
        "app", "s", IN_PROCESS_HOST, transport=httpx.ASGITransport(app=app)
    ) as c:
        for identifiers in ({}, {"email": "a@example.com", "username": "a"}):
            with pytest.raises(ValueError, match="exactly one"):
                await c.sign_in_by_password(PASSWORD, **identifiers)


def test_sign_in_result_holds_exactly_one_outcome() -> None:
    with pytest.raises(ValueError):
        SignInResult()
    challenge = MfaChallenge(mfa_token="t", application_mfa=[
        ApplicationMfa(mfa_policy=Factor.EMAIL, status=1, sort=1),
        ApplicationMfa(mfa_policy=Factor.OTP, status=1, sort=0),
        ApplicationMfa(mfa_policy=Factor.SMS, status=0, sort=2),
    ], totp_mfa_enabled=True, email=None)  # fmt: skip
    assert (challenge.factors, challenge.default_factor) == ([Factor.OTP, Factor.EMAIL], Factor.OTP)
    assert (challenge.is_enrolled("OTP"), challenge.is_enrolled(Factor.EMAIL)) == (True, False)
    # OTP passes this sign-in, so nothing must be enrolled (the server refuses the mfaToken to enrol)
    assert [challenge.must_enroll(f) for f in ("OTP", Factor.EMAIL, "SMS")] == [False, False, False]
    unbound = challenge.model_copy(update={"totp_mfa_enabled": False})
    assert [unbound.must_enroll(f) for f in ("OTP", Factor.EMAIL, "SMS")] == [True, True, False]
    with_address = unbound.model_copy(update={"mfa_email": "a@example.com"})
    assert [with_address.must_enroll(f) for f in ("OTP", Factor.EMAIL)] == [False, False]
