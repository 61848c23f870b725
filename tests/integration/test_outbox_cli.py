"""The dev outbox from the command line (``twofold outbox``), the ``serve`` banner that names where
codes go, and the production refusal of the outbox."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from pydantic import SecretStr
from typer.testing import CliRunner

from tests.conftest import SECRET_KEY
from tests.delivery_peers import code_in, free_port
from twofold.api.app import create_app
from twofold.cli.main import app
from twofold.config import Settings
from twofold.domain.passcodes import Channel, Email, Phone
from twofold.services.container import build_services
from twofold.services.delivery import DeliveryConfigError
from twofold.transports import describe_delivery, refuse_outbox_in_production

TWOFOLD_BIN = Path(sys.executable).parent / "twofold"
POOL = "pool0000000000000000000a"


@pytest.fixture
def cli_env(database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    env = {
        "TWOFOLD_DATABASE_URL": database_url,
        "TWOFOLD_DATA_DIR": str(tmp_path / "data"),
        "TWOFOLD_SECRET_KEY": SECRET_KEY,
    }
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    for name in ("TWOFOLD_ENV", "TWOFOLD_SMTP_URL", "TWOFOLD_SMS_WEBHOOK_URL", "TWOFOLD_BOOTSTRAP_ACCESS_KEY_ID"):
        monkeypatch.delenv(name, raising=False)
    return env


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, list(args))
    return result.exit_code, result.output


def send(*calls: tuple[Channel, Email | Phone]) -> None:
    """Send each code through the services of the local database (what an endpoint would do)."""

    async def main() -> None:
        services = await build_services(Settings())
        try:
            for channel, target in calls:
                await services.passcodes.send(POOL, channel, target, "198.51.100.1")
        finally:
            await services.close()

    asyncio.run(main())


def test_outbox_lists_the_codes_newest_first(cli_env: dict[str, str]) -> None:
    assert run("outbox") == (0, "the outbox is empty\n")
    email, phone = Email.parse("alice@example.com"), Phone.parse("13800138000")
    send((Channel.CHANNEL_LOGIN, email), (Channel.CHANNEL_VERIFY_MFA, phone))
    code, out = run("outbox", "--json")
    assert code == 0
    listed = json.loads(out)
    assert [(m["medium"], m["to"], m["purpose"]) for m in listed] == [
        ("sms", "+8613800138000", "CHANNEL_VERIFY_MFA"),
        ("email", "alice@example.com", "CHANNEL_LOGIN"),
    ]
    assert listed[1]["subject"] == "Your verification code" and listed[1]["userPoolId"] == POOL
    code, table = run("outbox", "--limit", "1")
    assert code == 0 and "+8613800138000" in table and code_in(listed[0]["text"]) in table
    assert "alice@example.com" not in table


def test_a_code_read_from_the_outbox_signs_in(cli_env: dict[str, str]) -> None:
    target = Email.parse("bob@example.com")
    send((Channel.CHANNEL_LOGIN, target))
    listed = json.loads(run("outbox", "--json")[1])

    async def check() -> bool:
        services = await build_services(Settings())
        try:
            return await services.passcodes.check(POOL, Channel.CHANNEL_LOGIN, target, code_in(listed[0]["text"]))
        finally:
            await services.close()

    assert asyncio.run(check()) is True


def test_production_refuses_to_serve_with_the_outbox(cli_env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TWOFOLD_ENV", "production")
    code, out = run("serve")
    assert code == 1
    assert out.strip().splitlines() == [
        "error: TWOFOLD_ENV=production refuses the dev outbox as a transport: set TWOFOLD_SMTP_URL and "
        "TWOFOLD_SMS_WEBHOOK_URL"
    ]
    monkeypatch.setenv("TWOFOLD_SMTP_URL", "smtps://mailer:pw@smtp.example.com")
    monkeypatch.setenv("TWOFOLD_SMTP_FROM", "no-reply@example.com")
    code, out = run("serve")
    assert code == 1 and "set TWOFOLD_SMS_WEBHOOK_URL" in out and "TWOFOLD_SMTP_URL" not in out


def test_the_app_factory_refuses_the_outbox_in_production(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, secret_key=SECRET_KEY, env="production")
    with pytest.raises(DeliveryConfigError, match="production"):
        create_app(settings)
    configured = settings.model_copy(
        update={
            "smtp_url": SecretStr("smtp://smtp.example.com:587"),
            "smtp_from": "no-reply@example.com",
            "sms_webhook_url": "https://sms.example.com/hook",
            "sms_webhook_secret": SecretStr("whsec-0123456789abcdef"),
        }
    )
    refuse_outbox_in_production(configured)
    create_app(configured)


def test_unusable_delivery_settings_are_one_line_errors(tmp_path: Path) -> None:
    base = Settings(data_dir=tmp_path, secret_key=SECRET_KEY)
    for update, message in (
        ({"smtp_url": SecretStr("http://smtp.example.com")}, "smtp:// or smtps://"),
        ({"smtp_url": SecretStr("smtp://smtp.example.com")}, "TWOFOLD_SMTP_FROM is required"),
        ({"smtp_url": SecretStr("smtp://h"), "smtp_from": "nobody"}, "not an email address"),
        ({"sms_webhook_url": "ftp://sms.example.com"}, "http:// or https://"),
        ({"sms_webhook_url": "https://"}, "http:// or https://"),
        ({"sms_webhook_url": "https://sms.example.com:port/"}, "not a valid URL"),
        ({"smtp_url": SecretStr("smtp://mailer:pw@smtp.example.com:x")}, "not a valid URL"),
        ({"sms_webhook_url": "https://sms.example.com"}, "TWOFOLD_SMS_WEBHOOK_SECRET"),
    ):
        with pytest.raises(DeliveryConfigError, match=message):
            refuse_outbox_in_production(base.model_copy(update=update))


def test_the_banner_names_the_transports_and_no_secret(tmp_path: Path) -> None:
    base = Settings(data_dir=tmp_path, secret_key=SECRET_KEY)
    assert describe_delivery(base).count("dev outbox") == 2 and "`twofold outbox`" in describe_delivery(base)
    configured = base.model_copy(
        update={
            "smtp_url": SecretStr("smtp://mailer:s3cret-password@smtp.example.com:587"),
            "smtp_from": "no-reply@example.com",
            "sms_webhook_url": "https://user:tok@sms.example.com:8443/hook?token=abc",
            "sms_webhook_secret": SecretStr("whsec-0123456789abcdef"),
        }
    )
    banner = describe_delivery(configured)
    assert banner.splitlines() == [
        "email codes: SMTP smtp.example.com:587 (STARTTLS when offered)",
        "SMS codes:   webhook https://sms.example.com:8443",
    ]


def test_serve_prints_that_codes_go_to_the_outbox(tmp_path: Path) -> None:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("TWOFOLD_")}
    env.update(TWOFOLD_DATA_DIR=str(tmp_path / "data"), TWOFOLD_SECRET_KEY=SECRET_KEY, TWOFOLD_PORT=str(port))
    process = subprocess.Popen(
        [str(TWOFOLD_BIN), "serve"], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and process.poll() is None:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.1)
    finally:
        process.terminate()
        output, _ = process.communicate(timeout=30)
    assert "email codes: dev outbox in the database" in output, output
    assert "SMS codes:   dev outbox in the database" in output, output
