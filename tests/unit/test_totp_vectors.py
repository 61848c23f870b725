"""RFC 6238 Appendix B (SHA1) against pyotp with Twofold's step handling, and the lockout formula."""

from __future__ import annotations

import base64
import doctest
import json
import random
from pathlib import Path
from typing import Any

import pyotp
import pytest

import twofold.domain.lockout
from twofold.domain.lockout import LockoutPolicy
from twofold.services.totp_check import matching_steps, time_step

VECTORS: dict[str, Any] = json.loads((Path(__file__).parent.parent / "vectors" / "totp_rfc6238.json").read_text())
ROWS = VECTORS["vectors"]


def test_the_vector_seed_is_the_rfc_one() -> None:
    assert pyotp.TOTP(VECTORS["seed_base32"]).byte_secret() == VECTORS["seed_ascii"].encode()


@pytest.mark.parametrize("row", ROWS, ids=[str(r["unix_time"]) for r in ROWS])
def test_rfc6238_appendix_b_sha1(row: dict[str, Any]) -> None:
    at_ms = row["unix_time"] * 1000
    step = time_step(at_ms)
    assert step == int(row["t_hex"], 16)
    totp = pyotp.TOTP(VECTORS["seed_base32"], digits=8, interval=30)
    assert totp.generate_otp(step) == row["totp"]
    assert totp.verify(row["totp"], for_time=row["unix_time"])
    # 6 digits (what Twofold checks) are the low 6 of the same truncation: the last 6 of the 8
    six = row["totp"][-6:]
    assert pyotp.TOTP(VECTORS["seed_base32"]).generate_otp(step) == six
    assert step in matching_steps(VECTORS["seed_base32"], six, at_ms)


@pytest.mark.parametrize("row", ROWS[1:], ids=[str(r["unix_time"]) for r in ROWS[1:]])
def test_the_window_is_one_step_either_side(row: dict[str, Any]) -> None:
    six = row["totp"][-6:]
    step_start = row["unix_time"] // 30 * 30
    for seconds, accepted in ((-31, False), (-30, True), (0, True), (59, True), (60, False)):
        at = (step_start + seconds) * 1000
        # our window and pyotp's valid_window=1 agree
        pyotp_says = pyotp.TOTP(VECTORS["seed_base32"]).verify(six, for_time=step_start + seconds, valid_window=1)
        assert bool(matching_steps(VECTORS["seed_base32"], six, at)) is accepted is pyotp_says, seconds


def test_lockout_formula_doctest() -> None:
    result = doctest.testmod(twofold.domain.lockout)
    assert result.attempted > 0 and result.failed == 0


def test_lockout_formula() -> None:
    policy = LockoutPolicy(3, 1_000, 10_000)
    assert [policy.lock_ms(n) for n in range(1, 16)] == [
        None, None, 1_000, None, None, 2_000, None, None, 4_000, None, None, 8_000, None, None, 10_000,
    ]
    assert LockoutPolicy(1, 1, 2**32).lock_ms(10_000) == 2**32  # shifts that would overflow are capped
    assert LockoutPolicy(1, 1, 2**32).lock_ms(32) == 2**31
    for bad in ((0, 1, 1), (1, 0, 1), (1, 10, 5), (1, 1, 2**32 + 1)):
        with pytest.raises(ValueError, match="lockout"):
            LockoutPolicy(*bad)


class _AnyLengthTOTP(pyotp.TOTP):
    """pyotp's codes for the 80-bit secrets import accepts (pyotp itself wants 112 bits)."""

    min_secret_length_bits = 80


@pytest.mark.parametrize("key_bytes", [10, 16, 20, 32])
def test_matching_steps_agrees_with_pyotp_for_any_secret_and_time(key_bytes: int) -> None:
    rng = random.Random(key_bytes)  # a fixed seed: the same cases on every run
    for _ in range(60):
        secret = base64.b32encode(rng.randbytes(key_bytes)).decode().rstrip("=")  # unpadded, as apps show it
        secret = secret.lower() if rng.random() < 0.3 else secret  # as some imports write it
        at_ms = rng.randrange(0, 4_000_000_000_000)
        now = time_step(at_ms)
        totp = _AnyLengthTOTP(secret)
        for code in (totp.generate_otp(now + rng.choice((-2, -1, 0, 1, 2))), f"{rng.randrange(10**6):06d}"):
            expected = [s for s in range(now - 1, now + 2) if totp.generate_otp(s) == code]
            assert matching_steps(secret, code, at_ms) == expected, (secret, at_ms, code)
