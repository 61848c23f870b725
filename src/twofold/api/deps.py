"""Annotated dependencies, so a route reads like its intent."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from twofold.api.context import current_request_id
from twofold.api.proxy import client_address
from twofold.errors import AuthenticationFailed
from twofold.services.container import Services
from twofold.services.context import Caller


async def get_services(request: Request) -> Services:
    services: Services = request.app.state.services
    return services


ServicesDep = Annotated[Services, Depends(get_services)]


def _first_values(request: Request) -> dict[str, str]:
    """The request's headers by name, the first of a repeated one winning (as ``Headers.get``), in one
    pass: ``Headers.get`` scans the list for every name asked, and raises and catches a ``KeyError``
    for every absent one (the pool headers, on most requests)."""
    headers: dict[str, str] = {}
    for name, value in request.scope["headers"]:
        headers.setdefault(name.decode("latin-1").lower(), value.decode("latin-1"))
    return headers


async def authenticate(request: Request) -> Caller:
    """Management authentication: ``Bearer <token>`` or ``authing|genauth <AK>:<signature>``."""
    services: Services = request.app.state.services
    headers = _first_values(request)
    authorization = headers.get("authorization", "")
    if authorization[:7].lower() == "bearer ":
        principal = await services.keys.authenticate_bearer(authorization[7:].strip(), headers)
    elif authorization.startswith(("authing ", "genauth ")):
        body = await request.body() if request.method != "GET" else b""
        principal = await services.keys.authenticate_signature(
            authorization,
            request.method,
            request.headers,
            request.scope["path"],
            request.scope["query_string"].decode("latin-1"),
            body,
        )
    else:
        raise AuthenticationFailed("no recognised authorization scheme")
    return Caller(principal, current_request_id(), client_address(request))


CallerDep = Annotated[Caller, Depends(authenticate)]
