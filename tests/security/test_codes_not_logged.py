"""One-time codes sent and used over the wire never reach the log, the audit trail or a stored column in
plaintext: sign-in codes (``send-email`` / ``send-sms`` on ``CHANNEL_LOGIN``, ``connection: PASSCODE``,
right and wrong) and MFA codes (``/api/v2/email/send``, ``send-sms`` with the mfaToken, the v2 verify,
right and wrong), on both databases.  The codes are read from the dev outbox, which keeps them
encrypted.
"""

from __future__ import annotations

import json
import logging
import re
from typing import Any

import httpx
import pytest

from tests.conftest import Api
from tests.delivery_peers import code_in
from tests.factories import user_payload
from tests.security.test_secrets_not_logged import _STANDARD_RECORD_ATTRIBUTES
from twofold.services.container import Services

PASSWORD = "codes security password 1!"  # noqa: S105 - a test password


def payload(record: logging.LogRecord) -> list[str]:
    """What a record says, not its times and ids (whose digits could pass for a code)."""
    extras = {k: v for k, v in vars(record).items() if k not in _STANDARD_RECORD_ATTRIBUTES}
    return [record.getMessage(), repr(record.args), record.exc_text or "", repr(extras)]


async def drive(client: httpx.AsyncClient, services: Services) -> tuple[list[str], str]:
    """Send and use codes through every endpoint; the codes, and the pool id."""
    api = await Api(client).login()
    app: dict[str, Any] = await api.ok("POST", "create-application", {"appName": "Codes security"})
    await api.ok("POST", "update-application-mfa-settings", {"appId": app["appId"], "enabledFactors": ["SMS", "EMAIL"]})
    plain: dict[str, Any] = await api.ok("POST", "create-user", user_payload(password=PASSWORD))
    guarded: dict[str, Any] = await api.ok("POST", "create-user", user_payload(password=PASSWORD))
    await api.ok("POST", "set-mfa-status", {"userId": guarded["userId"], "mfaTriggerData": {
        "mfaToken": "-", "applicationMfa": [{"mfaPolicy": "EMAIL", "status": 1, "sort": 0},
                                            {"mfaPolicy": "SMS", "status": 1, "sort": 1}]}})
    headers = {"x-genauth-app-id": app["appId"]}
    pool = app["userPoolId"]

    async def post(path: str, body: dict[str, Any], token: str | None = None) -> dict[str, Any]:
        sent = {**headers, **({"authorization": token} if token else {})}
        result: dict[str, Any] = (await client.post(path, json=body, headers=sent)).json()
        return result

    async def latest(to: str) -> str:
        return next(code_in(m.text) for m in await services.outbox.list_messages(pool) if m.to == to)

    def signin(connection: str, payload_: dict[str, Any]) -> dict[str, Any]:
        member = "passwordPayload" if connection == "PASSWORD" else "passCodePayload"
        return {"connection": connection, member: payload_, "client_id": app["appId"],
                "client_secret": app["appSecret"]}

    assert (await post("/api/v3/send-email", {"email": plain["email"], "channel": "CHANNEL_LOGIN"}))["statusCode"] == 200
    login_code = await latest(plain["email"])
    wrong = f"{(int(login_code) + 1) % 1_000_000:06d}"
    assert (await post("/api/v3/signin", signin("PASSCODE", {"email": plain["email"], "passCode": wrong})))[
        "statusCode"] == 401
    assert (await post("/api/v3/signin", signin("PASSCODE", {"email": plain["email"], "passCode": login_code})))[
        "statusCode"] == 200
    challenge = await post("/api/v3/signin", signin("PASSWORD", {"email": guarded["email"], "password": PASSWORD}))
    token = challenge["data"]["mfaToken"]
    assert (await post("/api/v2/email/send", {"email": guarded["email"], "scene": "MFA_VERIFY_CODE"}, token))[
        "code"] == 200
    assert (await post("/api/v3/send-sms", {"phoneNumber": guarded["phone"], "channel": "CHANNEL_VERIFY_MFA"},
                       token))["statusCode"] == 200
    email_code, sms_code = await latest(guarded["email"]), await latest(f"+86{guarded['phone']}")
    bad = f"{(int(sms_code) + 1) % 1_000_000:06d}"
    assert (await post("/api/v2/applications/mfa/sms/verify", {"phone": guarded["phone"], "code": bad}, token))[
        "code"] == 2001
    assert (await post("/api/v2/applications/mfa/email/verify", {"email": guarded["email"], "code": email_code},
                       token))["code"] == 200
    return [login_code, wrong, email_code, sms_code, bad], pool


async def test_codes_never_reach_the_log_the_audit_trail_or_the_code_table(
    client: httpx.AsyncClient, services: Services, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    for name in ("twofold", "twofold.http", "twofold.passcodes", "twofold.delivery", "twofold.errors"):
        caplog.set_level(logging.DEBUG, logger=name)
    codes, _ = await drive(client, services)
    pattern = re.compile("|".join(f"(?<![0-9]){c}(?![0-9])" for c in codes))
    assert any(r.name == "twofold.http" for r in caplog.records)  # the capture works
    assert [(r.name, r.getMessage()) for r in caplog.records if any(pattern.search(t) for t in payload(r))] == []

    api = await Api(client).login()
    events = await api.ok("GET", "twofold/list-audit-events", {"limit": 500})
    actions = {e["action"] for e in events}
    assert {"passcode.send", "signin.success", "signin.failure", "mfa.factor.failed", "mfa.factor.verified"} <= actions
    # what the events say (not their ids and times, whose digits could pass for a code by chance)
    said = [(e["action"], json.dumps([e["before"], e["after"]])) for e in events]
    assert [action for action, text in said if pattern.search(text)] == []

    # the stored codes are digests only (hex HMAC-SHA256), never the code
    async with services.db.read() as conn:
        rows = await conn.fetch_all("SELECT code_hash FROM passcodes")
    assert len(rows) == 3 and all(re.fullmatch("[0-9a-f]{64}", r["code_hash"]) for r in rows)
    assert not any(r["code_hash"] in codes or pattern.fullmatch(r["code_hash"]) for r in rows)
