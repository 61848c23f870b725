"""A test-side signer that reproduces authing-node-sdk's request signing (docs/wire.md#signatures)."""

from __future__ import annotations

import json
import secrets
from collections.abc import Generator
from email.utils import formatdate
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import httpx

from twofold.auth.signing import build_string_to_sign, sign


class NodeStyleSigner(httpx.Auth):
    def __init__(
        self, key_id: str, secret: str, date: str | None = None, nonce: str | None = None, lang: str = "zh-CN"
    ) -> None:
        self.key_id, self.secret, self.date, self.nonce, self.lang = key_id, secret, date, nonce, lang

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        headers = {
            "x-authing-signature-nonce": self.nonce or secrets.token_hex(16),
            "x-authing-signature-method": "HMAC-SHA1",
            "x-authing-signature-version": "1.0",
            "x-authing-sdk-version": "authing-node-sdk:4.0.1",
            "x-authing-lang": self.lang,
            "date": self.date or formatdate(usegmt=True),
        }
        url = urlsplit(str(request.url))
        if request.method == "GET":
            params: dict[str, Any] = {}
            for k, v in parse_qsl(url.query, keep_blank_values=True):
                if k.endswith("[]"):
                    params.setdefault(k[:-2], []).append(v)
                else:
                    params[k] = v
        else:
            params = json.loads(request.content or b"{}")
        parts = []
        for key in sorted(params):
            value = params[key]
            text = (
                json.dumps(value, separators=(",", ":"), ensure_ascii=False)
                if isinstance(value, dict | list)
                else (
                    "true"
                    if value is True
                    else "false"
                    if value is False
                    else "null"
                    if value is None
                    else str(value)
                )
            )
            parts.append(f"{key}={text}")
        resource = url.path + ("?" + "&".join(parts) if parts else "")
        string = build_string_to_sign(request.method, headers, resource)
        for name, value in headers.items():
            request.headers[name] = value
        request.headers["authorization"] = f"authing {self.key_id}:{sign(string, self.secret)}"
        yield request
