"""What the code calls of ``AuthenticationClient`` put on the wire and how they read the answers, with
``httpx.MockTransport`` standing in for the server (``test_authentication_codes.py`` runs the same
calls against the real one)."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from tests.sdk.test_authentication_wire import HOST, SIGNED_IN, TOKENS, UNAVAILABLE, Peer, client, json_body
from twofold_client import (
    ApiError,
    AsyncAuthenticationClient,
    AuthenticationClient,
    AuthenticationError,
    BadRequestError,
    Channel,
    Factor,
    MfaTokenIntrospection,
    PermissionDeniedError,
    TransportError,
    WrongCodeError,
)


def envelope(data: Any = None, status: int = 200, api_code: int | None = None, **extra: Any) -> httpx.Response:
    body = {"statusCode": status, "message": "m", "requestId": "q", "apiCode": api_code, "data": data, **extra}
    return httpx.Response(200, json=body)


def v2_signed_in() -> httpx.Response:
    return envelope(
        {
            "userId": "u1",
            "email": "a@example.com",
            "token": "a",
            "tokenExpiredAt": "2026-01-01T00:00:00.000Z",
            "user": {"userId": "u1", "email": "a@example.com", "token": "a", "tokenExpiredAt": "x"},
            "tokenSet": {**TOKENS, "expire_in": 60},
        },
        302,
        1600,
        code=200,
    )


def test_send_sms_and_send_email_bodies_and_tokens() -> None:
    peer = Peer(envelope(), envelope(), envelope())
    with client(peer) as auth:
        assert auth.send_sms("13800000000", Channel.CHANNEL_LOGIN) is None
        auth.send_sms("13800000000", "CHANNEL_VERIFY_MFA", phone_country_code="+86", token="mfa-1")
        auth.send_email("a@example.com", Channel.CHANNEL_VERIFY_MFA, token="access-1")
    login, verify, email = peer.requests
    assert (login.method, login.url.path) == ("POST", "/api/v3/send-sms")
    assert json_body(login) == {"channel": "CHANNEL_LOGIN", "phoneNumber": "13800000000"}  # no client secret
    assert login.headers["x-authing-app-id"] == "app-1" and "authorization" not in login.headers
    assert json_body(verify) == {"channel": "CHANNEL_VERIFY_MFA", "phoneNumber": "13800000000", "phoneCountryCode": "+86"}
    assert verify.headers["authorization"] == "Bearer mfa-1"
    assert (email.url.path, json_body(email)) == (
        "/api/v3/send-email", {"channel": "CHANNEL_VERIFY_MFA", "email": "a@example.com"},
    )  # fmt: skip
    assert email.headers["authorization"] == "Bearer access-1"


def test_a_send_is_not_retried_but_the_mfa_token_introspection_is() -> None:
    peer = Peer(UNAVAILABLE, UNAVAILABLE, httpx.Response(200, json={"active": False}))
    with client(peer) as auth:
        with pytest.raises(TransportError):
            auth.send_email("a@example.com", Channel.CHANNEL_LOGIN)  # a retry could send a second code
        assert auth.verify_mfa_token("t").active is False
    assert [r.url.path for r in peer.requests] == ["/api/v3/send-email", "/mfa/token/introspection", "/mfa/token/introspection"]


def test_the_send_refusals_are_mapped_by_api_code() -> None:
    peer = Peer(
        envelope(status=403, api_code=40310),
        envelope(status=400, api_code=40041),
        envelope(status=401, api_code=2021),
        envelope(status=422, api_code=42201),
    )
    with client(peer) as auth:
        with pytest.raises(PermissionDeniedError) as not_own:
            auth.send_sms("13900000000", Channel.CHANNEL_VERIFY_MFA, token="t")
        with pytest.raises(BadRequestError) as channel:
            auth.send_email("a@example.com", "CHANNEL_REGISTER")
        with pytest.raises(AuthenticationError):
            auth.send_email("a@example.com", Channel.CHANNEL_VERIFY_MFA)
        with pytest.raises(ApiError) as too_soon:
            auth.send_sms("13900000000", Channel.CHANNEL_LOGIN)
    assert (not_own.value.status_code, not_own.value.api_code) == (403, 40310)
    assert channel.value.api_code == 40041 and not isinstance(channel.value, WrongCodeError)
    assert type(too_soon.value) is ApiError and too_soon.value.status_code == 422  # no subclass for 422


def test_sign_in_by_passcode_uses_the_generic_sign_in() -> None:
    peer = Peer(SIGNED_IN, SIGNED_IN)
    with client(peer) as auth:
        assert auth.sign_in_by_passcode("123456", email="a@example.com").tokens is not None
        auth.sign_in_by_passcode("654321", phone="13800000000", phone_country_code="+86", scope="openid")
    by_email, by_phone = peer.requests
    assert by_email.url.path == "/api/v3/signin"
    assert json_body(by_email) == {
        "connection": "PASSCODE",
        "passCodePayload": {"passCode": "123456", "email": "a@example.com"},
        "client_id": "app-1",
        "client_secret": "s3cret/+",
    }
    assert json_body(by_phone)["passCodePayload"] == {
        "passCode": "654321", "phone": "13800000000", "phoneCountryCode": "+86",
    }  # fmt: skip
    assert json_body(by_phone)["options"] == {"scope": "openid"}


@pytest.mark.parametrize(
    "arguments",
    [{}, {"email": "a@example.com", "phone": "13800000000"}, {"email": "a@example.com", "phone_country_code": "+86"}],
)
def test_sign_in_by_passcode_needs_exactly_one_target(arguments: dict[str, Any]) -> None:
    peer = Peer()
    with client(peer) as auth, pytest.raises(ValueError):
        auth.sign_in_by_passcode("123456", **arguments)
    assert peer.requests == []


def test_the_sms_and_email_mfa_step_read_the_v2_answer() -> None:
    peer = Peer(v2_signed_in(), v2_signed_in(), envelope(status=400, api_code=2001, code=2001))
    with client(peer) as auth:
        by_sms = auth.verify_sms_code("mfa-1", "13800000000", "123456", "+86")
        by_email = auth.verify_email_code("mfa-1", "a@example.com", "123456")
        with pytest.raises(WrongCodeError) as wrong:
            auth.verify_email_code("mfa-1", "a@example.com", "000000")
    assert by_sms == by_email
    assert by_sms.tokens.access_token == "a" and by_sms.tokens.expires_in == 60
    assert (by_sms.user.user_id, by_sms.user.email) == ("u1", "a@example.com")
    assert "token" not in (by_sms.user.model_extra or {})  # the access token is in tokens only
    assert (wrong.value.status_code, wrong.value.api_code, wrong.value.request_id) == (400, 2001, "q")
    sms, email, _ = peer.requests
    assert (sms.url.path, json_body(sms)) == (
        "/api/v2/applications/mfa/sms/verify", {"phone": "13800000000", "code": "123456", "phoneCountryCode": "+86"},
    )  # fmt: skip
    assert (email.url.path, json_body(email)) == (
        "/api/v2/applications/mfa/email/verify", {"email": "a@example.com", "code": "123456"},
    )  # fmt: skip
    assert sms.headers["authorization"] == "Bearer mfa-1" and "client_secret" not in json_body(sms)


def test_verify_mfa_token_sends_the_token_in_the_body_and_reads_a_bare_object() -> None:
    answer = {"active": True, "userPoolId": "p1", "userId": "u1", "exp": 200, "iat": 100}
    peer = Peer(httpx.Response(200, json=answer))
    with client(peer) as auth:
        assert auth.verify_mfa_token("mfa-1") == MfaTokenIntrospection(
            active=True, user_pool_id="p1", user_id="u1", exp=200, iat=100
        )
    [request] = peer.requests
    assert (request.url.path, json_body(request)) == ("/mfa/token/introspection", {"token": "mfa-1"})
    assert "authorization" not in request.headers


def test_factor_calls_and_the_login_history_query() -> None:
    factor = {"factorId": "f1", "factorType": "SMS", "profile": {"phoneNumber": "138", "phoneCountryCode": "+86"}}
    page = {"totalCount": 1, "list": [{"userId": "u1", "outcome": "success", "success": True}]}
    peer = Peer(envelope(factor), envelope(None), envelope([{"factorType": "OTP"}, {"factorType": "EMAIL"}]),
                envelope(page), envelope(page))  # fmt: skip
    with client(peer) as auth:
        got = auth.get_factor("access-1", "f1")
        auth.reset_factor("access-1", "f1")
        assert auth.list_factors_to_enroll("access-1") == [Factor.OTP, Factor.EMAIL]
        history = auth.get_login_history("access-1", success=False, start=0, page=2, limit=5)
        assert auth.get_login_history("access-1").total_count == 1
    assert (got.factor_type, got.phone_number, got.phone_country_code) == (Factor.SMS, "138", "+86")
    assert history.list[0].outcome == "success"
    get, reset, to_enroll, filtered, plain = peer.requests
    assert (get.method, get.url.path, dict(get.url.params)) == ("GET", "/api/v3/get-factor", {"factorId": "f1"})
    assert (reset.method, reset.url.path, json_body(reset)) == ("POST", "/api/v3/reset-factor", {"factorId": "f1"})
    assert to_enroll.url.path == "/api/v3/list-factors-to-enroll"
    assert all(r.headers["authorization"] == "Bearer access-1" for r in peer.requests)
    assert filtered.url.path == "/api/v3/get-my-login-history"
    assert dict(filtered.url.params) == {"success": "false", "start": "0", "page": "2", "limit": "5"}
    assert plain.url.query == b""


def test_an_answer_of_the_wrong_shape_is_a_transport_error() -> None:
    peer = Peer(envelope({"verified": True}, 302, 1600, code=200), envelope([{"type": "OTP"}]),
                httpx.Response(200, json={"active": "maybe"}))  # fmt: skip
    with AuthenticationClient("app-1", "s", HOST, transport=httpx.MockTransport(peer), retries=0) as auth:
        with pytest.raises(TransportError, match="sms/verify"):
            auth.verify_sms_code("mfa-1", "13800000000", "123456")
        with pytest.raises(TransportError, match="list-factors-to-enroll"):
            auth.list_factors_to_enroll("access-1")
        with pytest.raises(TransportError, match="introspection"):
            auth.verify_mfa_token("t")


async def test_the_async_face_sends_the_same() -> None:
    sync_peer, async_peer = Peer(envelope(), v2_signed_in()), Peer(envelope(), v2_signed_in())
    with client(sync_peer) as auth:
        auth.send_email("a@example.com", Channel.CHANNEL_VERIFY_MFA, token="t")
        auth.verify_email_code("t", "a@example.com", "123456")
    async with AsyncAuthenticationClient(
        "app-1", "s3cret/+", HOST, transport=httpx.MockTransport(async_peer), backoff_factor=0
    ) as async_auth:
        await async_auth.send_email("a@example.com", Channel.CHANNEL_VERIFY_MFA, token="t")
        assert (await async_auth.verify_email_code("t", "a@example.com", "123456")).user.user_id == "u1"
    for ours, theirs in zip(sync_peer.requests, async_peer.requests, strict=True):
        assert (ours.url, ours.headers.get("authorization"), json.loads(ours.content)) == (
            theirs.url, theirs.headers.get("authorization"), json.loads(theirs.content),
        )  # fmt: skip


def test_arguments_are_checked_before_anything_is_sent() -> None:
    peer = Peer()
    with AuthenticationClient("app-1", "s", HOST, transport=httpx.MockTransport(peer)) as auth:
        for call in (
            lambda: auth.send_sms("", Channel.CHANNEL_LOGIN),
            lambda: auth.send_email("a@example.com", ""),
            lambda: auth.verify_sms_code("", "138", "1"),
            lambda: auth.verify_email_code("t", "a@example.com", ""),
            lambda: auth.get_factor("t", ""),
            lambda: auth.verify_mfa_token(""),
        ):
            with pytest.raises(ValueError):
                call()
    assert peer.requests == []
