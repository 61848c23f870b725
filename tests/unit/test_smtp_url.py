"""``TWOFOLD_SMTP_URL`` as the SMTP transport reads it."""

from __future__ import annotations

import pytest

from twofold.services.delivery import DeliveryConfigError
from twofold.transports.smtp import SmtpServer, _is_loopback


def test_smtp_urls_are_read_with_default_ports_and_decoded_credentials() -> None:
    plain = SmtpServer.parse("smtp://mailer%40example.com:p%3Ass@smtp.example.com")
    assert (plain.host, plain.port, plain.implicit_tls) == ("smtp.example.com", 25, False)
    assert (plain.username, plain.password) == ("mailer@example.com", "p:ss")
    tls = SmtpServer.parse("smtps://smtp.example.com")
    assert (tls.port, tls.implicit_tls, tls.username, tls.password) == (465, True, None, None)
    assert SmtpServer.parse("smtp://[::1]:2525").describe() == "SMTP ::1:2525 (STARTTLS when offered)"


@pytest.mark.parametrize("url", ["", "smtp://", "https://smtp.example.com", "smtp://h:port", "smtp:///x"])
def test_unusable_smtp_urls_are_refused_without_repeating_them(url: str) -> None:
    with pytest.raises(DeliveryConfigError) as error:
        SmtpServer.parse(url.replace("smtp://h", "smtp://user:hunter2hunter2@h"))
    assert "hunter2" not in str(error.value)


def test_only_loopback_relays_get_a_password_without_tls() -> None:
    assert _is_loopback("127.0.0.1") and _is_loopback("::1") and _is_loopback("localhost")
    assert not _is_loopback("smtp.example.com") and not _is_loopback("192.0.2.10")
