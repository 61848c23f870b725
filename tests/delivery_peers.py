"""Real peers for the delivery tests: an SMTP server (aiosmtpd) and an HTTP webhook receiver
(``http.server``), both on 127.0.0.1 in the test process, plus a manual clock."""

from __future__ import annotations

import datetime as dt
import email
import email.policy
import hashlib
import hmac
import json
import re
import socket
import ssl
import threading
from collections.abc import Callable, Iterator
from contextlib import AbstractAsyncContextManager, contextmanager
from dataclasses import dataclass, field
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from twofold.services.container import Services

# ``make(**setting_overrides)``: services built on the test's clock (the ``make`` fixture)
Factory = Callable[..., AbstractAsyncContextManager[Services]]

CODE = re.compile(r"(?<!\d)(\d{6})(?!\d)")


def code_in(text: str) -> str:
    found = CODE.findall(text)
    assert len(found) == 1, text
    return str(found[0])


class ManualClock:
    """An injected clock (milliseconds) that moves only when told."""

    def __init__(self, start_ms: int = 1_800_000_000_000) -> None:
        self.now = start_ms

    def __call__(self) -> int:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += int(seconds * 1000)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


# --- SMTP -------------------------------------------------------------------------------------------
@dataclass
class Received:
    envelope_from: str
    recipients: list[str]
    message: EmailMessage
    tls: bool
    login: str | None


def _is_tls(server: Any, session: Any) -> bool:
    """STARTTLS sets ``session.ssl``; implicit TLS shows on the transport."""
    return session.ssl is not None or server.transport.get_extra_info("ssl_object") is not None


@dataclass
class SmtpHandler:
    received: list[Received] = field(default_factory=list)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        parsed = email.message_from_bytes(envelope.original_content, policy=email.policy.default)
        assert isinstance(parsed, EmailMessage)
        login = session.auth_data.decode() if session.authenticated else None
        self.received.append(
            Received(envelope.mail_from, list(envelope.rcpt_tos), parsed, _is_tls(server, session), login)
        )
        return "250 OK"


def self_signed_cert(directory: Path) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1 and localhost, and its key, made for this test."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = dt.datetime.now(dt.UTC)
    import ipaddress

    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(hours=1))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
            ),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = directory / "smtp-cert.pem", directory / "smtp-key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return cert_path, key_path


class Credentials:
    def __init__(self, username: str, password: str) -> None:
        self.username, self.password = username.encode(), password.encode()

    def __call__(self, server: Any, session: Any, envelope: Any, mechanism: str, data: Any) -> AuthResult:
        ok = isinstance(data, LoginPassword) and data.login == self.username and data.password == self.password
        return AuthResult(success=ok, handled=False, auth_data=self.username if ok else None)


@contextmanager
def smtp_server(
    *, credentials: Credentials | None = None, tls: tuple[Path, Path] | None = None, implicit_tls: bool = False
) -> Iterator[tuple[SmtpHandler, int]]:
    """aiosmtpd on 127.0.0.1:<free port>.  ``tls``: offer STARTTLS (required) with this certificate,
    or, with ``implicit_tls``, speak TLS from the first byte."""
    handler = SmtpHandler()
    context = None
    if tls is not None:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(str(tls[0]), str(tls[1]))
    kwargs: dict[str, Any] = {}
    if credentials is not None:
        kwargs.update(authenticator=credentials, auth_required=True, auth_require_tls=tls is not None)
    if context is not None and not implicit_tls:
        kwargs.update(tls_context=context, require_starttls=True)
    port = free_port()
    controller = Controller(
        handler,
        hostname="127.0.0.1",
        port=port,
        ssl_context=context if implicit_tls else None,
        server_hostname="localhost",
        **kwargs,
    )
    controller.start()
    try:
        yield handler, port
    finally:
        controller.stop()


# --- the SMS webhook receiver -------------------------------------------------------------------------
@dataclass
class Webhook:
    """What the receiver got: each request's headers and body, and whether its signature verified."""

    secret: bytes
    fail_first: int = 0  # answer 503 to this many requests first
    status: int = 200
    requests: list[dict[str, Any]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def verify(self, header: str, body: bytes) -> bool:
        parts = dict(item.split("=", 1) for item in header.split(","))
        expected = hmac.new(self.secret, parts["t"].encode() + b"." + body, hashlib.sha256).hexdigest()
        return hmac.compare_digest(parts["v1"], expected)

    @property
    def delivered(self) -> list[dict[str, Any]]:
        return [r for r in self.requests if r["answered"] == 200 and r["signed"]]


@contextmanager
def webhook_receiver(hook: Webhook) -> Iterator[str]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["content-length"]))
            with hook.lock:
                failing = len(hook.requests) < hook.fail_first
                answer = 503 if failing else hook.status
                hook.requests.append(
                    {
                        "headers": {k.lower(): v for k, v in self.headers.items()},
                        "body": body,
                        "json": json.loads(body),
                        "signed": hook.verify(self.headers.get("x-twofold-signature", "t=0,v1="), body),
                        "answered": answer,
                    }
                )
            self.send_response(answer)
            self.send_header("content-length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/sms"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
