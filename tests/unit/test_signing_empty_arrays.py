"""The Node SDK signs an empty array parameter (``userIds=[]``) that axios never sends."""

from __future__ import annotations

from twofold.auth import signing

HEADERS = {"date": "Tue, 01 Oct 2024 08:00:00 GMT", "x-authing-lang": "zh-CN"}
SECRET = "SK_EXAMPLE_5b9c2a0e1f3d4c6b8a7e9f0d"


def test_an_absent_array_parameter_is_also_tried_as_the_empty_array_the_sdk_signed() -> None:
    query = "userIdType=user_id&withCustomData=false"
    signed = signing.build_string_to_sign(
        "GET", HEADERS, "/api/v3/get-user-batch?userIdType=user_id&userIds=[]&withCustomData=false"
    )
    candidates = signing.candidate_strings("GET", HEADERS, "/api/v3/get-user-batch", query, b"")
    assert signed in candidates
    assert signing.is_signature_valid(candidates, SECRET, signing.sign(signed, SECRET))


def test_the_leniency_is_only_for_the_known_array_parameters_and_never_for_other_changes() -> None:
    sent = "userIdType=user_id&userIds%5B%5D=a"
    candidates = signing.candidate_strings("GET", HEADERS, "/api/v3/get-user-batch", sent, b"")
    assert not any("userIds=[]" in c for c in candidates)  # the array was sent: nothing to add
    elsewhere = signing.candidate_strings("GET", HEADERS, "/api/v3/get-user", "userId=a", b"")
    assert not any("[]" in c for c in elsewhere)
    other = signing.build_string_to_sign("GET", HEADERS, "/api/v3/get-user-batch?userIdType=email&userIds=[]")
    candidates = signing.candidate_strings("GET", HEADERS, "/api/v3/get-user-batch", "userIdType=user_id", b"")
    assert not signing.is_signature_valid(candidates, SECRET, signing.sign(other, SECRET))
    posted = signing.candidate_strings("POST", HEADERS, "/api/v3/get-user-batch", "", b"{}")
    assert not any("[]" in c for c in posted)
