"""The pure rules of one-time codes: their shape, the channels' wire names, the targets' keys."""

from __future__ import annotations

import pytest

from twofold.domain.passcodes import Channel, Email, Phone, is_well_formed, message_text, new_code
from twofold.errors import InvalidParameter


def test_codes_are_six_ascii_digits_with_leading_zeros_kept() -> None:
    codes = {new_code() for _ in range(2000)}
    assert all(len(c) == 6 and c.isascii() and c.isdigit() for c in codes)
    assert len(codes) > 1900  # drawn, not repeated
    assert any(c.startswith("0") for c in codes)  # 1 - 0.9**2000: a leading zero is not dropped


def test_only_six_ascii_digits_are_well_formed() -> None:
    assert is_well_formed("004217")
    for bad in ("", "12345", "1234567", " 12345", "12345a", "１２３４５６", "+12345", "-12345"):
        assert not is_well_formed(bad), bad


def test_channels_carry_genauth_names() -> None:
    assert [c.value for c in Channel] == [
        "CHANNEL_LOGIN", "CHANNEL_VERIFY_MFA", "CHANNEL_BIND_MFA", "CHANNEL_UNBIND_MFA"]


def test_targets_are_normalised() -> None:
    assert Email.parse(" Alice@Example.COM ").key == "email:alice@example.com"
    assert Phone.parse("138 0013 8000").e164 == "+8613800138000"
    assert Phone.parse("+1 650-253-0000", "+86").key == "phone:+16502530000"  # its own +CC wins
    with pytest.raises(InvalidParameter):
        Phone.parse("12", "+86")
    with pytest.raises(InvalidParameter):
        Email.parse("not-an-address")


def test_the_text_names_the_lifetime() -> None:
    assert "123456" in message_text("123456", 300) and "5 minutes" in message_text("123456", 300)
    assert "5 分钟" in message_text("123456", 300, "zh-CN")
