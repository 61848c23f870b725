"""Sending one-time codes: ``POST /api/v3/send-sms`` and ``POST /api/v3/send-email``
(docs/wire.md#send-codes, docs/delivery.md#who-may-send-to-whom).

The application comes from the app-id header (``CHANNEL_LOGIN``); on the MFA channels the caller's
mfaToken or access token comes from ``authorization`` (bare or ``Bearer``).  The answer is an empty
success; every refusal is an envelope error.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.responses import Response

from twofold.api import envelope
from twofold.api.deps import ServicesDep
from twofold.api.routing import LeanRoute
from twofold.api.v3 import PREFIX
from twofold.api.v3.signin import request_facts
from twofold.domain.passcodes import Channel, Email, Phone, Target, parse_channel
from twofold.domain.signin import bearer_token
from twofold.schemas.codes import SendEmailRequest, SendSmsRequest
from twofold.services.container import Services

router = APIRouter(prefix=PREFIX, tags=["codes"], route_class=LeanRoute)


def app_id_header(request: Request) -> str | None:
    headers = request.headers
    return headers.get("x-genauth-app-id") or headers.get("x-authing-app-id") or None


async def send_code(request: Request, services: Services, channel: Channel, target: Target) -> None:
    await services.code_sends.send(
        channel,
        target,
        app_id_header(request),
        bearer_token(request.headers.get("authorization")),
        request_facts(request),
    )


@router.post("/send-sms")
async def send_sms(request: Request, body: SendSmsRequest, services: ServicesDep) -> Response:
    channel = parse_channel(body.channel)
    phone = Phone.parse(body.phone_number or "", body.phone_country_code or None, "phoneNumber")
    await send_code(request, services, channel, phone)
    return envelope.ok()


@router.post("/send-email")
async def send_email(request: Request, body: SendEmailRequest, services: ServicesDep) -> Response:
    channel = parse_channel(body.channel)
    await send_code(request, services, channel, Email.parse(body.email or "", "email"))
    return envelope.ok()
