"""Who the client is (docs/deployment.md#client-addresses).

Behind a load balancer every connection comes from the balancer.  With ``TWOFOLD_FORWARDED_ALLOW_IPS``
set, uvicorn's ``ProxyHeadersMiddleware`` takes the client from ``X-Forwarded-For``, but only on a
connection from one of those addresses, and only the right-most entry that is not itself trusted (the
one the balancer appended), so a client cannot name itself.  Without the setting the header is ignored.
The per-address limits, the audit trail and the login history all read ``client_address``.
"""

from __future__ import annotations

from fastapi import FastAPI, Request
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware


def install(app: FastAPI, trusted: list[str]) -> None:
    if trusted:
        app.add_middleware(ProxyHeadersMiddleware, trusted_hosts=trusted)


def client_address(request: Request) -> str:
    return request.client.host if request.client else "-"
