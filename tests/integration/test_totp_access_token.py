"""``mfa-totp-verify`` with a user's access token (docs/wire.md#mfa-totp-verify): the token's sign-in is
read with the authenticator in one query, so a revoked sign-in is refused at once, before its code is
looked at; a code is still accepted once."""

from __future__ import annotations

import time

import httpx

from tests.conftest import Api
from tests.integration.test_login_history import otp_user, verify
from tests.integration.test_signin import make_app, sign_in
from twofold.services.container import Services


async def test_a_revoked_sign_in_cannot_verify_and_spends_no_code(
    api: Api, client: httpx.AsyncClient, services: Services
) -> None:
    app = await make_app(api)
    user, totp = await otp_user(api)
    await api.ok("POST", "set-mfa-status", {"userId": user["userId"], "mfaTriggerData": {
        "mfaToken": "-", "applicationMfa": [], "totpMfaEnabled": True}})  # fmt: skip  (no MFA step at sign-in)
    first = (await sign_in(client, app, {"email": user["email"]}))["data"]["access_token"]
    now, later = totp.now(), totp.at(time.time() + 30)  # this step's code and the next one's (both valid now)
    assert (await verify(client, first, now, "ua"))["data"] == {"verified": True}
    assert (await verify(client, first, now, "ua"))["data"] == {"verified": False}  # single use

    pool, _ = await services.keys.ensure_default_pool()
    assert await services.tokens.revoke_user(pool.id, user["userId"]) == 1
    refused = await verify(client, first, later, "ua")
    assert refused["statusCode"] == 401 and not refused.get("data"), refused

    second = (await sign_in(client, app, {"email": user["email"]}))["data"]["access_token"]
    assert (await verify(client, second, later, "ua"))["data"] == {"verified": True}  # not spent by the refusal
    events = await api.ok("GET", "twofold/list-audit-events", {"action": "mfa.factor.failed"})
    assert [e["after"]["reason"] for e in events] == ["replayed"]  # a refused token is no guess at the code
