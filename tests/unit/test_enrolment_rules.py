"""The pure rules of enrolment (services/enrolment_common.py, enrolment_codes.py): what an mfaToken's
sign-in may enrol, the factor ids, and the profile a code is sent to."""

from __future__ import annotations

import pytest

from twofold.domain.mfa import Challenge, Factor, Requirement
from twofold.domain.passcodes import Email, Phone
from twofold.errors import InvalidParameter
from twofold.services.enrolment_codes import decode_target, encode_target, profile_target
from twofold.services.enrolment_common import FactorIds, may_enrol_during_sign_in

OTP, SMS, EMAIL = Factor.OTP, Factor.SMS, Factor.EMAIL


def requirement(*challenges: tuple[Factor, bool]) -> Requirement:
    return Requirement([Challenge(f, needs) for f, needs in challenges])


@pytest.mark.parametrize(
    ("challenges", "factor", "allowed"),
    [
        (((OTP, True),), OTP, True),
        (((OTP, True), (SMS, True)), SMS, True),  # nothing bound yet: any challenged factor
        (((OTP, False),), OTP, False),  # bound: only the user's access token replaces it
        (((OTP, False), (SMS, True)), SMS, False),  # a password alone must not add a way past OTP
        (((OTP, True),), EMAIL, False),  # not challenged
        ((), OTP, False),
    ],
)
def test_what_an_mfa_token_may_enrol(
    challenges: tuple[tuple[Factor, bool], ...], factor: Factor, allowed: bool
) -> None:
    assert may_enrol_during_sign_in(requirement(*challenges), factor) is allowed


def test_factor_ids_are_keyed_per_user_factor_and_target() -> None:
    ids = FactorIds(b"k" * 32)
    one = ids.of("pool", "user-1", SMS, "+8613800138000")
    assert one == ids.of("pool", "user-1", SMS, "+8613800138000") and len(one) == 24
    others = {
        ids.of("pool", "user-2", SMS, "+8613800138000"),
        ids.of("pool", "user-1", SMS, "+8613800138001"),
        ids.of("pool", "user-1", EMAIL, "+8613800138000"),
        ids.of("other", "user-1", SMS, "+8613800138000"),
        FactorIds(b"x" * 32).of("pool", "user-1", SMS, "+8613800138000"),
    }
    assert one not in others and len(others) == 5


def test_profiles_give_the_target_and_round_trip() -> None:
    phone = profile_target(SMS, {"phoneNumber": "13800138000"})
    assert phone == Phone("13800138000", "+86")  # +86 by default, as GenAuth
    assert profile_target(SMS, {"phoneNumber": "+442079460958", "phoneCountryCode": "+86"}).country_code == "+44"
    email = profile_target(EMAIL, {"email": " Bob@Example.COM "})
    assert email == Email("bob@example.com")
    for target in (phone, email):
        assert decode_target(encode_target(target)) == target
    for factor, profile in ((SMS, {}), (SMS, {"phoneNumber": ""}), (SMS, {"phoneNumber": 13800138000}),
                            (EMAIL, {}), (EMAIL, {"email": "nobody"}), (EMAIL, {"phoneNumber": "13800138000"})):
        with pytest.raises(InvalidParameter):
            profile_target(factor, profile)
