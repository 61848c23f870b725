"""The requests the load generator replays, built in Python and written as raw HTTP/1.1.

File format (read by bench/lua/replay.lua): records ``<byte length>\\n<raw request>``.  Building the
bytes here keeps wrk's Lua trivial and fast, and lets HMAC-signed requests be signed by the very functions
the server verifies with (``twofold.auth.signing``), each with its own nonce and a current ``date``.
"""

from __future__ import annotations

import json
import random
import secrets
import urllib.request
from collections.abc import Iterable, Iterator
from email.utils import formatdate
from pathlib import Path
from urllib.parse import urlencode

from twofold.auth.signing import build_string_to_sign, resource_from_body, resource_from_query, sign

from .seed import KEY_ID, KEY_SECRET, user_email, user_id


def fetch_token(port: int) -> str:
    body = json.dumps({"accessKeyId": KEY_ID, "accessKeySecret": KEY_SECRET}).encode()
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/api/v3/get-management-token",
        data=body,
        headers={"content-type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=30) as resp:
        payload = json.load(resp)
    if payload.get("statusCode") != 200:
        raise RuntimeError(f"get-management-token failed: {payload}")
    token: str = payload["data"]["access_token"]
    return token


def raw_request(method: str, target: str, port: int, headers: dict[str, str], body: bytes = b"") -> bytes:
    lines = [f"{method} {target} HTTP/1.1", f"Host: 127.0.0.1:{port}"]
    lines += [f"{name}: {value}" for name, value in headers.items()]
    if method != "GET":
        lines.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


def set_status_body(i: int, by: str) -> bytes:
    """A typical administrator write: OTP on, EMAIL listed but off, codes to the user's address."""
    email = user_email(i)
    return json.dumps(
        {
            "userId": email if by == "email" else user_id(i),
            "userIdType": by,
            "mfaTriggerData": {
                "mfaToken": "bench",
                "applicationMfa": [
                    {"mfaPolicy": "OTP", "status": 1, "sort": 1},
                    {"mfaPolicy": "EMAIL", "status": i % 2, "sort": 2},
                ],
                "totpMfaEnabled": True,
                "mfaEmail": email,
            },
        },
        separators=(",", ":"),
    ).encode()


def _signed_headers(method: str, path: str, query: str, body: bytes) -> dict[str, str]:
    """authing-node-sdk style signature (docs/wire.md#signatures), fresh nonce, current date."""
    headers = {
        "date": formatdate(usegmt=True),
        "x-authing-lang": "zh-CN",
        "x-authing-sdk-version": "authing-node-sdk:4.0.1",
        "x-authing-signature-method": "HMAC-SHA1",
        "x-authing-signature-nonce": secrets.token_hex(16),
        "x-authing-signature-version": "1.0",
    }
    resource = resource_from_query(path, query) if method == "GET" else resource_from_body(path, body)
    signature = sign(build_string_to_sign(method, headers, resource), KEY_SECRET)
    return {**headers, "authorization": f"authing {KEY_ID}:{signature}"}


def scenario_requests(
    endpoint: str,
    by: str,
    auth: str,
    port: int,
    users: int,
    count: int,
    token: str | None = None,
    pool_id: str = "",
    seed: int = 7,
) -> Iterator[bytes]:
    """``count`` requests to ``endpoint`` for users drawn at random from the pool of ``users``."""
    rng = random.Random(seed)
    path = f"/api/v3/{endpoint}"
    for _ in range(count):
        i = rng.randrange(users)
        if endpoint == "set-mfa-status":
            method, query, body = "POST", "", set_status_body(i, by)
        else:
            method, body = "GET", b""
            query = urlencode({"userId": user_email(i) if by == "email" else user_id(i), "userIdType": by})
        headers = {"content-type": "application/json"} if body else {}
        if auth == "hmac":
            headers.update(_signed_headers(method, path, query, body))
        else:
            headers.update({"authorization": f"Bearer {token}", "x-genauth-userpool-id": pool_id})
        yield raw_request(method, f"{path}?{query}" if query else path, port, headers, body)


def baseline_requests(port: int) -> Iterator[bytes]:
    """What the baselines receive: the body of a set-mfa-status request (a small JSON document)."""
    rng = random.Random(7)
    for _ in range(1000):
        body = set_status_body(rng.randrange(10_000), "user_id")
        yield raw_request("POST", "/api/v3/set-mfa-status", port, {"content-type": "application/json"}, body)


def write_requests(path: Path, requests: Iterable[bytes]) -> int:
    written = 0
    with path.open("wb") as out:
        for raw in requests:
            out.write(b"%d\n" % len(raw))
            out.write(raw)
            written += 1
    return written
