"""The MFA status model (domain/mfa.py) for every combination of policy entry, enrolment flag and binding.

The rules (docs/mfa-status.md): the policy alone decides what is challenged; a challenged factor is
verified when it is enrolled, else enrolled first; OTP and FACE are enrolled when flagged *and* bound,
SMS and EMAIL when bound; a flag alone never makes a factor satisfiable.
"""

from __future__ import annotations

import pytest

from twofold.domain.mfa import (
    ALL_FACTORS,
    Bindings,
    Challenge,
    Factor,
    MfaStatus,
    PolicyEntry,
    bindings_for,
    default_flag,
    default_status,
    evaluate,
    factor_states,
    for_application,
    is_enrolled,
)

ON, OFF, ABSENT = "on", "off", "absent"

# entry, flag, bound -> challenged, needs enrolment (when challenged), enrolled (get-user-mfa-info)
FLAGGED_TABLE = [
    (ABSENT, False, False, False, None, False),
    (ABSENT, False, True, False, None, False),
    (ABSENT, True, False, False, None, False),  # a flag never adds a challenge...
    (ABSENT, True, True, False, None, True),  # ...but says the factor is enrolled
    (OFF, False, False, False, None, False),
    (OFF, False, True, False, None, False),
    (OFF, True, False, False, None, False),
    (OFF, True, True, False, None, True),
    (ON, False, False, True, True, False),  # "OTP required, not enrolled yet": enrol
    (ON, False, True, True, True, False),  # bound but not flagged: enrol anew
    (ON, True, False, True, True, False),  # flagged without a secret: never satisfiable, enrol
    (ON, True, True, True, False, True),  # flagged and bound: verify
]

# entry, bound -> challenged, needs enrolment, enrolled  (SMS and EMAIL have no flag)
UNFLAGGED_TABLE = [
    (ABSENT, False, False, None, False),
    (ABSENT, True, False, None, True),
    (OFF, False, False, None, False),
    (OFF, True, False, None, True),
    (ON, False, True, True, False),
    (ON, True, True, False, True),
]


def policy(factor: Factor, entry: str) -> tuple[PolicyEntry, ...]:
    return () if entry == ABSENT else (PolicyEntry(factor, entry == ON, 0),)


def bound_only(factor: Factor, bound: bool) -> Bindings:
    return Bindings(
        has_totp_secret=bound and factor is Factor.OTP,
        phone="+8613800138000" if bound and factor is Factor.SMS else None,
        email="a@example.com" if bound and factor is Factor.EMAIL else None,
        has_face=bound and factor is Factor.FACE,
    )


def challenges_of(status: MfaStatus, bindings: Bindings) -> list[Challenge]:
    return evaluate(status, list(ALL_FACTORS), bindings).challenges


@pytest.mark.parametrize("factor", [Factor.OTP, Factor.FACE])
@pytest.mark.parametrize("entry,flag,bound,challenged,needs_enrolment,enrolled", FLAGGED_TABLE)
def test_flagged_factor(
    factor: Factor,
    entry: str,
    flag: bool,
    bound: bool,
    challenged: bool,
    needs_enrolment: bool | None,
    enrolled: bool,
) -> None:
    status = MfaStatus(
        policies=policy(factor, entry),
        totp_enabled=flag and factor is Factor.OTP,
        face_enabled=flag and factor is Factor.FACE,
    )
    bindings = bound_only(factor, bound)
    expected = [Challenge(factor, bool(needs_enrolment))] if challenged else []
    assert challenges_of(status, bindings) == expected
    assert is_enrolled(status, bindings, factor) is enrolled
    assert factor_states(status, bindings) == {f: f is factor and enrolled for f in ALL_FACTORS}
    assert status.requires_mfa is challenged


@pytest.mark.parametrize("factor", [Factor.SMS, Factor.EMAIL])
@pytest.mark.parametrize("entry,bound,challenged,needs_enrolment,enrolled", UNFLAGGED_TABLE)
def test_unflagged_factor(
    factor: Factor, entry: str, bound: bool, challenged: bool, needs_enrolment: bool | None, enrolled: bool
) -> None:
    for totp_flag, face_flag in ((False, False), (True, True)):  # the other factors' flags change nothing
        status = MfaStatus(policies=policy(factor, entry), totp_enabled=totp_flag, face_enabled=face_flag)
        bindings = bound_only(factor, bound)
        expected = [Challenge(factor, bool(needs_enrolment))] if challenged else []
        assert challenges_of(status, bindings) == expected
        assert factor_states(status, bindings)[factor] is enrolled
        assert status.flag(factor) is None


def test_challenges_follow_sort_then_listed_order_and_only_offered_factors() -> None:
    status = MfaStatus(
        policies=(
            PolicyEntry(Factor.EMAIL, True, 2),
            PolicyEntry(Factor.SMS, True, 1),
            PolicyEntry(Factor.OTP, True, 1),
            PolicyEntry(Factor.FACE, False, 0),
        ),
        face_enabled=True,
    )
    nothing = Bindings(False, None, None)
    assert status.challenged_factors() == [Factor.SMS, Factor.OTP, Factor.EMAIL]
    offered = evaluate(status, [Factor.EMAIL, Factor.OTP, Factor.FACE], nothing)
    assert [c.factor for c in offered.challenges] == [Factor.OTP, Factor.EMAIL] and offered.required
    assert not evaluate(status, [Factor.FACE], nothing).required


def test_for_application_keeps_the_flags_as_set_and_orders_the_offered_entries() -> None:
    status = MfaStatus(
        policies=(
            PolicyEntry(Factor.SMS, True, 3),
            PolicyEntry(Factor.EMAIL, False, 1),
            PolicyEntry(Factor.OTP, True, 2),
        ),
        totp_enabled=False,
        face_enabled=True,
        mfa_email="m@example.com",
        version=4,
    )
    seen = for_application(status, [Factor.OTP, Factor.SMS])
    assert seen.policies == (PolicyEntry(Factor.OTP, True, 2), PolicyEntry(Factor.SMS, True, 3))
    assert (seen.totp_enabled, seen.face_enabled, seen.mfa_email, seen.version) == (
        False,
        True,
        "m@example.com",
        4,
    )
    assert for_application(status, []).policies == ()


@pytest.mark.parametrize("has_secret", [False, True])
def test_default_status_challenges_and_verifies_exactly_a_bound_authenticator(has_secret: bool) -> None:
    status = default_status([Factor.SMS, Factor.OTP], has_secret)
    assert status.policies == (PolicyEntry(Factor.SMS, False, 0), PolicyEntry(Factor.OTP, has_secret, 1))
    assert (status.totp_enabled, status.face_enabled, status.version) == (has_secret, False, 0)
    bindings = Bindings(has_secret, "+8613800138000", None)
    expected = [Challenge(Factor.OTP, False)] if has_secret else []
    assert evaluate(status, list(ALL_FACTORS), bindings).challenges == expected


@pytest.mark.parametrize("factor", ALL_FACTORS)
@pytest.mark.parametrize("bound", [False, True])
def test_a_flag_left_out_says_whether_the_factor_is_bound(factor: Factor, bound: bool) -> None:
    assert default_flag(factor, bound) is (bound and factor in (Factor.OTP, Factor.FACE))


def test_codes_go_to_the_mfa_targets_else_to_the_users_own() -> None:
    user = ("13800138000", "+86", "own@example.com")
    assert bindings_for(MfaStatus(), False, *user) == Bindings(False, "+8613800138000", "own@example.com")
    targets = MfaStatus(mfa_phone="7911123456", mfa_phone_country_code="+44", mfa_email="mfa@example.com")
    assert bindings_for(targets, True, *user) == Bindings(True, "+447911123456", "mfa@example.com")
    assert bindings_for(MfaStatus(), False, None, None, None) == Bindings(False, None, None)


def test_document_round_trip_keeps_every_field() -> None:
    status = MfaStatus(
        policies=(PolicyEntry(Factor.OTP, True, 0), PolicyEntry(Factor.FACE, False, 1)),
        totp_enabled=False,
        face_enabled=True,
        mfa_phone="13900139000",
        mfa_phone_country_code="+86",
        mfa_email="m@example.com",
    )
    assert MfaStatus.from_document(status.to_document(), 7) == status.with_version(7)
