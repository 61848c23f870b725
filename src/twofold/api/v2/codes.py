"""The v2 sends of Guard and ``authing-js-sdk`` (docs/wire.md#send-codes): ``POST /api/v2/email/send
{email, scene}`` and ``POST /api/v2/sms/send {phone, phoneCountryCode?, scene}``, with the same rules
as ``send-sms`` / ``send-email`` (``api/v3/codes.py``); the v2 envelope (``code: 200``)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.responses import Response

from twofold.api.deps import ServicesDep
from twofold.api.routing import LeanRoute
from twofold.api.v2 import PREFIX
from twofold.api.v2.envelope import sent
from twofold.api.v3.codes import send_code
from twofold.domain.passcodes import EMAIL_SCENES, SMS_SCENES, Email, Phone, parse_channel
from twofold.schemas.codes import V2EmailSendRequest, V2SmsSendRequest

router = APIRouter(prefix=PREFIX, tags=["codes (v2)"], route_class=LeanRoute)


@router.post("/email/send")
async def send_email(request: Request, body: V2EmailSendRequest, services: ServicesDep) -> Response:
    channel = parse_channel(body.scene, "scene", EMAIL_SCENES)
    await send_code(request, services, channel, Email.parse(body.email or "", "email"))
    return sent()


@router.post("/sms/send")
async def send_sms(request: Request, body: V2SmsSendRequest, services: ServicesDep) -> Response:
    channel = parse_channel(body.scene, "scene", SMS_SCENES)
    phone = Phone.parse(body.phone or "", body.phone_country_code or None, "phone")
    await send_code(request, services, channel, phone)
    return sent()
