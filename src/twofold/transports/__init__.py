"""The transports that carry messages out of Twofold: SMTP for email, an HTTP webhook for SMS.

They implement ``services.delivery.Transport`` the way ``storage/`` implements the repositories: the
services never import them (nor httpx), the composition root (``services/container.py``) picks them
from the settings.  A medium without a configured transport goes to the development outbox.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from twofold.config import Settings
from twofold.services.context import Clock
from twofold.services.delivery import Delivery, DeliveryConfigError, OutboxTransport, Transport
from twofold.services.keyring import Keyring
from twofold.storage.database import Database
from twofold.transports.sms_webhook import WebhookSmsTransport
from twofold.transports.smtp import SmtpServer, SmtpTransport, sender_address

__all__ = ["build_delivery", "describe_delivery", "refuse_outbox_in_production"]

_OUTBOX = "dev outbox in the database, encrypted (read it with `twofold outbox`)"


def _check_smtp(settings: Settings) -> tuple[SmtpServer, str] | None:
    """The SMTP server and the sender, or None when email is not configured."""
    if settings.smtp_url is None:
        return None
    return SmtpServer.parse(settings.smtp_url.get_secret_value()), sender_address(settings.smtp_from)


def _check_webhook(settings: Settings) -> str | None:
    url = settings.sms_webhook_url
    if url is None:
        return None
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError for a port that is not a number
    except ValueError:
        raise DeliveryConfigError("TWOFOLD_SMS_WEBHOOK_URL is not a valid URL") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise DeliveryConfigError("TWOFOLD_SMS_WEBHOOK_URL must be an http:// or https:// URL")
    if settings.sms_webhook_secret is None or len(settings.sms_webhook_secret.get_secret_value()) < 16:
        raise DeliveryConfigError(
            "TWOFOLD_SMS_WEBHOOK_SECRET (16 characters or more) is required with TWOFOLD_SMS_WEBHOOK_URL"
        )
    return url


def build_delivery(settings: Settings, db: Database, box: Keyring, clock: Clock) -> Delivery:
    """The transport of each medium; ``DeliveryConfigError`` for unusable settings."""
    outbox = OutboxTransport(db, box, clock)
    email: Transport = outbox
    sms: Transport = outbox
    smtp = _check_smtp(settings)
    if smtp is not None:
        email = SmtpTransport(*smtp, settings.smtp_timeout_seconds, settings.smtp_ca_file)
    webhook = _check_webhook(settings)
    if webhook is not None:
        assert settings.sms_webhook_secret is not None
        sms = WebhookSmsTransport(
            webhook,
            settings.sms_webhook_secret.get_secret_value().encode(),
            clock,
            timeout=settings.sms_webhook_timeout_seconds,
            attempts=settings.sms_webhook_attempts,
            backoff_seconds=settings.sms_webhook_backoff_seconds,
        )
    return Delivery(email=email, sms=sms)


def describe_delivery(settings: Settings) -> str:
    """Two banner lines: where email and SMS codes go (never a password or a secret)."""
    smtp = _check_smtp(settings)
    email = smtp[0].describe() if smtp is not None else _OUTBOX
    webhook = _check_webhook(settings)
    sms = f"webhook {_origin(webhook)}" if webhook is not None else _OUTBOX
    return f"email codes: {email}\nSMS codes:   {sms}"


def _origin(url: str) -> str:
    """Scheme, host and port only: a webhook URL may carry a token in its user info, path or query."""
    parts = urlsplit(url)
    port = f":{parts.port}" if parts.port else ""
    return f"{parts.scheme}://{parts.hostname}{port}"


def refuse_outbox_in_production(settings: Settings) -> None:
    """With ``TWOFOLD_ENV=production`` every medium needs a real transport: codes in a dev outbox would
    never reach anyone.  Unusable delivery settings are refused in any environment."""
    _check_smtp(settings)
    _check_webhook(settings)
    if not settings.is_production:
        return
    missing = [
        name
        for name, configured in (
            ("TWOFOLD_SMTP_URL", settings.smtp_url is not None),
            ("TWOFOLD_SMS_WEBHOOK_URL", settings.sms_webhook_url is not None),
        )
        if not configured
    ]
    if missing:
        raise DeliveryConfigError(
            f"TWOFOLD_ENV=production refuses the dev outbox as a transport: set {' and '.join(missing)}"
        )
