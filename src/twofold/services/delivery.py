"""How messages (one-time codes) leave Twofold: one transport per medium, behind one protocol.

The transports that talk to the outside (SMTP, the SMS webhook) live in ``twofold/transports/``;
this module holds what the services see, and the development outbox, which keeps messages in the
database (encrypted at rest) when no transport is configured.  See docs/delivery.md.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol

import orjson

from twofold import metrics
from twofold.errors import DeliveryFailed
from twofold.services import audit
from twofold.services.context import Caller, Clock, system_clock
from twofold.services.keyring import Keyring
from twofold.storage.database import Database
from twofold.storage.repositories import outbox as outbox_repo

log = logging.getLogger("twofold.delivery")
OUTBOX_READ = "outbox.read"


class DeliveryConfigError(ValueError):
    """The delivery settings are unusable (a startup error: one line, exit 1)."""


class Medium(StrEnum):
    EMAIL = "email"
    SMS = "sms"


@dataclass(frozen=True)
class Message:
    """One message to one recipient.  ``text`` carries the code: transports never log it."""

    pool_id: str
    medium: Medium
    to: str  # an email address, or an E.164 phone number
    subject: str  # email only
    text: str
    purpose: str  # the channel the code is for (CHANNEL_VERIFY_MFA, ...)

    def __repr__(self) -> str:  # a message in a traceback or a log line shows no code
        return f"Message(pool_id={self.pool_id!r}, medium={self.medium.value!r}, purpose={self.purpose!r})"


class Transport(Protocol):
    name: str  # "smtp", "sms-webhook", "outbox"

    async def deliver(self, message: Message) -> None:
        """Hand the message over; ``DeliveryFailed`` when the peer does not take it."""
        ...

    async def close(self) -> None: ...


class OutboxTransport:
    """Development only: the message is stored, encrypted with the master key, for ``twofold outbox``."""

    name = "outbox"

    def __init__(self, db: Database, box: Keyring, clock: Clock) -> None:
        self._db = db
        self._box = box
        self._clock = clock

    async def deliver(self, message: Message) -> None:
        document = {
            "to": message.to,
            "subject": message.subject,
            "text": message.text,
            "purpose": message.purpose,
        }
        ciphertext = await self._box.encrypt(orjson.dumps(document).decode())
        at = self._clock()
        await self._db.atomic(
            lambda conn: outbox_repo.insert(conn, message.pool_id, message.medium.value, ciphertext, at)
        )
        log.info(
            "%s to %s kept in the dev outbox (read it with `twofold outbox`)",
            message.medium.value,
            message.to,
        )

    async def close(self) -> None:
        return None


@dataclass(frozen=True)
class OutboxMessage:
    id: int
    pool_id: str
    medium: str
    to: str
    subject: str
    text: str
    purpose: str
    created_at: int


class OutboxService:
    """Reads the development outbox (the ``twofold outbox`` command)."""

    def __init__(self, db: Database, box: Keyring, clock: Clock = system_clock) -> None:
        self._db = db
        self._box = box
        self._clock = clock

    async def list_messages(
        self, pool_id: str | None = None, limit: int = 20, caller: Caller | None = None
    ) -> list[OutboxMessage]:
        """Newest first, decrypted.  With ``caller`` (the console) the read is audited, as a read of
        codes: ``outbox.read`` (the CLI is the server's own operator)."""
        if caller is not None:
            async with self._db.transaction() as conn:
                await audit.record(conn, self._clock, caller, OUTBOX_READ, None, after={"limit": limit})
        async with self._db.read() as conn:
            rows = await outbox_repo.list_messages(conn, pool_id, max(1, min(limit, 500)))
        messages = []
        for row in rows:
            document = orjson.loads(await self._box.decrypt(row["ciphertext"]))
            messages.append(
                OutboxMessage(
                    id=row["id"],
                    pool_id=row["pool_id"],
                    medium=row["medium"],
                    to=document["to"],
                    subject=document["subject"],
                    text=document["text"],
                    purpose=document["purpose"],
                    created_at=row["created_at"],
                )
            )
        return messages


@dataclass
class Delivery:
    """The transport of each medium."""

    email: Transport
    sms: Transport

    def transport_for(self, medium: Medium) -> Transport:
        return self.email if medium is Medium.EMAIL else self.sms

    async def deliver(self, message: Message) -> str:
        """Deliver through the medium's transport; the transport's name (for the audit trail)."""
        transport = self.transport_for(message.medium)
        try:
            await transport.deliver(message)
        except DeliveryFailed:
            metrics.DELIVERY_FAILURES.labels(message.medium.value).inc()
            raise
        return transport.name

    async def close(self) -> None:
        await self.email.close()
        await self.sms.close()
