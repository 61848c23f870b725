"""Parsing and normalising the userIdType forms of docs/wire.md#user-id-types."""

from __future__ import annotations

import pytest

from twofold.domain.contacts import normalize_phone
from twofold.domain.identifiers import UserIdType, parse_user_id_type, parse_user_ref
from twofold.domain.otp import normalize_totp_secret
from twofold.errors import InvalidOtpSecret, InvalidParameter


def test_default_id_type_is_user_id() -> None:
    assert parse_user_id_type(None) is UserIdType.USER_ID
    assert parse_user_id_type("") is UserIdType.USER_ID


def test_unknown_id_type_is_refused() -> None:
    with pytest.raises(InvalidParameter) as info:
        parse_user_id_type("custom_field")
    assert info.value.field == "userIdType"


def test_email_is_lower_cased() -> None:
    assert parse_user_ref("Alice@Example.COM", UserIdType.EMAIL).key == "alice@example.com"


@pytest.mark.parametrize("bad", ["test#x.com", "no-at-sign", "a@", ""])
def test_malformed_email_is_invalid(bad: str) -> None:
    with pytest.raises(InvalidParameter):
        parse_user_ref(bad, UserIdType.EMAIL)


def test_lookup_phone_is_lenient_but_syntax_checked() -> None:
    assert parse_user_ref("212-456-1111", UserIdType.PHONE).key == "2124561111"
    assert parse_user_ref("+1 201 555 0123", UserIdType.PHONE).sub_key == "+1"
    with pytest.raises(InvalidParameter):
        parse_user_ref("1234567890#", UserIdType.PHONE)


def test_identity_splits_on_first_colon() -> None:
    ref = parse_user_ref("idp1:ou_x:y", UserIdType.IDENTITY)
    assert (ref.key, ref.sub_key) == ("idp1", "ou_x:y")
    with pytest.raises(InvalidParameter):
        parse_user_ref("no-colon", UserIdType.SYNC_RELATION)


def test_phone_numbers_are_validated_and_normalised() -> None:
    assert normalize_phone("138 0013 8000", None) == ("13800138000", "+86")
    assert normalize_phone("(201) 555-0123", "+1") == ("2015550123", "+1")
    assert normalize_phone("+12015550123", "+86") == ("2015550123", "+1")
    with pytest.raises(InvalidParameter):
        normalize_phone("12345", "+1")
    with pytest.raises(InvalidParameter):
        normalize_phone("2015550123", "+999")


def test_totp_secret_validation() -> None:
    assert normalize_totp_secret("jbsw y3dp ehpk 3pxp") == "JBSWY3DPEHPK3PXP"
    with pytest.raises(InvalidOtpSecret):
        normalize_totp_secret("JBSWY3DP")  # 40 bits
    with pytest.raises(InvalidOtpSecret):
        normalize_totp_secret("not base32 !!!!!!!!")
