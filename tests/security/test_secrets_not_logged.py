"""Secrets stay secret: every credential-bearing endpoint is driven with DEBUG logging on, then the log,
the database, the user responses and the audit trail are searched for the plaintext secrets.

Modelled on privacyIDEA's ``tests/test_api_secrets_not_logged.py``.
"""

from __future__ import annotations

import json
import logging
import re
import secrets
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from email.utils import formatdate
from typing import Any

import httpx
import pyotp
import pytest

from tests.conftest import BOOTSTRAP_KEY_ID, BOOTSTRAP_SECRET, Api
from tests.factories import user_payload
from tests.hmac_auth import NodeStyleSigner
from twofold.logs import JsonFormatter
from twofold.services.container import Services
from twofold.storage.tables import metadata

LOGGERS = ("twofold", "twofold.http", "twofold.auth", "twofold.errors")
# Tables this scenario may leave empty: codes are sent and checked by test_delivery_secrets_and_codes_never_reach_the_log
# and tests/security/test_codes_not_logged.py.
DELIVERY_TABLES = {"passcodes", "passcode_throttles", "passcode_quotas", "outbox_messages"}


class _Collect(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@dataclass
class Exercise:
    """What the scenario sent and got back; ``secrets`` maps a name to a plaintext secret."""

    secrets: dict[str, str] = field(default_factory=dict)
    user_ids: list[str] = field(default_factory=list)
    user_responses: list[dict[str, Any]] = field(default_factory=list)
    mfa_tokens: list[str] = field(default_factory=list)

    def add(self, name: str, value: str) -> str:
        assert len(value) >= 16, name  # long enough that a match cannot be a coincidence
        self.secrets[name] = value
        return value

    def only(self, *prefixes: str) -> dict[str, str]:
        return {k: v for k, v in self.secrets.items() if k.startswith(prefixes)}


def leaks(text: str, wanted: dict[str, str]) -> list[str]:
    """Names of the secrets found in ``text`` (case-insensitively, for base32 seeds sent in any case)."""
    lowered = text.lower()
    return [name for name, value in wanted.items() if value.lower() in lowered]


def signature_of(response: httpx.Response) -> str:
    return response.request.headers["authorization"].rsplit(":", 1)[1]


@pytest.fixture
def log_capture(caplog: pytest.LogCaptureFixture) -> Iterator[_Collect]:
    """Root at DEBUG through caplog, plus a handler on the ``twofold`` logger itself (propagation or not)."""
    caplog.set_level(logging.DEBUG)
    for name in LOGGERS:
        caplog.set_level(logging.DEBUG, logger=name)
    collect = _Collect()
    logging.getLogger("twofold").addHandler(collect)
    try:
        yield collect
    finally:
        logging.getLogger("twofold").removeHandler(collect)


async def drive_credential_endpoints(client: httpx.AsyncClient, services: Services) -> Exercise:
    """Drive every credential-bearing endpoint once, successfully and not (in the test body, so that
    ``caplog.records`` and ``caplog.text`` cover it), and the MFA code checks the sign-in step calls."""
    ex = Exercise()
    anon = Api(client)
    ex.add("access key secret", BOOTSTRAP_SECRET)
    totp_1 = ex.add("totp secret 1", pyotp.random_base32())
    totp_2 = ex.add("totp secret 2", pyotp.random_base32())
    recovery_1 = ex.add("recovery code 1", f"rc-{secrets.token_hex(12)}")
    recovery_2 = ex.add("recovery code 2", f"rc-{secrets.token_hex(12)}")
    password_1 = ex.add("password 1", f"Pw1-{secrets.token_urlsafe(18)}")
    password_2 = ex.add("password 2", f"Pw2-{secrets.token_urlsafe(18)}")
    password_3 = ex.add("password 3", f"Pw3-{secrets.token_urlsafe(18)}")
    mfa_token = ex.add("mfa token", f"mfa-{secrets.token_urlsafe(24)}")
    wrong_secret = ex.add("access key secret (wrong)", f"wrong-{secrets.token_hex(16)}")
    wrong_recovery = ex.add("recovery code (wrong)", f"rc-{secrets.token_hex(12)}")

    # get-management-token: wrong secret, then the right one; a Bearer call with the token.
    refused = await anon.raw("POST", "/api/v3/get-management-token", auth=False,
                             json={"accessKeyId": BOOTSTRAP_KEY_ID, "accessKeySecret": wrong_secret})
    assert refused["statusCode"] == 401
    api = await anon.login()
    assert api.token
    ex.add("management token", api.token)

    # create-user with a password and an OTP secret + recovery code, over Bearer.
    user_1 = await api.ok("POST", "create-user", user_payload(password=password_1,
                                                             otp={"secret": totp_1, "recoveryCode": recovery_1}))
    ex.user_ids.append(user_1["userId"])

    # HMAC-signed create-user with a password (the password is part of the string to sign).
    signer = NodeStyleSigner(BOOTSTRAP_KEY_ID, BOOTSTRAP_SECRET)
    response = await client.post("/api/v3/create-user", json=user_payload(password=password_2), auth=signer)
    assert response.json()["statusCode"] == 200, response.text
    ex.add("signature (create-user)", signature_of(response))
    user_2 = response.json()["data"]
    ex.user_ids.append(user_2["userId"])

    # HMAC-signed GET, then its replay, then a wrong signature.
    once = NodeStyleSigner(BOOTSTRAP_KEY_ID, BOOTSTRAP_SECRET, nonce=secrets.token_hex(16),
                           date=formatdate(usegmt=True))
    first = await client.get("/api/v3/get-user", params={"userId": user_2["userId"]}, auth=once)
    assert first.json()["statusCode"] == 200
    replay = await client.get("/api/v3/get-user", params={"userId": user_2["userId"]}, auth=once)
    assert replay.json()["statusCode"] == 401
    ex.add("signature (get-user, replayed)", signature_of(replay))
    forged = await client.get("/api/v3/get-user", params={"userId": user_2["userId"]},
                              auth=NodeStyleSigner(BOOTSTRAP_KEY_ID, wrong_secret))
    assert forged.json()["statusCode"] == 401
    ex.add("signature (wrong secret)", signature_of(forged))

    # import-otp for the second user; then read both seeds back (the bootstrap key may).
    await api.ok("POST", "import-otp", {"list": [{"userId": user_2["userId"],
                                                  "otp": {"secret": totp_2, "recoveryCode": recovery_2}}]})
    for user_id, seed in ((user_1["userId"], totp_1), (user_2["userId"], totp_2)):
        read = await api.ok("GET", "get-otp-secret-by-user", {"userId": user_id})
        assert read["secret"] == seed

    # set-mfa-status with an mfaToken; update-user with a new password.
    await api.ok("POST", "set-mfa-status", {"userId": user_1["userId"], "mfaTriggerData": {
        "mfaToken": mfa_token, "applicationMfa": [{"mfaPolicy": "OTP", "status": 1, "sort": 0}]}})
    await api.ok("POST", "update-user", {"userId": user_1["userId"], "password": password_3})

    # The MFA code checks of the sign-in step (services/mfa_failures.py; its routes come with the
    # sign-in flow): a right and a wrong TOTP code, a wrong and a right recovery code; the lock view.
    pool_id = (await services.keys.ensure_default_pool())[0].id
    check = services.mfa_check
    assert await check.check_totp(pool_id, user_1["userId"], pyotp.TOTP(totp_1).now())
    assert not await check.check_totp(pool_id, user_1["userId"], "000000")
    assert not await check.check_recovery_code(pool_id, user_2["userId"], wrong_recovery)
    assert await check.check_recovery_code(pool_id, user_2["userId"], recovery_2)
    await api.ok("GET", "twofold/get-mfa-lock-status", {"userId": user_1["userId"]})

    # Sign-in (docs/signin.md): an app secret and its rotation, a refused and a good sign-in, a refresh
    # and its reuse, and an MFA challenge (user 1 must pass OTP).
    app = await api.ok("POST", "create-application", {"appName": "Secrets app"})
    await api.ok("POST", "update-application-mfa-settings", {"appId": app["appId"], "enabledFactors": ["OTP"]})
    ex.add("app secret", app["appSecret"])
    rotated = await api.ok("POST", "twofold/rotate-application-secret", {"appId": app["appId"]})
    app_secret = ex.add("app secret (rotated)", rotated["appSecret"])

    def signin(email: str, password: str, secret: str) -> dict[str, Any]:
        return {"connection": "PASSWORD", "passwordPayload": {"email": email, "password": password},
                "client_id": app["appId"], "client_secret": secret}

    refused_signin = await client.post("/api/v3/signin", json=signin(user_2["email"], password_2, wrong_secret))
    assert refused_signin.json()["statusCode"] == 401
    signed = (await client.post("/api/v3/signin", json=signin(user_2["email"], password_2, app_secret))).json()
    assert signed["statusCode"] == 200, signed
    for name in ("access_token", "id_token", "refresh_token"):
        ex.add(name, signed["data"][name])
    # an OTP enrolment left pending (docs/signin.md#enrolment): its secret, recovery code and token
    enrol = (await client.post("/api/v3/send-enroll-factor-request", json={"factorType": "OTP", "profile": {}},
                               headers={"authorization": signed["data"]["access_token"]})).json()
    assert enrol["statusCode"] == 200, enrol
    ex.add("enrollmentToken", enrol["data"]["enrollmentToken"])
    ex.add("enrolment totp secret", pyotp.parse_uri(enrol["data"]["otpData"]["qrCodeUri"]).secret)
    ex.add("enrolment recovery code", enrol["data"]["otpData"]["recoveryCode"])
    # an EMAIL enrolment left pending: its enrollmentToken (the target waits encrypted)
    bind = (await client.post("/api/v3/send-enroll-factor-request",
                              json={"factorType": "EMAIL", "profile": {"email": f"bind-{user_2['email']}"}},
                              headers={"authorization": signed["data"]["access_token"]})).json()
    assert bind["statusCode"] == 200, bind
    ex.add("enrollmentToken (EMAIL)", bind["data"]["enrollmentToken"])
    # the login history, read with the access token (before the refresh reuse below revokes it)
    mine = (await client.get("/api/v3/get-my-login-history",
                             headers={"authorization": signed["data"]["access_token"]})).json()
    assert mine["statusCode"] == 200 and mine["data"]["totalCount"] >= 1, mine
    form = {"client_id": app["appId"], "client_secret": app_secret, "grant_type": "refresh_token",
            "refresh_token": signed["data"]["refresh_token"]}
    refreshed = await client.post("/oidc/token", data=form)
    assert refreshed.status_code == 200, refreshed.text
    ex.add("refresh_token (rotated)", refreshed.json()["refresh_token"])
    assert (await client.post("/oidc/token", data=form)).status_code == 400  # reused
    challenge = (await client.post("/api/v3/signin", json=signin(user_1["email"], password_3, app_secret))).json()
    assert challenge["apiCode"] == 1636, challenge
    ex.mfa_tokens.append(ex.add("mfa token (minted)", challenge["data"]["mfaToken"]))
    # the mfaToken introspected in a form and in authorization (not in a query: the test's own httpx
    # logs URLs, as proxies do; that is the caller's choice, and the server logs only the path)
    minted = challenge["data"]["mfaToken"]
    for where in ({"data": {"token": minted}}, {"headers": {"authorization": minted}}):
        assert (await client.post("/mfa/token/introspection", **where)).json()["active"] is True

    # The admin console (docs/console.md): a refused and a good sign-in with the access key; the
    # session id lives only in the browser's cookie (the database keeps its SHA-256).
    form = await client.get("/console/signin")
    token = re.search(r'name="csrf" value="([^"]+)"', form.text)
    assert token, form.text
    ex.add("console sign-in cookie", client.cookies["twofold_console_signin"])
    console_form = {"csrf": token.group(1), "access_key_id": BOOTSTRAP_KEY_ID}
    refused_console = await client.post("/console/signin", data={**console_form, "access_key_secret": wrong_secret})
    assert "twofold_console=" not in refused_console.headers.get("set-cookie", "")
    console = await client.post("/console/signin", data={**console_form, "access_key_secret": BOOTSTRAP_SECRET})
    assert console.status_code == 303, console.text
    ex.add("console session id", console.cookies["twofold_console"])
    users_page = await client.get("/console/users")
    assert users_page.status_code == 200
    ex.add("console csrf token", re.search(r'name="csrf" value="([^"]+)"', users_page.text).group(1))  # type: ignore[union-attr]

    # Every way of reading users back.
    ex.user_responses = [
        await api.get("get-user", userId=user_1["userId"], withCustomData="true", withIdentities="true"),
        await api.get("get-user", userId=user_2["userId"]),
        await api.get("get-user-batch", userIds=",".join(ex.user_ids), withCustomData="true"),
        await api.post("list-users", {"options": {"withCustomData": True, "withIdentities": True}}),
        await api.get("list-users", withCustomData="true"),
    ]
    assert all(body["statusCode"] == 200 for body in ex.user_responses)
    return ex


async def stored_password_hashes(services: Services, user_ids: Iterable[str]) -> dict[str, str]:
    async with services.db.read() as conn:
        rows = await conn.fetch_all("SELECT id, password_hash FROM users")
    hashes = {f"password hash of {r['id']}": r["password_hash"] for r in rows if r["id"] in set(user_ids)}
    assert len(hashes) == 2 and all(h.startswith("$argon2") for h in hashes.values())
    return hashes


def record_texts(record: logging.LogRecord) -> list[str]:
    """Everything a handler could write for ``record``: message, raw args, extras, exception text, in
    the plain format and the JSON one (``TWOFOLD_LOG_FORMAT=json``)."""
    formatter = logging.Formatter("%(name)s %(levelname)s %(message)s")
    return [
        record.getMessage(), repr(record.args), repr(vars(record)), formatter.format(record),
        JsonFormatter().format(record),
    ]


async def test_no_secret_reaches_the_log(client: httpx.AsyncClient, services: Services, log_capture: _Collect,
                                         caplog: pytest.LogCaptureFixture) -> None:
    exercise = await drive_credential_endpoints(client, services)
    wanted = {**exercise.secrets, **await stored_password_hashes(services, exercise.user_ids)}
    records = [*caplog.records, *log_capture.records]
    # The capture works: the access log and the auth-failure reasons were recorded at all.
    assert any(r.name == "twofold.http" for r in log_capture.records)
    assert any(r.name == "twofold.errors" and "authentication failed" in r.getMessage() for r in caplog.records)

    found = {(r.name, name) for r in records for text in record_texts(r) for name in leaks(text, wanted)}
    assert found == set()
    assert leaks(caplog.text, wanted) == []
    assert "$argon2" not in caplog.text


async def test_no_secret_is_stored_in_plaintext(client: httpx.AsyncClient, services: Services) -> None:
    exercise = await drive_credential_endpoints(client, services)
    for token in exercise.mfa_tokens:  # spent, as the MFA step spends them
        await services.mfa_tickets.consume_mfa_token(token)
    assert await services.audit_chain.seal() > 0  # as a server does every second: the chain is searched too
    wanted = exercise.secrets
    found = []
    async with services.db.read() as conn:
        for table in metadata.sorted_tables:
            rows = await conn.fetch_all(f"SELECT * FROM {table.name}")  # names from our own metadata
            assert rows or table.name in {"identities", "sync_relations", "applications", "custom_fields",
                                          *DELIVERY_TABLES}, table.name
            for row in rows:
                for column, value in dict(row).items():
                    found += [(table.name, column, name) for name in leaks(str(value), wanted)]
    assert found == []


async def test_user_responses_never_carry_the_password_or_its_hash(client: httpx.AsyncClient,
                                                                   services: Services) -> None:
    exercise = await drive_credential_endpoints(client, services)
    wanted = {**exercise.only("password"), **await stored_password_hashes(services, exercise.user_ids)}
    for body in exercise.user_responses:
        text = json.dumps(body)
        assert leaks(text, wanted) == [], body
        assert "$argon2" not in text and '"password' not in text.replace('"passwordLastSetAt"', "").replace('"passwordSecurityLevel"', "")


async def test_audit_trail_carries_no_secret(client: httpx.AsyncClient, services: Services) -> None:
    exercise = await drive_credential_endpoints(client, services)
    api = await Api(client).login()
    events = await api.ok("GET", "twofold/list-audit-events", {"limit": 500})
    actions = {e["action"] for e in events}
    assert {"user.create", "otp.import", "otp.secret.read", "mfa.status.set", "user.update"} <= actions
    assert {"mfa.factor.verified", "mfa.factor.failed", "mfa.recovery_code.used"} <= actions
    wanted = {**exercise.secrets, **await stored_password_hashes(services, exercise.user_ids)}
    for event in events:
        text = json.dumps(event, ensure_ascii=False)  # before, after and every other member
        assert leaks(text, wanted) == [], event
        assert "$argon2" not in text


# --- one-time codes and their delivery ----------------------------------------------------------------
_STANDARD_RECORD_ATTRIBUTES = set(vars(logging.LogRecord("x", logging.INFO, "x", 0, "x", None, None))) | {
    "message", "asctime", "request_id", "taskName"}


def record_payload(record: logging.LogRecord) -> list[str]:
    """What a record says (message, args, exception, extras): not its times, thread and process ids,
    whose digits could pass for a 6-digit code."""
    extras = {k: v for k, v in vars(record).items() if k not in _STANDARD_RECORD_ATTRIBUTES}
    return [record.getMessage(), repr(record.args), record.exc_text or "", repr(extras)]


@pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS:UserWarning")  # loopback only
async def test_delivery_secrets_and_codes_never_reach_the_log(settings: Any, log_capture: _Collect,
                                                               caplog: pytest.LogCaptureFixture) -> None:
    from pydantic import SecretStr

    from tests.delivery_peers import Credentials, Webhook, code_in, free_port, smtp_server, webhook_receiver
    from twofold.domain.passcodes import Channel, Email, Phone
    from twofold.errors import DeliveryFailed
    from twofold.services.container import build_services

    for name in ("twofold.delivery", "twofold.passcodes", "httpx", "httpcore", "aiosmtplib"):
        caplog.set_level(logging.DEBUG, logger=name)
    smtp_password = f"smtp-{secrets.token_urlsafe(18)}"
    webhook_secret = f"whsec-{secrets.token_urlsafe(18)}"
    wanted = {"smtp password": smtp_password, "webhook secret": webhook_secret}
    codes: list[str] = []
    verify = Channel.CHANNEL_VERIFY_MFA
    hook = Webhook(webhook_secret.encode(), fail_first=1)
    with smtp_server(credentials=Credentials("mailer", smtp_password)) as (handler, port), \
            webhook_receiver(hook) as url:
        configured = settings.model_copy(update={
            "smtp_url": SecretStr(f"smtp://mailer:{smtp_password}@127.0.0.1:{port}"),
            "smtp_from": "no-reply@twofold.test", "sms_webhook_url": url,
            "sms_webhook_secret": SecretStr(webhook_secret), "sms_webhook_backoff_seconds": 0.01})
        wrong_password = configured.model_copy(update={
            "smtp_url": SecretStr(f"smtp://mailer:{smtp_password}-wrong@127.0.0.1:{port}"),
            "sms_webhook_url": f"http://127.0.0.1:{free_port()}/sms", "sms_webhook_attempts": 2})
        # Real transports, failing ones, the outbox.
        for n, chosen in enumerate((configured, wrong_password, settings)):
            services = await build_services(chosen)
            try:
                for target in (Email.parse(f"{secrets.token_hex(4)}@example.com"), Phone.parse(f"1380013800{n}")):
                    try:
                        await services.passcodes.send("pool0000000000000000000a", verify, target, "198.51.100.1")
                    except DeliveryFailed:
                        continue
                codes += [code_in(m.text) for m in await services.outbox.list_messages()]
            finally:
                await services.close()
    codes += [code_in(r.message.get_content()) for r in handler.received]
    codes += [code_in(r["json"]["text"]) for r in hook.delivered]
    assert len(codes) == 4 and len(hook.requests) == 2  # SMTP, webhook (retried once), outbox x 2

    ours = [r for r in [*caplog.records, *log_capture.records] if not r.name.startswith("mail.log")]  # not the peer's
    assert any(r.name == "twofold.delivery" for r in ours)  # the failures were logged (without secrets)
    found = {(r.name, name) for r in ours for text in record_texts(r) for name in leaks(text, wanted)}
    assert found == set()
    code_pattern = re.compile("|".join(f"(?<![0-9]){c}(?![0-9])" for c in codes))
    assert [(r.name, r.getMessage()) for r in ours if any(code_pattern.search(t) for t in record_payload(r))] == []
