"""The v2 enrolment calls over HTTP in-process, as GenAuth's login UI and authing-js-sdk make them, on
both databases (docs/signin.md#v2-enrolment): associate and confirm with the mfaToken of a sign-in that
must enrol OTP (the confirm finishes the sign-in), with a user access token, the authenticator list and
the bindable check."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pyotp
import pytest

from tests.delivery_peers import Factory, ManualClock
from tests.enrolment_support import Peers, running_peers
from twofold.config import Settings
from twofold.services.totp_check import time_step


@pytest.fixture
async def peers(make: Factory, settings: Settings, clock: ManualClock) -> AsyncIterator[Peers]:
    async with running_peers(make, settings, clock) as running:
        yield running


async def must_enrol_otp(peers: Peers) -> tuple[str, str]:
    """An app offering OTP and a user it must challenge with OTP, nothing bound: (app id, user id)."""
    app_id = await peers.app(["OTP"])
    user_id = await peers.user()
    await peers.api.ok("POST", "set-mfa-status", {"userId": user_id, "mfaTriggerData": {
        "mfaToken": "-", "applicationMfa": [{"mfaPolicy": "OTP", "status": 1, "sort": 0}], "totpMfaEnabled": False}})
    return app_id, user_id


def code(secret: str, peers: Peers, steps: int = 0) -> str:
    return pyotp.TOTP(secret).generate_otp(time_step(peers.clock()) + steps)


async def test_associate_and_confirm_with_the_mfa_token_finish_the_sign_in(peers: Peers) -> None:
    app_id, user_id = await must_enrol_otp(peers)
    mfa_token = peers.services.mfa_tickets.mint(peers.pool_id, user_id, app_id, "openid profile")
    listed = await peers.v2("GET", "mfa/authenticator", mfa_token, params={"type": "totp", "source": "APPLICATION"})
    assert (listed["code"], listed["data"]) == (200, []), listed

    associated = await peers.v2("POST", "mfa/totp/associate", mfa_token,
                                json={"authenticator_type": "totp", "source": "APPLICATION"})
    assert associated["code"] == 200, associated
    data = associated["data"]
    assert set(data) == {"authenticator_type", "secret", "qrcode_uri", "qrcode_data_url", "recovery_code"}
    secret = data["secret"]
    assert pyotp.parse_uri(data["qrcode_uri"]).secret == secret
    assert data["qrcode_data_url"].startswith("data:image/png;base64,")

    wrong = next(c for c in ("000000", "111111") if c not in {code(secret, peers, s) for s in (-1, 0, 1)})
    refused = await peers.v2("POST", "mfa/totp/associate/confirm", mfa_token,
                             json={"authenticator_type": "totp", "totp": wrong, "source": "APPLICATION"})
    assert (refused["code"], refused["apiCode"]) == (6001, 6001), refused
    assert (await peers.status(user_id))["totpMfaEnabled"] is False  # nothing bound

    done = await peers.v2("POST", "mfa/totp/associate/confirm", mfa_token,
                          json={"authenticator_type": "totp", "totp": code(secret, peers), "source": "APPLICATION"})
    assert (done["code"], done["statusCode"], done["apiCode"]) == (200, 302, 1600), done
    assert done["data"]["userId"] == user_id and done["data"]["user"]["token"] == done["data"]["token"]
    access = done["data"]["token"]
    assert (await peers.services.tokens.verify_access_token(access)).user_id == user_id
    assert (await peers.status(user_id))["totpMfaEnabled"] is True

    # the mfaToken is spent; the confirming code's step too
    again = await peers.v2("POST", "mfa/totp/associate/confirm", mfa_token,
                           json={"authenticator_type": "totp", "totp": code(secret, peers)})
    assert again["code"] == 2021, again
    fresh = peers.services.mfa_tickets.mint(peers.pool_id, user_id, app_id, "openid")
    replayed = await peers.v2("POST", "mfa/totp/verify", fresh, json={"totp": code(secret, peers)})
    assert replayed["code"] == 6001, replayed
    peers.clock.advance(30)
    later = await peers.v2("POST", "mfa/totp/verify", fresh, json={"totp": code(secret, peers)})
    assert later["code"] == 200, later

    # once bound, an mfaToken may not associate another authenticator
    third = peers.services.mfa_tickets.mint(peers.pool_id, user_id, app_id, "openid")
    blocked = await peers.v2("POST", "mfa/totp/associate", third, json={"authenticator_type": "totp"})
    assert blocked["code"] == 2021, blocked
    (bound,) = (await peers.v2("GET", "mfa/authenticator", access, params={"type": "totp"}))["data"]
    assert bound["userId"] == user_id and bound["enable"] is True and bound["authenticatorType"] == "totp"
    assert "secret" not in bound and "recoveryCode" not in bound  # never served


async def test_a_signed_in_user_replaces_the_authenticator_only_once_confirmed(peers: Peers) -> None:
    app_id, user_id = await must_enrol_otp(peers)
    token = await peers.access_token(user_id, app_id)
    first = (await peers.v2("POST", "mfa/totp/associate", token, json={"authenticator_type": "totp"}))["data"]
    ok = await peers.v2("POST", "mfa/totp/associate/confirm", token, json={"totp": code(first["secret"], peers)})
    assert (ok["code"], ok["statusCode"], ok["data"]) == (200, 200, None), ok
    (bound,) = (await peers.v2("GET", "mfa/authenticator", token))["data"]

    second = (await peers.v2("POST", "mfa/totp/associate", token, json={"authenticator_type": "totp"}))["data"]
    peers.clock.advance(30)
    checker = peers.services.mfa_check.totp
    assert await checker.verify_totp(peers.pool_id, user_id, code(first["secret"], peers))  # still the first
    assert not await checker.verify_totp(peers.pool_id, user_id, code(second["secret"], peers))
    confirmed = await peers.v2("POST", "mfa/totp/associate/confirm", token, json={"totp": code(second["secret"], peers)})
    assert confirmed["code"] == 200, confirmed
    peers.clock.advance(30)
    assert await checker.verify_totp(peers.pool_id, user_id, code(second["secret"], peers))
    assert not await checker.verify_totp(peers.pool_id, user_id, code(first["secret"], peers, 1))
    (rebound,) = (await peers.v2("GET", "mfa/authenticator", token))["data"]
    assert rebound["id"] == bound["id"]  # one OTP factor per user: its id is stable

    nothing = await peers.v2("POST", "mfa/totp/associate/confirm", token, json={"totp": code(second["secret"], peers)})
    assert nothing["code"] == 40061, nothing  # no pending enrolment left


async def test_the_bindable_check(peers: Peers) -> None:
    app_id, user_id = await must_enrol_otp(peers)
    mfa_token = peers.services.mfa_tickets.mint(peers.pool_id, user_id, app_id, "openid")
    for body, result in (({"phone": "13800138000"}, True), ({"phone": "+8612"}, False),
                         ({"email": "someone@example.com"}, True), ({"email": "no-at"}, False)):
        answer = await peers.v2("POST", "applications/mfa/check", mfa_token, json=body)
        assert (answer["code"], answer["data"]) == (200, {"result": result}), (body, answer)
    empty = await peers.v2("POST", "applications/mfa/check", mfa_token, json={})
    assert (empty["code"], empty["statusCode"]) == (40001, 400), empty
    anonymous = await peers.v2("POST", "applications/mfa/check", None, json={"phone": "13800138000"})
    assert anonymous["code"] == 2021, anonymous
