"""Management authentication as ``httpx.Auth`` flows, plus the management-token cache.

Two schemes (docs/wire.md#management-auth), chosen with ``ManagementClient(auth=...)``:

* ``"token"`` — ``POST /api/v3/get-management-token`` once, then ``authorization: Bearer <token>``
  (what the GenAuth Python SDK does). :class:`TokenCache` holds the token and says when to refresh it;
  the client fetches it (with its retry policy) and applies it with :class:`BearerAuth`.
* ``"signature"`` — every request signed on its own with HMAC-SHA1, exactly like authing-node-sdk
  (:class:`SignatureAuth`).

String-to-sign (docs/wire.md#string-to-sign)::

    METHOD "\\n"
    + for each header named ``date`` or ``x-authing-*`` (and ``x-genauth-*``), sorted by name:
        name ":" value (tabs/newlines as spaces, trimmed) "\\n"
    + path, or path "?" key=value&... over the sorted top-level keys of the GET query (``k[]`` values
      gathered into a compact JSON array of strings) or of the JSON body (strings raw, every other value
      as compact JSON: ``separators=(",", ":")``, ``ensure_ascii=False``)
    authorization = "authing " AK ":" Base64(HMAC-SHA1(SK, string-to-sign))

The resource is computed from what the request actually carries (its query string, its body bytes),
so what is signed is what is sent; the server rebuilds it the same way from what it receives.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import math
import secrets
import time
from collections.abc import Callable, Generator, Iterable
from email.utils import formatdate
from typing import Any
from urllib.parse import parse_qsl

import httpx

from twofold_client._version import __version__

SDK_VERSION = f"twofold-client:{__version__}"
DEFAULT_LANG = "en-US"
REFRESH_MARGIN_SECONDS = 60.0
_SIGNED_PREFIXES = ("x-authing-", "x-genauth-")
_WHITESPACE = str.maketrans({"\t": " ", "\n": " ", "\r": " ", "\f": " "})


def _new_nonce() -> str:
    return secrets.token_hex(16)


def _http_date() -> str:
    return formatdate(usegmt=True)


def _compact_json(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def canonical_headers(headers: Iterable[tuple[str, str]]) -> str:
    picked: dict[str, str] = {}
    for name, value in headers:
        lower = name.lower()
        if lower == "date" or lower.startswith(_SIGNED_PREFIXES):
            picked[lower] = value.translate(_WHITESPACE).strip()
    return "".join(f"{name}:{picked[name]}\n" for name in sorted(picked))


def canonical_resource(method: str, path: str, query: str, body: bytes) -> str:
    """``path`` or ``path?k=v&...``: GET signs its query, every other method its JSON body."""
    members: dict[str, str] = {}
    if method.upper() == "GET":
        arrays: dict[str, list[str]] = {}
        for key, value in parse_qsl(query, keep_blank_values=True):
            if key.endswith("[]"):
                arrays.setdefault(key[:-2], []).append(value)
            else:
                members[key] = value
        members.update({key: _compact_json(values) for key, values in arrays.items()})
    elif body.strip():
        parsed = json.loads(body)
        if not isinstance(parsed, dict):
            raise ValueError("a signed request body must be a JSON object")
        members = {k: v if isinstance(v, str) else _compact_json(v) for k, v in parsed.items()}
    if not members:
        return path
    return path + "?" + "&".join(f"{key}={members[key]}" for key in sorted(members))


def string_to_sign(request: httpx.Request, base_path: str = "") -> str:
    path = request.url.path
    if base_path and path.startswith(base_path + "/"):
        path = path[len(base_path) :]  # Node signs the API path, without the host's own path
    resource = canonical_resource(request.method, path, request.url.query.decode("ascii"), request.content)
    return f"{request.method.upper()}\n{canonical_headers(request.headers.items())}{resource}"


def sign(text: str, secret: str) -> str:
    digest = hmac.new(secret.encode(), text.encode(), hashlib.sha1).digest()
    return base64.b64encode(digest).decode()


class SignatureAuth(httpx.Auth):
    """authing-node-sdk's per-request HMAC-SHA1 signature (docs/wire.md#signatures) as an ``httpx`` auth flow.

    Usable on its own with any ``httpx`` client::

        httpx.get(f"{host}/api/v3/get-global-mfa-settings", auth=SignatureAuth(AK, SK))

    Each time the flow runs (so on every retry) the request gets a fresh random nonce and ``date``; the
    server refuses a replayed nonce and a ``date`` too far from its clock.
    """

    requires_request_body = True

    def __init__(
        self, access_key_id: str, access_key_secret: str, *, lang: str = DEFAULT_LANG, base_path: str = ""
    ) -> None:
        if not access_key_id or not access_key_secret:
            raise ValueError("access_key_id and access_key_secret are required")
        self._access_key_id = access_key_id
        self._access_key_secret = access_key_secret
        self._lang = lang
        self._base_path = base_path.rstrip("/")

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        request.headers["x-authing-signature-nonce"] = _new_nonce()
        request.headers["x-authing-signature-method"] = "HMAC-SHA1"
        request.headers["x-authing-signature-version"] = "1.0"
        request.headers["date"] = _http_date()
        request.headers.setdefault("x-authing-sdk-version", SDK_VERSION)
        request.headers.setdefault("x-authing-lang", self._lang)
        signature = sign(string_to_sign(request, self._base_path), self._access_key_secret)
        request.headers["authorization"] = f"authing {self._access_key_id}:{signature}"
        yield request

    def __repr__(self) -> str:
        return f"SignatureAuth(access_key_id={self._access_key_id!r})"


class BearerAuth(httpx.Auth):
    """``authorization: Bearer <management token>``."""

    def __init__(self, token: str) -> None:
        self._token = token

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        request.headers["authorization"] = f"Bearer {self._token}"
        yield request


class TokenCache:
    """The cached management token (no I/O): valid until ``margin`` seconds before it expires.

    The margin is 60 s, or half the token's life for tokens shorter than two minutes. The clients hold
    a lock around "check, fetch, store", so concurrent calls fetch one token, not one each.
    """

    def __init__(
        self, margin: float = REFRESH_MARGIN_SECONDS, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._margin = margin
        self._clock = clock
        self._token: str | None = None
        self._refresh_at = -math.inf

    def current(self) -> str | None:
        """The token to use now, or ``None`` when a (new) one must be fetched."""
        if self._token is not None and self._clock() < self._refresh_at:
            return self._token
        return None

    def store(self, data: Any) -> str:
        """Keep the ``data`` of a token response (``access_token``, ``expires_in`` seconds)."""
        if not isinstance(data, dict):
            raise ValueError("token response data is not an object")
        token, expires_in = data.get("access_token"), data.get("expires_in")
        if not isinstance(token, str) or not token:
            raise ValueError("token response without access_token")
        if (
            isinstance(expires_in, bool)
            or not isinstance(expires_in, int | float)
            or not 0 < expires_in < math.inf
        ):
            raise ValueError("token response without a positive expires_in")
        self._token = token
        self._refresh_at = self._clock() + expires_in - min(self._margin, expires_in / 2)
        return token

    def invalidate(self, token: str) -> None:
        """Forget ``token`` (the server refused it), unless another caller already replaced it."""
        if self._token == token:
            self._token = None
