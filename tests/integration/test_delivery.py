"""Codes delivered through real peers: an aiosmtpd SMTP server (plain, STARTTLS with a certificate made
here, implicit TLS) and an HTTP webhook receiver that checks the signature, on both databases."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
from pydantic import SecretStr

from tests.delivery_peers import (
    Credentials,
    Factory,
    ManualClock,
    Webhook,
    code_in,
    free_port,
    self_signed_cert,
    smtp_server,
    webhook_receiver,
)
from twofold.domain.passcodes import Channel, Email, Phone
from twofold.errors import DeliveryFailed

POOL = "pool0000000000000000000a"
VERIFY = Channel.CHANNEL_VERIFY_MFA
SMTP_PASSWORD = "smtp-pass-0123456789abcdef"  # noqa: S105 - the test server's
WEBHOOK_SECRET = "whsec-test-0123456789abcdef"  # noqa: S105




def smtp_settings(url: str, **more: Any) -> dict[str, Any]:
    return {"smtp_url": SecretStr(url), "smtp_from": "Twofold <no-reply@twofold.test>", **more}


def webhook_settings(url: str, **more: Any) -> dict[str, Any]:
    return {
        "sms_webhook_url": url,
        "sms_webhook_secret": SecretStr(WEBHOOK_SECRET),
        "sms_webhook_backoff_seconds": 0.01,
        **more,
    }


@pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS:UserWarning")  # loopback only
async def test_email_code_over_plain_smtp_with_login_is_read_and_verified(make: Factory) -> None:
    with smtp_server(credentials=Credentials("mailer", SMTP_PASSWORD)) as (handler, port):
        async with make(**smtp_settings(f"smtp://mailer:{SMTP_PASSWORD}@127.0.0.1:{port}")) as svc:
            target = Email.parse("Alice@Example.com")
            await svc.passcodes.send(POOL, VERIFY, target, "198.51.100.1")
            assert len(handler.received) == 1
            got = handler.received[0]
            assert got.recipients == ["alice@example.com"] and got.login == "mailer"
            assert got.message["From"] == "Twofold <no-reply@twofold.test>"
            assert got.message["Subject"] == "Your verification code"
            body = got.message.get_content()
            assert await svc.passcodes.check(POOL, VERIFY, target, code_in(body)) is True
            assert await svc.outbox.list_messages() == []  # a configured transport bypasses the outbox


async def test_email_code_over_starttls_with_a_self_signed_certificate(make: Factory, tmp_path: Path) -> None:
    cert = self_signed_cert(tmp_path)
    with smtp_server(credentials=Credentials("mailer", SMTP_PASSWORD), tls=cert) as (handler, port):
        url = f"smtp://mailer:{SMTP_PASSWORD}@127.0.0.1:{port}"
        async with make(**smtp_settings(url, smtp_ca_file=cert[0])) as svc:
            target = Email.parse("bob@example.com")
            await svc.passcodes.send(POOL, VERIFY, target, "198.51.100.1")
            assert handler.received[0].tls is True and handler.received[0].login == "mailer"
            code = code_in(handler.received[0].message.get_content())
            assert await svc.passcodes.check(POOL, VERIFY, target, code) is True


async def test_email_code_over_implicit_tls(make: Factory, tmp_path: Path) -> None:
    cert = self_signed_cert(tmp_path)
    with smtp_server(tls=cert, implicit_tls=True) as (handler, port):
        async with make(**smtp_settings(f"smtps://127.0.0.1:{port}", smtp_ca_file=cert[0])) as svc:
            await svc.passcodes.send(POOL, VERIFY, Email.parse("carol@example.com"), "198.51.100.1")
            assert handler.received[0].tls is True


async def test_an_untrusted_certificate_is_refused(make: Factory, tmp_path: Path) -> None:
    cert = self_signed_cert(tmp_path)
    with smtp_server(tls=cert) as (handler, port):
        async with make(**smtp_settings(f"smtp://127.0.0.1:{port}")) as svc:  # no CA file
            with pytest.raises(DeliveryFailed):
                await svc.passcodes.send(POOL, VERIFY, Email.parse("dave@example.com"), "198.51.100.1")
            assert handler.received == []


@pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS:UserWarning")  # loopback only
async def test_a_wrong_smtp_password_fails_the_delivery(make: Factory) -> None:
    with smtp_server(credentials=Credentials("mailer", SMTP_PASSWORD)) as (handler, port):
        async with make(**smtp_settings(f"smtp://mailer:wrong-password@127.0.0.1:{port}")) as svc:
            with pytest.raises(DeliveryFailed) as error:
                await svc.passcodes.send(POOL, VERIFY, Email.parse("erin@example.com"), "198.51.100.1")
            assert error.value.status_code == 503 and handler.received == []


async def test_an_unreachable_smtp_server_fails_the_delivery(make: Factory) -> None:
    async with make(**smtp_settings(f"smtp://127.0.0.1:{free_port()}")) as svc:
        with pytest.raises(DeliveryFailed):
            await svc.passcodes.send(POOL, VERIFY, Email.parse("frank@example.com"), "198.51.100.1")
        assert await svc.audit.list_events(POOL, action="passcode.send") == []  # not sent, not audited


async def test_sms_code_through_the_signed_webhook(make: Factory, clock: ManualClock) -> None:
    hook = Webhook(WEBHOOK_SECRET.encode())
    with webhook_receiver(hook) as url:
        async with make(**webhook_settings(url)) as svc:
            target = Phone.parse("13800138000", "+86")
            await svc.passcodes.send(POOL, VERIFY, target, "198.51.100.1")
            assert len(hook.requests) == 1 and hook.requests[0]["signed"]
            request = hook.requests[0]
            assert set(request["json"]) == {"to", "text", "purpose"}
            assert request["json"]["to"] == "+8613800138000" and request["json"]["purpose"] == "CHANNEL_VERIFY_MFA"
            assert request["headers"]["x-twofold-signature"].startswith(f"t={clock.now // 1000},v1=")
            assert request["headers"]["content-type"] == "application/json"
            assert await svc.passcodes.check(POOL, VERIFY, target, code_in(request["json"]["text"])) is True


async def test_a_receiver_with_another_secret_sees_a_bad_signature(make: Factory) -> None:
    hook = Webhook(b"another-secret-0123456789")
    with webhook_receiver(hook) as url:
        async with make(**webhook_settings(url)) as svc:
            await svc.passcodes.send(POOL, VERIFY, Phone.parse("13800138001"), "198.51.100.1")
    assert len(hook.requests) == 1 and hook.requests[0]["signed"] is False


async def test_the_webhook_is_retried_after_server_errors(make: Factory) -> None:
    hook = Webhook(WEBHOOK_SECRET.encode(), fail_first=2)
    with webhook_receiver(hook) as url:
        async with make(**webhook_settings(url)) as svc:
            target = Phone.parse("13800138002")
            await svc.passcodes.send(POOL, VERIFY, target, "198.51.100.1")
    assert [r["answered"] for r in hook.requests] == [503, 503, 200]
    assert all(r["signed"] for r in hook.requests)
    ids = {r["headers"]["x-twofold-delivery-id"] for r in hook.requests}
    assert len(ids) == 1  # one delivery id across the attempts: the receiver can drop repeats
    assert len({r["body"] for r in hook.requests}) == 1


async def test_the_webhook_gives_up_after_the_configured_attempts(make: Factory) -> None:
    hook = Webhook(WEBHOOK_SECRET.encode(), fail_first=10)
    with webhook_receiver(hook) as url:
        async with make(**webhook_settings(url, sms_webhook_attempts=4)) as svc:
            with pytest.raises(DeliveryFailed):
                await svc.passcodes.send(POOL, VERIFY, Phone.parse("13800138003"), "198.51.100.1")
    assert len(hook.requests) == 4


async def test_a_client_error_is_not_retried(make: Factory) -> None:
    hook = Webhook(WEBHOOK_SECRET.encode(), status=400)
    with webhook_receiver(hook) as url:
        async with make(**webhook_settings(url)) as svc:
            with pytest.raises(DeliveryFailed):
                await svc.passcodes.send(POOL, VERIFY, Phone.parse("13800138004"), "198.51.100.1")
    assert len(hook.requests) == 1


async def test_an_unreachable_webhook_is_retried_then_fails(make: Factory) -> None:
    async with make(**webhook_settings(f"http://127.0.0.1:{free_port()}/sms", sms_webhook_attempts=3)) as svc:
        with pytest.raises(DeliveryFailed):
            await svc.passcodes.send(POOL, VERIFY, Phone.parse("13800138005"), "198.51.100.1")


async def test_email_and_sms_each_take_their_own_transport(make: Factory) -> None:
    hook = Webhook(WEBHOOK_SECRET.encode())
    with smtp_server() as (handler, port), webhook_receiver(hook) as url:
        async with make(**smtp_settings(f"smtp://127.0.0.1:{port}"), **webhook_settings(url)) as svc:
            await asyncio.gather(
                svc.passcodes.send(POOL, VERIFY, Email.parse("grace@example.com"), "198.51.100.1"),
                svc.passcodes.send(POOL, VERIFY, Phone.parse("13800138006"), "198.51.100.1"),
            )
            assert len(handler.received) == 1 and len(hook.delivered) == 1
            assert await svc.outbox.list_messages() == []


async def test_the_message_is_in_the_callers_language(make: Factory) -> None:
    from twofold.request_context import bind

    hook = Webhook(WEBHOOK_SECRET.encode())
    with smtp_server() as (handler, port), webhook_receiver(hook) as url:
        async with make(**smtp_settings(f"smtp://127.0.0.1:{port}"), **webhook_settings(url)) as svc:
            bind("req-zh-0001", "zh-CN")  # what the middleware does for x-authing-lang: zh-CN
            target = Email.parse("heidi@example.com")
            await svc.passcodes.send(POOL, VERIFY, target, "198.51.100.1")
            await svc.passcodes.send(POOL, VERIFY, Phone.parse("13800138007"), "198.51.100.1")
            mail = handler.received[0].message
            assert mail["Subject"] == "您的验证码" and "分钟内有效" in mail.get_content()
            assert "分钟内有效" in hook.delivered[0]["json"]["text"]
            assert await svc.passcodes.check(POOL, VERIFY, target, code_in(mail.get_content())) is True
            events = await svc.audit.list_events(POOL, action="passcode.send")
            assert {e.request_id for e in events} == {"req-zh-0001"}
