"""``SignatureAuth`` reproduces authing-node-sdk's signatures and the server accepts what it signs."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.vectors import hmac_http_cases, hmac_vectors
from twofold.auth.signing import candidate_strings, sign
from twofold_client import SignatureAuth, _auth
from twofold_client import _operations as ops

VECTORS = hmac_vectors()
HTTP_CASES = hmac_http_cases()
AK, SK = VECTORS["accessKeyId"], VECTORS["accessKeySecret"]


@pytest.fixture
def fixed_nonce_and_date(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_auth, "_new_nonce", lambda: VECTORS["nonce"])
    monkeypatch.setattr(_auth, "_http_date", lambda: VECTORS["date"])


def signed(request: httpx.Request, auth: httpx.Auth) -> httpx.Request:
    flow = auth.sync_auth_flow(request)
    out = next(flow)
    flow.close()
    return out


@pytest.mark.usefixtures("fixed_nonce_and_date")
@pytest.mark.parametrize("case", HTTP_CASES, ids=[c["name"] for c in HTTP_CASES])
def test_node_sdk_vectors_are_reproduced(case: dict[str, Any]) -> None:
    sent = case["sentHeadersExceptUserAgent"]
    headers = {"x-authing-sdk-version": VECTORS["sdkVersion"], "x-authing-lang": VECTORS["lang"]}
    if "x-authing-app-id" in sent:
        headers["x-authing-app-id"] = sent["x-authing-app-id"]
    body = case["body"].encode() if case["body"] else None
    request = httpx.Request(
        case["method"], f"http://twofold.test{case['requestTarget']}", headers=headers, content=body
    )
    out = signed(request, SignatureAuth(AK, SK, lang="zh-CN"))
    assert _auth.string_to_sign(out) == case["stringToSign"]
    assert out.headers["authorization"] == case["authorization"]
    for name in (
        "date",
        "x-authing-signature-nonce",
        "x-authing-signature-method",
        "x-authing-signature-version",
    ):
        assert out.headers[name] == sent[name]


def test_sdk_version_and_lang_default_to_the_sdk_s_own() -> None:
    out = signed(
        httpx.Request("GET", "http://twofold.test/api/v3/get-global-mfa-settings"), SignatureAuth(AK, SK)
    )
    assert out.headers["x-authing-sdk-version"] == "twofold-client:0.1.0"
    assert out.headers["x-authing-lang"] == "en-US"
    assert len(out.headers["x-authing-signature-nonce"]) == 32
    assert out.headers["date"].endswith(" GMT")
    assert out.headers["authorization"].startswith(f"authing {AK}:")


def test_every_flow_run_gets_a_fresh_nonce() -> None:
    auth = SignatureAuth(AK, SK)
    first = signed(httpx.Request("GET", "http://twofold.test/x"), auth)
    second = signed(httpx.Request("GET", "http://twofold.test/x"), auth)
    assert first.headers["x-authing-signature-nonce"] != second.headers["x-authing-signature-nonce"]


def test_a_host_path_prefix_is_not_signed(fixed_nonce_and_date: None) -> None:
    case = next(c for c in HTTP_CASES if c["name"] == "getGlobalMfaSettings")
    headers = {"x-authing-sdk-version": VECTORS["sdkVersion"]}
    request = httpx.Request(
        "GET", "https://proxy.test/twofold/api/v3/get-global-mfa-settings", headers=headers
    )
    out = signed(request, SignatureAuth(AK, SK, lang="zh-CN", base_path="/twofold/"))
    assert out.headers["authorization"] == case["authorization"]


TRICKY_OPERATIONS = [
    ops.get_user_batch(["a b", "x&y=1", "ü,+"], "username", with_custom_data=True, flat_custom_data=False),
    ops.get_user("名字 with spaces+plus", "username"),
    ops.list_users_legacy(page=2, limit=5, updated_at_start=0),
    ops.get_global_mfa_settings(),
    ops.set_users_mfa_status(
        {
            "mfaToken": "t, with: separators",
            "applicationMfa": [{"mfaPolicy": "OTP", "status": 1, "sort": 0}],
            "mfaEmail": "ü@example.com",
            "totpMfaEnabled": True,
        },
        "u1",
        "user_id",
        version=0,
    ),
    ops.create_user(
        {
            "username": "x",
            "custom_data": {"k": [1, 2.5, None, "ä"]},
            "email_verified": False,
            "identities": [{"a": {"b": "c, d"}}],
        }
    ),
    ops.list_users(),
    ops.delete_users_batch(["u1"], {"userIdType": "email"}),
]


@pytest.mark.parametrize("op", TRICKY_OPERATIONS, ids=lambda op: op.path)
def test_server_verifier_accepts_what_the_client_signs(op: ops.Operation[Any]) -> None:
    with httpx.Client(base_url="http://twofold.test") as http:
        out = signed(op.build_request(http), SignatureAuth(AK, SK))
    signature = out.headers["authorization"].split(":", 1)[1]
    candidates = candidate_strings(
        out.method, dict(out.headers), out.url.path, out.url.query.decode("ascii"), out.content
    )
    assert candidates[0] == _auth.string_to_sign(out)
    assert sign(candidates[0], SK) == signature


def test_post_body_is_compact_unescaped_json_of_the_top_level_non_none_members() -> None:
    op = ops.is_user_exists(username="ü", email=None)
    with httpx.Client(base_url="http://twofold.test") as http:
        request = op.build_request(http)
    assert request.content == '{"username":"ü"}'.encode()
    assert request.headers["content-type"] == "application/json"
