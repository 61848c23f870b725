"""The fast path for plain email addresses never accepts what email-validator would refuse."""

from __future__ import annotations

import random
import string

import pytest
from email_validator import EmailNotValidError, validate_email

from twofold.domain.contacts import _is_plain_email, normalize_email
from twofold.errors import InvalidParameter

ALPHABET = string.ascii_lowercase + string.digits + ".-_+@!#$%&'*/=?^`{|}~\"() ,:;<>[]\\"


def library(address: str) -> str | None:
    try:
        return validate_email(address, check_deliverability=False).normalized.lower()
    except EmailNotValidError:
        return None


PLAIN = {"a@example.com", "first.last+tag@sub.example.co.uk", "x@123.com"}


@pytest.mark.parametrize("address", [
    "a@example.com", "first.last+tag@sub.example.co.uk", "x@123.com", "a..b@example.com", ".a@example.com",
    "a@-x.com", "a@x-.com", "a@ab--cd.com", "a@xn--bcher-kva.com", "a@example.test", "a@my.local",
    "a@localhost", "a@x.c", "a@x.123", "a" * 65 + "@example.com", "a@" + "b" * 64 + ".com", '"q"@x.com',
])
def test_fast_path_takes_only_plain_addresses_and_agrees_with_the_library(address: str) -> None:
    assert _is_plain_email(address) == (address in PLAIN)
    expected = library(address)
    if expected is None:
        with pytest.raises(InvalidParameter):
            normalize_email(address)
    else:
        assert normalize_email(address) == expected


def test_fast_path_agrees_on_random_addresses() -> None:
    rng = random.Random(7)
    accepted = 0
    for _ in range(20000):
        local = "".join(rng.choice(ALPHABET) for _ in range(rng.randint(1, 8)))
        domain = ".".join("".join(rng.choice(ALPHABET[:40]) for _ in range(rng.randint(1, 6)))
                          for _ in range(rng.randint(1, 3)))
        address = f"{local}@{domain}"
        if _is_plain_email(address):
            accepted += 1
            assert library(address) == address, address
    assert accepted > 300  # the check above ran on that many accepted addresses


def test_normalize_email() -> None:
    assert normalize_email(" Alice@Example.COM ") == "alice@example.com"
    assert normalize_email("josé@example.com") == "josé@example.com"
    with pytest.raises(InvalidParameter):
        normalize_email("a@example.test")
