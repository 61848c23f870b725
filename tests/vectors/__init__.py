"""Vectors from specifications and real SDKs, copied into the repository so that a fresh clone has them.

``hmac.json``: authing-node-sdk 4.0.1's own request signatures, computed with fixed ``date`` and nonce
(its ``source`` member says how); docs/wire.md#signature-vectors explains the cases.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent


@cache
def hmac_vectors() -> dict[str, Any]:
    """The whole document: ``accessKeyId``, ``accessKeySecret``, ``date``, ``nonce``, ``cases``..."""
    data: dict[str, Any] = json.loads((HERE / "hmac.json").read_text(encoding="utf-8"))
    return data


def hmac_http_cases() -> list[dict[str, Any]]:
    """The cases that are HTTP requests (every case but the websocket handshake)."""
    return [case for case in hmac_vectors()["cases"] if "requestTarget" in case]
