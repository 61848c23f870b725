"""SMS through an HTTP webhook: Twofold POSTs each message to ``TWOFOLD_SMS_WEBHOOK_URL`` and the
receiver (a small bridge to any SMS provider) sends it on.

The request (docs/delivery.md):

* body: JSON ``{"to": "<E.164>", "text": "<message>", "purpose": "<channel>"}``, UTF-8;
* ``X-Twofold-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256>``, the HMAC keyed with
  ``TWOFOLD_SMS_WEBHOOK_SECRET`` over the bytes ``<t>.<body>`` (the decimal ``t``, a dot, the exact body);
* ``X-Twofold-Delivery-Id``: the same for every attempt of one message, so a receiver can drop repeats.

A 2xx answer means delivered.  A 5xx, a 429, a timeout or a connection error is retried, at most
``TWOFOLD_SMS_WEBHOOK_ATTEMPTS`` attempts in all, waiting ``TWOFOLD_SMS_WEBHOOK_BACKOFF_SECONDS`` and then
twice as long after each failure; any other answer fails at once.

>>> signature_header(b"whsec-0123456789abcdef", 1700000000, b'{"to":"+8613800138000"}')
't=1700000000,v1=5425db39c3f3f898277879ad19e465158c6982a4225fad16c7e7efcd6aafbb0b'
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import logging
import secrets
from collections.abc import Awaitable, Callable

import httpx
import orjson

from twofold.errors import DeliveryFailed
from twofold.services.context import Clock
from twofold.services.delivery import Message

log = logging.getLogger("twofold.delivery")
SIGNATURE_HEADER = "X-Twofold-Signature"
DELIVERY_ID_HEADER = "X-Twofold-Delivery-Id"


def signature_header(secret: bytes, timestamp: int, body: bytes) -> str:
    """The value of ``X-Twofold-Signature`` for ``body`` sent at ``timestamp`` (unix seconds)."""
    digest = hmac.new(secret, str(timestamp).encode() + b"." + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


def _is_retryable(status: int) -> bool:
    return status >= 500 or status == 429


class WebhookSmsTransport:
    name = "sms-webhook"

    def __init__(
        self,
        url: str,
        secret: bytes,
        clock: Clock,
        *,
        timeout: float = 5.0,
        attempts: int = 3,
        backoff_seconds: float = 0.5,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self._url = url
        self._secret = secret
        self._clock = clock
        self._attempts = attempts
        self._backoff = backoff_seconds
        self._sleep = sleep
        self._client = httpx.AsyncClient(timeout=timeout, follow_redirects=False)

    async def deliver(self, message: Message) -> None:
        body = orjson.dumps({"to": message.to, "text": message.text, "purpose": message.purpose})
        delivery_id = secrets.token_hex(12)
        delay = self._backoff
        for attempt in range(1, self._attempts + 1):
            headers = {
                "content-type": "application/json",
                SIGNATURE_HEADER: signature_header(self._secret, self._clock() // 1000, body),
                DELIVERY_ID_HEADER: delivery_id,
            }
            try:
                response = await self._client.post(self._url, content=body, headers=headers)
            except httpx.TransportError as exc:  # refused, reset, timed out: worth another try
                outcome, retryable = f"{type(exc).__name__}", True
            else:
                if response.is_success:
                    return
                outcome, retryable = f"HTTP {response.status_code}", _is_retryable(response.status_code)
            log.warning(
                "SMS webhook attempt %d/%d failed (%s), delivery id %s",
                attempt,
                self._attempts,
                outcome,
                delivery_id,
            )
            if not retryable or attempt == self._attempts:
                break
            await self._sleep(delay)
            delay *= 2
        raise DeliveryFailed()

    async def close(self) -> None:
        await self._client.aclose()
