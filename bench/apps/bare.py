"""Baseline 1: a bare ASGI app answering every request with one fixed JSON body.

It measures the server stack (uvicorn + uvloop + httptools, the same `--workers`) and the load generator:
nothing Twofold does can be faster than this.  Run by bench/run.py as
``python -m uvicorn --app-dir bench/apps bare:app``.
"""

from __future__ import annotations

from typing import Any

BODY = b'{"statusCode":200,"message":"Operation successful","data":{"success":true}}'
HEADERS = [(b"content-type", b"application/json"), (b"content-length", str(len(BODY)).encode())]


async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] == "lifespan":
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await send({"type": "lifespan.shutdown.complete"})
                return
    if scope["type"] != "http":
        return
    more = True
    while more:  # drain the request body, as any real endpoint must
        message = await receive()
        more = message.get("more_body", False)
    await send({"type": "http.response.start", "status": 200, "headers": HEADERS})
    await send({"type": "http.response.body", "body": BODY})
