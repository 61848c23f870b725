"""docs/delivery.md's webhook examples are what the code does: the signature header shown is the one
``signature_header`` makes, and the receiver snippet accepts a genuine request and refuses others."""

from __future__ import annotations

import doctest
import re
import time
from pathlib import Path
from typing import Any

import twofold.transports.sms_webhook
from twofold.transports.sms_webhook import signature_header


def doc(repo_root: Path) -> str:
    return (repo_root / "docs/delivery.md").read_text()


def test_the_documented_signature_is_the_real_one(repo_root: Path) -> None:
    shown = re.search(r"^X-Twofold-Signature: (t=\S+)$", doc(repo_root), re.MULTILINE)
    assert shown is not None
    assert shown.group(1) == signature_header(b"whsec-0123456789abcdef", 1700000000, b'{"to":"+8613800138000"}')
    result = doctest.testmod(twofold.transports.sms_webhook)
    assert result.attempted > 0 and result.failed == 0


def test_the_documented_receiver_checks_the_signature(repo_root: Path) -> None:
    snippet = re.search(r"A receiver in Python:\n\n```python\n(.*?)```", doc(repo_root), re.DOTALL)
    assert snippet is not None
    namespace: dict[str, Any] = {}
    exec(compile(snippet.group(1), "docs/delivery.md", "exec"), namespace)
    is_genuine = namespace["is_genuine"]
    body, secret, now = b'{"to":"+8613800138000","text":"x","purpose":"CHANNEL_LOGIN"}', b"whsec-0123456789abcdef", int(time.time())
    assert is_genuine(secret, signature_header(secret, now, body), body) is True
    assert is_genuine(secret, signature_header(secret, now, body), body + b" ") is False
    assert is_genuine(b"another-secret-0123", signature_header(secret, now, body), body) is False
    assert is_genuine(secret, signature_header(secret, now - 3600, body), body) is False  # a replay
