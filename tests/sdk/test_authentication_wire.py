"""What ``AuthenticationClient`` puts on the wire for each client authentication method, and its retry
rule, with ``httpx.MockTransport`` standing in for the server (the live and in-process tests check the
same calls against the real one)."""

from __future__ import annotations

import base64
import json
from typing import Any
from urllib.parse import parse_qs

import httpx
import pytest

from twofold_client import (
    AsyncAuthenticationClient,
    AuthenticationClient,
    AuthenticationError,
    TokenSet,
    TransportError,
)

HOST = "http://twofold.test"
TOKENS = {
    "access_token": "a",
    "id_token": "i",
    "refresh_token": "r",
    "token_type": "Bearer",
    "scope": "openid",
}
SIGNED_IN = httpx.Response(
    200, json={"statusCode": 200, "message": "ok", "requestId": "q", "data": {**TOKENS, "expire_in": 60}}
)
REFRESHED = httpx.Response(200, json={**TOKENS, "expires_in": 60})
UNAVAILABLE = httpx.Response(503, text="<html>busy</html>", headers={"content-type": "text/html"})


class Peer:
    def __init__(self, *answers: httpx.Response) -> None:
        self.answers = list(answers)
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        return self.answers.pop(0)


def client(
    peer: Peer, method: Any = "client_secret_post", secret: str | None = "s3cret/+"
) -> AuthenticationClient:
    return AuthenticationClient(
        "app-1",
        secret,
        HOST,
        token_endpoint_auth_method=method,
        transport=httpx.MockTransport(peer),
        backoff_factor=0,
    )


def json_body(request: httpx.Request) -> dict[str, Any]:
    body: dict[str, Any] = json.loads(request.content)
    return body


def form(request: httpx.Request) -> dict[str, list[str]]:
    assert request.headers["content-type"] == "application/x-www-form-urlencoded"
    return parse_qs(request.content.decode())


def test_client_secret_post_sends_the_secret_in_the_body_and_the_form() -> None:
    peer = Peer(SIGNED_IN, REFRESHED)
    with client(peer) as auth:
        assert auth.sign_in_by_password("pw", email="a@example.com").tokens == TokenSet(
            **TOKENS, expires_in=60
        )
        assert auth.get_new_access_token_by_refresh_token("r").expires_in == 60
    signin, refresh = peer.requests
    assert signin.url.path == "/api/v3/signin" and "authorization" not in signin.headers
    assert signin.headers["x-authing-app-id"] == "app-1"
    assert json_body(signin) == {
        "connection": "PASSWORD",
        "passwordPayload": {"password": "pw", "email": "a@example.com"},
        "client_id": "app-1",
        "client_secret": "s3cret/+",
    }
    assert refresh.url.path == "/oidc/token" and "authorization" not in refresh.headers
    assert form(refresh) == {
        "grant_type": ["refresh_token"],
        "refresh_token": ["r"],
        "client_id": ["app-1"],
        "client_secret": ["s3cret/+"],
    }


def test_client_secret_basic_sends_a_basic_header_and_no_secret_in_the_body() -> None:
    peer = Peer(SIGNED_IN, httpx.Response(200, json={"active": False}))
    with client(peer, "client_secret_basic") as auth:
        auth.sign_in_by_password("pw", account="alice", scope="openid email")
        assert auth.introspect_token("t").active is False
    expected = "Basic " + base64.b64encode(b"app-1:s3cret%2F%2B").decode()  # RFC 6749 2.3.1: urlencoded
    for request in peer.requests:
        assert request.headers["authorization"] == expected
    assert json_body(peer.requests[0]) == {
        "connection": "PASSWORD",
        "passwordPayload": {"password": "pw", "account": "alice"},
        "client_id": "app-1",
        "options": {"scope": "openid email"},
    }
    assert form(peer.requests[1]) == {"token": ["t"], "client_id": ["app-1"]}


def test_none_sends_only_the_client_id() -> None:
    peer = Peer(httpx.Response(200, text=""))
    with client(peer, "none", None) as auth:
        assert auth.revoke_token("t") is None
    [revoke] = peer.requests
    assert "authorization" not in revoke.headers and form(revoke) == {"token": ["t"], "client_id": ["app-1"]}


def test_user_calls_carry_the_token_as_bearer() -> None:
    verified = {"verified": True, "tokenSet": {**TOKENS, "expire_in": 5}}
    peer = Peer(
        httpx.Response(200, json={"statusCode": 200, "message": "ok", "requestId": "q", "data": verified})
    )
    with client(peer) as auth:
        assert auth.verify_totp("mfa-tok", "123456").access_token == "a"
    [request] = peer.requests
    assert request.headers["authorization"] == "Bearer mfa-tok" and json_body(request) == {"totp": "123456"}


def test_a_v2_error_is_mapped_like_a_v3_one() -> None:
    body = {
        "code": 2021,
        "statusCode": 401,
        "apiCode": 2021,
        "message": "expired",
        "requestId": "q",
        "data": None,
    }
    with client(Peer(httpx.Response(200, json=body))) as auth:
        with pytest.raises(AuthenticationError) as caught:
            auth.verify_recovery_code("mfa-tok", "abcd")
    assert (caught.value.api_code, caught.value.request_id) == (2021, "q")


def test_a_sign_in_is_not_repeated_after_a_5xx() -> None:
    peer = Peer(UNAVAILABLE, SIGNED_IN)
    with client(peer) as auth:
        with pytest.raises(TransportError) as caught:
            auth.sign_in_by_password("pw", email="a@example.com")
    assert caught.value.http_status == 503 and len(peer.requests) == 1


async def test_reads_are_retried_after_a_5xx() -> None:
    busy = httpx.Response(503, text="<html>busy</html>", headers={"content-type": "text/html"})
    peer = Peer(
        busy, httpx.Response(200, json={"keys": [{"kty": "RSA", "kid": "k1", "n": "AQAB", "e": "AQAB"}]})
    )
    async with AsyncAuthenticationClient("app-1", None, HOST, token_endpoint_auth_method="none",
                                         transport=httpx.MockTransport(peer), backoff_factor=0) as auth:  # fmt: skip
        assert [k["kid"] for k in (await auth.get_jwks()).keys] == ["k1"]
    assert len(peer.requests) == 2


def test_an_unexpected_answer_is_a_transport_error() -> None:
    answer = httpx.Response(
        200, json={"statusCode": 200, "message": "ok", "requestId": "q", "data": {"nope": 1}}
    )
    with client(Peer(answer)) as auth:
        with pytest.raises(TransportError, match="signin"):
            auth.sign_in_by_password("pw", email="a@example.com")


def test_no_secret_password_or_code_in_a_repr() -> None:
    from twofold_client import _authentication_operations as ops

    with client(Peer()) as auth:
        shown = repr(auth)
    credentials = ops.ClientAuth("app-1", "s3cret/+", "client_secret_post")
    operation = ops.sign_in_by_password(
        credentials, "pw-hunter2", "a@example.com", None, None, None, None, None
    )
    step = ops.verify_totp("mfa-token-value", "123456")
    shown += repr(credentials) + repr(operation) + repr(step)
    for secret in ("s3cret", "pw-hunter2", "mfa-token-value", "123456"):
        assert secret not in shown
    assert "app-1" in shown and "/api/v3/signin" in shown
