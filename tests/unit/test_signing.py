"""The HMAC-SHA1 request signature, checked against the SDK-computed vectors in tests/vectors/hmac.json."""

from __future__ import annotations

import doctest
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from tests.vectors import hmac_http_cases, hmac_vectors
from twofold.auth import signing

VECTORS = hmac_vectors()
HTTP_CASES = hmac_http_cases()
WIRE_DOC = Path(__file__).resolve().parents[2] / "docs" / "wire.md"


@pytest.mark.parametrize("case", HTTP_CASES, ids=[c["name"] for c in HTTP_CASES])
def test_server_rebuilds_the_sdk_string_to_sign(case: dict) -> None:
    target = urlsplit(case["requestTarget"])
    body = (case["body"] or "").encode()
    candidates = signing.candidate_strings(
        case["method"], case["sentHeadersExceptUserAgent"], target.path, target.query, body
    )
    assert candidates[0] == case["stringToSign"]


@pytest.mark.parametrize("case", HTTP_CASES, ids=[c["name"] for c in HTTP_CASES])
def test_vector_signature_verifies(case: dict) -> None:
    parsed = signing.parse_authorization(case["authorization"])
    assert parsed is not None and parsed.access_key_id == VECTORS["accessKeyId"]
    assert signing.sign(case["stringToSign"], VECTORS["accessKeySecret"]) == parsed.signature


def test_wrong_secret_does_not_verify() -> None:
    case = HTTP_CASES[0]
    target = urlsplit(case["requestTarget"])
    candidates = signing.candidate_strings(
        case["method"],
        case["sentHeadersExceptUserAgent"],
        target.path,
        target.query,
        (case["body"] or "").encode(),
    )
    signature = signing.parse_authorization(case["authorization"]).signature
    assert not signing.is_signature_valid(candidates, VECTORS["accessKeySecret"] + "x", signature)


def test_tampered_body_does_not_verify() -> None:
    case = HTTP_CASES[0]
    target = urlsplit(case["requestTarget"])
    body = case["body"].replace("user_id", "email").encode()
    candidates = signing.candidate_strings(
        case["method"], case["sentHeadersExceptUserAgent"], target.path, target.query, body
    )
    signature = signing.parse_authorization(case["authorization"]).signature
    assert not signing.is_signature_valid(candidates, VECTORS["accessKeySecret"], signature)


def test_genauth_prefixed_headers_are_signed_too() -> None:
    text = signing.canonical_headers([("X-Genauth-Lang", " en-US\t"), ("date", "d"), ("accept", "x")])
    assert text == "date:d\nx-genauth-lang:en-US\n"


def test_empty_query_also_tries_trailing_question_mark() -> None:
    candidates = signing.candidate_strings("GET", {"date": "d"}, "/api/v3/x", "", b"")
    assert candidates == ["GET\ndate:d\n/api/v3/x", "GET\ndate:d\n/api/v3/x?"]


def test_form_encoded_query_is_decoded_before_signing() -> None:
    assert (
        signing.resource_from_query("/p", "userId=x+y%26z%3D1&a%5B%5D=1&a%5B%5D=2")
        == '/p?a=["1","2"]&userId=x y&z=1'
    )


def test_websocket_vector_is_the_signature_of_the_fixed_string() -> None:
    case = next(c for c in VECTORS["cases"] if c["name"] == "websocket")
    parsed = signing.parse_authorization(case["authorization"])
    assert parsed is not None
    assert signing.sign(case["stringToSign"], VECTORS["accessKeySecret"]) == parsed.signature


def test_the_worked_example_of_the_signing_module_runs() -> None:
    result = doctest.testmod(signing, optionflags=doctest.ELLIPSIS)
    assert result.attempted > 0 and result.failed == 0


def test_the_wire_reference_quotes_the_vectors_signatures() -> None:
    text = WIRE_DOC.read_text(encoding="utf-8")
    for case in HTTP_CASES:
        assert case["authorization"].split(":", 1)[1] in text, case["name"]
