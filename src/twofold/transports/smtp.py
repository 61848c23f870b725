"""Email over SMTP with ``aiosmtplib``; the message is built with the stdlib ``email`` package.

``TWOFOLD_SMTP_URL``:

* ``smtp://user:pass@host:port`` — plain connection, upgraded with STARTTLS when the server offers it
  (port 25 by default);
* ``smtps://user:pass@host:port`` — TLS from the first byte (port 465 by default).

User and password are optional and percent-decoded (``%40`` for ``@``).  Certificates are verified
against the system CAs, plus ``TWOFOLD_SMTP_CA_FILE`` when set.  The password is sent only over TLS
(implicit or STARTTLS), except to a relay on the loopback interface.
"""

from __future__ import annotations

import ipaddress
import logging
import ssl
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate, make_msgid, parseaddr
from pathlib import Path
from urllib.parse import unquote, urlsplit

import aiosmtplib

from twofold.errors import DeliveryFailed
from twofold.services.delivery import DeliveryConfigError, Message

log = logging.getLogger("twofold.delivery")
_DEFAULT_PORTS = {"smtp": 25, "smtps": 465}


@dataclass(frozen=True)
class SmtpServer:
    host: str
    port: int
    implicit_tls: bool
    username: str | None
    password: str | None

    @classmethod
    def parse(cls, url: str) -> SmtpServer:
        """Read ``TWOFOLD_SMTP_URL``; the error never repeats the URL (it may hold the password)."""
        try:
            parts = urlsplit(url.strip())
            port = parts.port
        except ValueError:
            raise DeliveryConfigError("TWOFOLD_SMTP_URL is not a valid URL") from None
        if parts.scheme not in _DEFAULT_PORTS:
            raise DeliveryConfigError("TWOFOLD_SMTP_URL must start with smtp:// or smtps://")
        if not parts.hostname:
            raise DeliveryConfigError("TWOFOLD_SMTP_URL names no host")
        return cls(
            host=parts.hostname,
            port=port or _DEFAULT_PORTS[parts.scheme],
            implicit_tls=parts.scheme == "smtps",
            username=unquote(parts.username) if parts.username else None,
            password=unquote(parts.password) if parts.password is not None else None,
        )

    def describe(self) -> str:
        security = "TLS" if self.implicit_tls else "STARTTLS when offered"
        return f"SMTP {self.host}:{self.port} ({security})"


def sender_address(value: str | None) -> str:
    """``TWOFOLD_SMTP_FROM``: an address, optionally with a display name (``Twofold <no-reply@x.org>``)."""
    if not value:
        raise DeliveryConfigError("TWOFOLD_SMTP_FROM is required with TWOFOLD_SMTP_URL")
    _, address = parseaddr(value)
    if "@" not in address:
        raise DeliveryConfigError("TWOFOLD_SMTP_FROM is not an email address")
    return value


def build_email(sender: str, message: Message) -> EmailMessage:
    email = EmailMessage()
    email["From"] = sender
    email["To"] = message.to
    email["Subject"] = message.subject
    email["Date"] = formatdate(localtime=False, usegmt=True)
    email["Message-ID"] = make_msgid(domain=parseaddr(sender)[1].rpartition("@")[2] or None)
    email.set_content(message.text)
    return email


def _is_loopback(host: str) -> bool:
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return host == "localhost"


class SmtpTransport:
    name = "smtp"

    def __init__(self, server: SmtpServer, sender: str, timeout: float, ca_file: Path | None = None) -> None:
        self._server = server
        self._sender = sender
        self._timeout = timeout
        self._tls = ssl.create_default_context(cafile=str(ca_file) if ca_file else None)

    async def deliver(self, message: Message) -> None:
        server = self._server
        smtp = aiosmtplib.SMTP(
            hostname=server.host,
            port=server.port,
            use_tls=server.implicit_tls,
            start_tls=False if server.implicit_tls else None,  # None: upgrade when the server offers it
            tls_context=self._tls,
            timeout=self._timeout,
        )
        try:
            async with smtp:
                if server.username is not None:
                    if smtp.get_transport_info("sslcontext") is None and not _is_loopback(server.host):
                        log.warning(
                            "email not delivered via %s: no TLS to send the password over", server.describe()
                        )
                        raise DeliveryFailed()
                    await smtp.login(server.username, server.password or "")
                await smtp.send_message(build_email(self._sender, message))
        except (aiosmtplib.SMTPException, OSError) as exc:
            # The exception's text is the server's reply or the socket error: no code, no password.
            log.warning("email not delivered via %s: %s: %s", server.describe(), type(exc).__name__, exc)
            raise DeliveryFailed() from None

    async def close(self) -> None:
        return None
