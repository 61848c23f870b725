"""Per-request HMAC-SHA1 signatures of the authing-node-sdk ``ManagementClient`` (docs/wire.md#signatures).

    StringToSign  = METHOD "\\n" CanonicalizedHeaders CanonicalizedResource
    CanonicalizedHeaders = for each header named ``date`` or ``x-authing-*`` (also ``x-genauth-*``),
                           sorted: name ":" value-with-\\t\\n\\r\\f-as-space-and-trimmed "\\n"
    CanonicalizedResource = path, or path "?" k=v&... over the sorted top-level keys of the GET query
                           (form-decoded, ``k[]`` collected into a JSON array) or of the JSON body
                           (strings raw, everything else its compact JSON text)
    Authorization = "authing " AK ":" Base64(HMAC-SHA1(SK, StringToSign))

Worked example (``tests/vectors/hmac.json``, case ``getGlobalMfaSettings``; docs/wire.md#signature-vectors)::

    >>> s = build_string_to_sign("GET", {"date": "Tue, 01 Oct 2024 08:00:00 GMT",
    ...     "x-authing-lang": "zh-CN", "x-authing-sdk-version": "authing-node-sdk:4.0.1",
    ...     "x-authing-signature-method": "HMAC-SHA1",
    ...     "x-authing-signature-nonce": "0123456789abcdef0123456789abcdef",
    ...     "x-authing-signature-version": "1.0"}, "/api/v3/get-global-mfa-settings")
    >>> sign(s, "SK_EXAMPLE_5b9c2a0e1f3d4c6b8a7e9f0d")
    '5hSDY+4ghiu9wCFKYwNo/qofOSw='
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json  # stdlib, not orjson: see _compact
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from urllib.parse import parse_qsl

_AUTHORIZATION = re.compile(r"^(authing|genauth) ([^:\s]+):(\S+)$")
_WHITESPACE = str.maketrans({"\t": " ", "\n": " ", "\r": " ", "\f": " "})
SIGNED_PREFIXES = ("x-authing-", "x-genauth-")


@dataclass(frozen=True)
class SignedAuthorization:
    scheme: str
    access_key_id: str
    signature: str


def parse_authorization(value: str) -> SignedAuthorization | None:
    match = _AUTHORIZATION.match(value.strip())
    if match is None:
        return None
    return SignedAuthorization(match.group(1), match.group(2), match.group(3))


def canonical_headers(headers: Iterable[tuple[str, str]]) -> str:
    picked = {}
    for name, value in headers:
        lower = name.lower()
        if lower == "date" or lower.startswith(SIGNED_PREFIXES):
            picked[lower] = value.translate(_WHITESPACE).strip()
    return "".join(f"{name}:{picked[name]}\n" for name in sorted(picked))


def build_string_to_sign(method: str, headers: Mapping[str, str], resource: str) -> str:
    return f"{method.upper()}\n{canonical_headers(headers.items())}{resource}"


def _query_members(query_string: str) -> dict[str, str | list[str]]:
    collected: dict[str, str | list[str]] = {}
    for key, value in parse_qsl(query_string, keep_blank_values=True):
        if key.endswith("[]"):
            bucket = collected.setdefault(key[:-2], [])
            if isinstance(bucket, list):
                bucket.append(value)
        else:
            collected[key] = value
    return collected


def _resource(path: str, members: Mapping[str, str | list[str]]) -> str:
    parts = []
    for key in sorted(members):
        item = members[key]
        text = item if isinstance(item, str) else json.dumps(item, separators=(",", ":"), ensure_ascii=False)
        parts.append(f"{key}={text}")
    return f"{path}?{'&'.join(parts)}" if parts else path


def resource_from_query(path: str, query_string: str) -> str:
    """Rebuild the signed resource of a GET from the received (form-encoded) query string."""
    return _resource(path, _query_members(query_string))


# GET endpoints with array parameters.  The Node SDK signs an empty array as ``key=[]`` but axios
# sends nothing for it, so the server cannot see it (docs/wire.md#signatures).
ARRAY_QUERY_PARAMETERS: dict[str, tuple[str, ...]] = {"/api/v3/get-user-batch": ("userIds",)}


def _with_empty_arrays(path: str, query_string: str) -> list[str]:
    """The resources the Node SDK signed if the array parameters missing from the query were ``[]``."""
    members = _query_members(query_string)
    missing = [name for name in ARRAY_QUERY_PARAMETERS.get(path, ()) if name not in members]
    if not missing:
        return []
    return [_resource(path, {**members, **{name: [] for name in missing}})]


def resource_from_body(path: str, body: bytes) -> str:
    """Rebuild the signed resource of a POST/PUT/DELETE from the raw JSON body text."""
    if not body.strip():
        return path
    members = _top_level_members(body.decode("utf-8"))
    if members is None:
        return path
    parts = [f"{key}={members[key]}" for key in sorted(members)]
    return f"{path}?{'&'.join(parts)}" if parts else path


def _top_level_members(text: str) -> dict[str, str] | None:
    """Map each top-level key to its signed text: strings decoded, other values as raw JSON text."""
    decoder = json.JSONDecoder()
    try:
        parsed = json.loads(text)
    except ValueError:
        return None
    if not isinstance(parsed, dict):
        return None
    members: dict[str, str] = {}
    index = _skip(text, 0)
    if text[index] != "{":
        return None
    index = _skip(text, index + 1)
    while index < len(text) and text[index] != "}":
        key, index = decoder.raw_decode(text, index)
        index = _skip(text, index)
        index = _skip(text, index + 1)  # the colon
        value, end = decoder.raw_decode(text, index)
        members[key] = value if isinstance(value, str) else _compact(text[index:end], value)
        index = _skip(text, end)
        if index < len(text) and text[index] == ",":
            index = _skip(text, index + 1)
    return members


def _compact(raw: str, value: object) -> str:
    """Raw JSON text of a member, made compact when the sender used spaces (Python clients).

    This module keeps the stdlib ``json`` (orjson everywhere else): a Python client signed what its
    ``json`` module wrote, which orjson does not reproduce byte for byte (``1e-07`` is ``1e-7`` there,
    and integers beyond 64 bits become floats), and only ``raw_decode`` finds a member's raw text.
    """
    if "\n" not in raw and ", " not in raw and ": " not in raw:
        return raw
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def _skip(text: str, index: int) -> int:
    while index < len(text) and text[index] in " \t\r\n":
        index += 1
    return index


def sign(string_to_sign: str, secret: str) -> str:
    digest = hmac.new(secret.encode(), string_to_sign.encode(), hashlib.sha1).digest()
    return base64.b64encode(digest).decode()


def is_signature_valid(candidates: Iterable[str], secret: str, signature: str) -> bool:
    """Constant-time check of ``signature`` against each candidate string-to-sign."""
    ok = False
    for candidate in candidates:
        ok |= hmac.compare_digest(sign(candidate, secret), signature)
    return ok


def candidate_strings(
    method: str, headers: Mapping[str, str], path: str, query: str, body: bytes
) -> list[str]:
    """Every string-to-sign the request may have been signed with (docs/wire.md#rule-15)."""
    is_get = method.upper() == "GET"
    resource = resource_from_query(path, query) if is_get else resource_from_body(path, body)
    candidates = [build_string_to_sign(method, headers, resource)]
    if resource == path:
        candidates.append(build_string_to_sign(method, headers, path + "?"))
    if is_get:  # an empty array the SDK signed but never sent; the endpoint then refuses the request
        candidates.extend(build_string_to_sign(method, headers, r) for r in _with_empty_arrays(path, query))
    return candidates
