"""Retries, timeouts, token caching and response decoding, with ``httpx.MockTransport`` (no server).

Every behaviour is checked on both clients: they share the rules, only the waiting differs.
"""

from __future__ import annotations

import asyncio
import json
import math
import threading
import time
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from twofold_client import (
    AsyncManagementClient,
    AuthenticationError,
    ManagementClient,
    NotFoundError,
    ServerError,
    TransportError,
    User,
)
from twofold_client._auth import TokenCache
from twofold_client._transport import RetryPolicy

AK, SK, HOST = "test-key", "test-secret-0123456789", "http://twofold.test"
TOKEN_PATH = "/api/v3/get-management-token"
Step = httpx.Response | Exception
MODES = ["sync", "async"]


def envelope(data: Any = None, status: int = 200, api_code: int | None = None) -> httpx.Response:
    body: dict[str, Any] = {"statusCode": status, "message": "m", "requestId": "req-1", "data": data}
    if api_code is not None:
        body["apiCode"] = api_code
    return httpx.Response(200, json=body)


USER = {"userId": "u1", "status": "Activated"}
OK_USER = envelope(USER)
UNAVAILABLE = httpx.Response(
    503, text="<html>503 Service Unavailable</html>", headers={"content-type": "text/html"}
)


def token(value: str = "tok-1", expires_in: float = 7200) -> httpx.Response:
    return envelope({"access_token": value, "expires_in": expires_in, "token_type": "Bearer"})


class Script:
    """A MockTransport handler: answers token requests from ``tokens``, the rest from ``steps``."""

    def __init__(self, *steps: Step, tokens: tuple[Step, ...] = (token(),)) -> None:
        self.steps, self.tokens = list(steps), list(tokens)
        self.requests: list[httpx.Request] = []

    @property
    def api_requests(self) -> list[httpx.Request]:
        return [r for r in self.requests if r.url.path != TOKEN_PATH]

    @property
    def token_requests(self) -> list[httpx.Request]:
        return [r for r in self.requests if r.url.path == TOKEN_PATH]

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        queue = self.tokens if request.url.path == TOKEN_PATH else self.steps
        step = queue.pop(0) if len(queue) > 1 else queue[0]
        if isinstance(step, Exception):
            raise step
        return httpx.Response(step.status_code, headers=step.headers, content=step.content)  # a fresh copy


async def call(mode: str, script: Script, name: str, *args: Any, **options: Any) -> Any:
    """Run one client method with the sync or the async client over ``script``."""
    options.setdefault("backoff_factor", 0)
    options.setdefault("auth", "signature")
    kwargs = options.pop("kwargs", {})
    transport = httpx.MockTransport(script)
    if mode == "sync":
        with ManagementClient(AK, SK, HOST, transport=transport, **options) as client:
            return getattr(client, name)(*args, **kwargs)
    async with AsyncManagementClient(AK, SK, HOST, transport=transport, **options) as client:
        return await getattr(client, name)(*args, **kwargs)


def connect_error() -> httpx.ConnectError:
    return httpx.ConnectError("connection refused")


def read_timeout() -> httpx.ReadTimeout:
    return httpx.ReadTimeout("timed out")


# ------------------------------------------------------------------------------------- retries
@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize(
    "failure",
    [UNAVAILABLE, envelope(status=500, api_code=50000), httpx.Response(502, json={"error": "bad gateway"})],
    ids=["http-503", "status-code-500", "http-502-json"],
)
async def test_get_is_retried_after_server_errors(mode: str, failure: httpx.Response) -> None:
    script = Script(failure, failure, OK_USER)
    user = await call(mode, script, "get_user", "u1", retries=2)
    assert user == User(user_id="u1", status="Activated")
    assert len(script.requests) == 3
    nonces = {r.headers["x-authing-signature-nonce"] for r in script.requests}
    assert len(nonces) == 3  # each attempt is signed afresh


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("error", [connect_error, read_timeout, lambda: httpx.RemoteProtocolError("reset")])
async def test_get_is_retried_after_transport_errors(mode: str, error: Callable[[], Exception]) -> None:
    script = Script(error(), error(), OK_USER)
    assert (await call(mode, script, "get_user", "u1")).user_id == "u1"
    assert len(script.requests) == 3


@pytest.mark.parametrize("mode", MODES)
async def test_retries_are_bounded_then_the_error_is_raised(mode: str) -> None:
    script = Script(UNAVAILABLE)
    with pytest.raises(TransportError) as caught:
        await call(mode, script, "get_user", "u1", retries=3)
    assert caught.value.http_status == 503 and "not JSON" in str(caught.value)
    assert len(script.requests) == 4

    script = Script(read_timeout())
    with pytest.raises(TransportError) as caught:
        await call(mode, script, "get_user", "u1", retries=0)
    assert isinstance(caught.value.__cause__, httpx.ReadTimeout) and "timed out" in str(caught.value)
    assert len(script.requests) == 1


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize(
    "failure,raised",
    [
        (UNAVAILABLE, TransportError),
        (envelope(status=500, api_code=50000), ServerError),
        (read_timeout(), TransportError),
        (httpx.WriteError("broken pipe"), TransportError),
        (httpx.RemoteProtocolError("server disconnected"), TransportError),
    ],
    ids=["http-503", "status-code-500", "read-timeout", "write-error", "disconnected"],
)
async def test_post_is_not_retried_once_it_may_have_been_sent(
    mode: str, failure: Step, raised: type[Exception]
) -> None:
    script = Script(failure, OK_USER)
    with pytest.raises(raised):
        await call(mode, script, "create_user", kwargs={"username": "alice"})
    assert len(script.requests) == 1


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize(
    "error",
    [connect_error, lambda: httpx.ConnectTimeout("no SYN-ACK"), lambda: httpx.PoolTimeout("pool full")],
)
async def test_post_is_retried_when_nothing_was_sent(mode: str, error: Callable[[], Exception]) -> None:
    script = Script(error(), OK_USER)
    user = await call(mode, script, "create_user", kwargs={"username": "alice"})
    assert user.user_id == "u1" and len(script.requests) == 2
    assert [json.loads(r.content) for r in script.requests] == [{"username": "alice"}] * 2


@pytest.mark.parametrize("mode", MODES)
async def test_business_errors_are_never_retried(mode: str) -> None:
    script = Script(envelope(status=404, api_code=40401), OK_USER)
    with pytest.raises(NotFoundError) as caught:
        await call(mode, script, "get_user", "u1")
    assert (caught.value.api_code, caught.value.request_id) == (40401, "req-1")
    assert len(script.requests) == 1


def test_backoff_is_exponential_jittered_and_capped(monkeypatch: pytest.MonkeyPatch) -> None:
    policy = RetryPolicy(retries=5, backoff_factor=0.5, max_backoff=8.0)
    for attempt, base in enumerate([0.5, 1.0, 2.0, 4.0]):
        assert base <= policy.delay(attempt) <= base * 1.1
    assert policy.delay(10) == 8.0
    slept: list[float] = []
    monkeypatch.setattr(time, "sleep", slept.append)
    script = Script(UNAVAILABLE, UNAVAILABLE, OK_USER)
    with ManagementClient(AK, SK, HOST, auth="signature", transport=httpx.MockTransport(script)) as client:
        client.get_user("u1")
    assert len(slept) == 2 and 0.5 <= slept[0] <= 0.55 and 1.0 <= slept[1] <= 1.1


# ------------------------------------------------------------------------------------ timeouts
@pytest.mark.parametrize("mode", MODES)
async def test_timeout_is_passed_to_httpx(mode: str) -> None:
    script = Script(OK_USER)
    await call(mode, script, "get_user", "u1", timeout=2.5)
    assert script.requests[0].extensions["timeout"] == {
        "connect": 2.5,
        "read": 2.5,
        "write": 2.5,
        "pool": 2.5,
    }
    script = Script(OK_USER)
    await call(mode, script, "get_user", "u1")
    assert script.requests[0].extensions["timeout"]["read"] == 10.0  # the GenAuth SDK's default


@pytest.mark.parametrize("mode", MODES)
async def test_a_timeout_becomes_a_transport_error(mode: str) -> None:
    script = Script(read_timeout())
    with pytest.raises(TransportError) as caught:
        await call(mode, script, "get_global_mfa_settings", timeout=0.5, retries=1)
    assert caught.value.http_status is None and len(script.requests) == 2


# ---------------------------------------------------------------------------------- token auth
@pytest.mark.parametrize("mode", MODES)
async def test_token_is_fetched_once_and_sent_as_bearer(mode: str) -> None:
    script = Script(OK_USER)
    transport = httpx.MockTransport(script)
    if mode == "sync":
        with ManagementClient(AK, SK, HOST, transport=transport) as client:
            client.get_user("u1")
            client.get_user("u1")
    else:
        async with AsyncManagementClient(AK, SK, HOST, transport=transport) as client:
            await client.get_user("u1")
            await client.get_user("u1")
    [token_request] = script.token_requests
    assert json.loads(token_request.content) == {"accessKeyId": AK, "accessKeySecret": SK}
    assert "authorization" not in token_request.headers
    assert [r.headers["authorization"] for r in script.api_requests] == ["Bearer tok-1"] * 2
    assert script.api_requests[0].headers["x-authing-sdk-version"] == "twofold-client:0.1.0"


@pytest.mark.parametrize("mode", MODES)
async def test_a_refused_token_is_refetched_once(mode: str) -> None:
    refused = envelope(status=401, api_code=40100)
    script = Script(refused, OK_USER, tokens=(token("old"), token("new")))
    assert (await call(mode, script, "create_user", auth="token", kwargs={"username": "a"})).user_id == "u1"
    assert [r.headers["authorization"] for r in script.api_requests] == ["Bearer old", "Bearer new"]

    script = Script(refused, tokens=(token("old"), token("new")))
    with pytest.raises(AuthenticationError):
        await call(mode, script, "get_user", "u1", auth="token")
    assert (len(script.token_requests), len(script.api_requests)) == (2, 2)


@pytest.mark.parametrize("mode", MODES)
async def test_token_request_is_retried_even_before_a_post(mode: str) -> None:
    script = Script(OK_USER, tokens=(UNAVAILABLE, read_timeout(), token()))
    assert (await call(mode, script, "create_user", auth="token", kwargs={"username": "a"})).user_id == "u1"
    assert (len(script.token_requests), len(script.api_requests)) == (3, 1)


@pytest.mark.parametrize("mode", MODES)
async def test_refused_credentials_are_not_retried(mode: str) -> None:
    script = Script(OK_USER, tokens=(envelope(status=401, api_code=40100),))
    with pytest.raises(AuthenticationError) as caught:
        await call(mode, script, "get_user", "u1", auth="token")
    assert caught.value.api_code == 40100 and len(script.requests) == 1


@pytest.mark.parametrize("mode", MODES)
async def test_an_expiring_token_is_replaced(mode: str) -> None:
    script = Script(OK_USER, tokens=(token("short", expires_in=10), token("next")))
    transport = httpx.MockTransport(script)
    now = [1000.0]
    tokens = TokenCache(clock=lambda: now[0])  # the client's token cache, on a clock the test moves
    if mode == "sync":
        with ManagementClient(AK, SK, HOST, transport=transport) as client:
            client._tokens = tokens
            client.get_user("u1")
            now[0] += 4.9  # before half of its life: still used
            client.get_user("u1")
            now[0] += 0.2  # past half of its life: refreshed before it expires
            client.get_user("u1")
    else:
        async with AsyncManagementClient(AK, SK, HOST, transport=transport) as client:
            client._tokens = tokens
            await client.get_user("u1")
            now[0] += 4.9
            await client.get_user("u1")
            now[0] += 0.2
            await client.get_user("u1")
    assert [r.headers["authorization"] for r in script.api_requests] == [
        "Bearer short",
        "Bearer short",
        "Bearer next",
    ]


async def test_concurrent_calls_share_one_token_request() -> None:
    script = Script(OK_USER)
    async with AsyncManagementClient(AK, SK, HOST, transport=httpx.MockTransport(script)) as client:
        await asyncio.gather(*[client.get_user("u1") for _ in range(5)])
    assert (len(script.token_requests), len(script.api_requests)) == (1, 5)


def test_threads_share_one_token_request() -> None:
    script = Script(OK_USER)
    with ManagementClient(AK, SK, HOST, transport=httpx.MockTransport(script)) as client:
        threads = [threading.Thread(target=client.get_user, args=("u1",)) for _ in range(5)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    assert (len(script.token_requests), len(script.api_requests)) == (1, 5)


def test_token_cache_refreshes_a_minute_before_expiry() -> None:
    now = [1000.0]
    cache = TokenCache(clock=lambda: now[0])
    assert cache.current() is None
    cache.store({"access_token": "t", "expires_in": 7200})
    now[0] += 7200 - 61
    assert cache.current() == "t"
    now[0] += 2
    assert cache.current() is None
    cache.store({"access_token": "u", "expires_in": 7200})
    cache.invalidate("t")  # someone else's stale token: ours stays
    assert cache.current() == "u"
    cache.invalidate("u")
    assert cache.current() is None
    for bad in [
        None,
        {},
        {"access_token": "x"},
        {"access_token": "x", "expires_in": "7200"},
        {"access_token": "", "expires_in": 10},
        {"access_token": "x", "expires_in": math.nan},
    ]:
        with pytest.raises(ValueError):
            cache.store(bad)


@pytest.mark.parametrize("mode", MODES)
async def test_a_malformed_token_response_is_a_transport_error(mode: str) -> None:
    script = Script(OK_USER, tokens=(envelope({"token": "x"}),))
    with pytest.raises(TransportError, match="management-token"):
        await call(mode, script, "get_user", "u1", auth="token")


# ------------------------------------------------------------------------------------ decoding
@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize(
    "response,message",
    [
        (httpx.Response(200, text="hello"), "not JSON"),
        (httpx.Response(200, json=[1, 2]), "not a Twofold envelope"),
        (httpx.Response(200, json={"data": USER}), "not a Twofold envelope"),
        (envelope({"status": "Activated"}), "unexpected data"),
        (envelope(None), "unexpected data"),
    ],
)
async def test_unusable_responses_are_transport_errors(
    mode: str, response: httpx.Response, message: str
) -> None:
    with pytest.raises(TransportError, match=message):
        await call(mode, Script(response), "get_user", "u1", retries=0)


@pytest.mark.parametrize("mode", MODES)
async def test_unknown_fields_are_kept_not_rejected(mode: str) -> None:
    data = {**USER, "brandNewField": {"x": 1}, "createdAt": "2024-10-01T08:00:00.000Z"}
    user = await call(mode, Script(envelope(data)), "get_user", "u1")
    assert user.model_extra == {"brandNewField": {"x": 1}}
    assert user.created_at.isoformat() == "2024-10-01T08:00:00+00:00"


@pytest.mark.parametrize("mode", MODES)
async def test_request_id_falls_back_to_the_response_header(mode: str) -> None:
    response = httpx.Response(
        200, json={"statusCode": 404, "message": "gone", "data": None}, headers={"x-request-id": "hdr-7"}
    )
    with pytest.raises(NotFoundError) as caught:
        await call(mode, Script(response), "get_user", "u1")
    assert (caught.value.request_id, caught.value.api_code, caught.value.message) == ("hdr-7", None, "gone")


# ------------------------------------------------------------------------- shared request building
CALLS: list[tuple[str, tuple[Any, ...], dict[str, Any], httpx.Response]] = [
    ("get_user_batch", (["a", "b"], "email"), {"with_identities": True}, envelope([USER])),
    ("list_users", (), {"options": {"pagination": {"page": 2}}}, envelope({"list": [], "totalCount": 0})),
    ("update_user", ("u1",), {"nickname": "N", "options": {"userIdType": "username"}}, OK_USER),
    (
        "set_users_mfa_status",
        ({"mfaToken": "t"}, "u1"),
        {"version": 4},
        envelope({"success": True, "version": 5}),
    ),
    ("list_audit_events", (), {"user_id": "u1", "before_id": 9, "limit": 2}, envelope([])),
]


@pytest.mark.parametrize("name,args,kwargs,response", CALLS, ids=[c[0] for c in CALLS])
async def test_sync_and_async_clients_send_the_same_request(
    name: str, args: tuple[Any, ...], kwargs: dict[str, Any], response: httpx.Response
) -> None:
    sent = {}
    for mode in MODES:
        script = Script(response)
        await call(mode, script, name, *args, kwargs=kwargs)
        [request] = script.requests
        sent[mode] = (request.method, str(request.url), request.content, request.headers.get("content-type"))
    assert sent["sync"] == sent["async"]


async def test_wire_form_of_queries_and_bodies() -> None:
    script = Script(envelope([USER]))
    await call("async", script, "get_user_batch", ["a", "b"], "email", kwargs={"with_identities": False})
    assert script.requests[0].url.query.decode() == (
        "userIds%5B%5D=a&userIds%5B%5D=b&userIdType=email&withIdentities=false"
    )
    script = Script(envelope({"success": True, "version": 5}))
    assert (
        await call(
            "async",
            script,
            "set_users_mfa_status",
            {"mfaToken": "t", "mfaPhone": None},
            "u1",
            kwargs={"version": 4},
        )
        == 5
    )
    assert (
        script.requests[0].content
        == b'{"mfaTriggerData":{"mfaToken":"t","applicationMfa":[]},"userId":"u1","version":4}'
    )


# ------------------------------------------------------------------------------ argument checks
def test_bad_arguments_fail_before_any_request() -> None:
    script = Script(OK_USER)
    transport = httpx.MockTransport(script)
    with pytest.raises(ValueError, match="auth"):
        ManagementClient(AK, SK, HOST, auth="basic")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="host"):
        ManagementClient(AK, SK, "localhost:8080")
    with pytest.raises(ValueError):
        ManagementClient(AK, SK, HOST, retries=-1)
    with pytest.raises(ValueError):
        ManagementClient("", SK, HOST)
    with ManagementClient(AK, SK, HOST, transport=transport) as client:
        with pytest.raises(TypeError, match="usrname"):
            client.create_user(usrname="x")  # type: ignore[call-arg]
        with pytest.raises(ValueError, match="mail"):
            client.get_user("a@example.com", "mail")
        with pytest.raises(ValueError):
            client.update_global_mfa_settings(["PUSH"])
    assert script.requests == []


def test_repr_does_not_show_the_secret() -> None:
    with ManagementClient(AK, SK, HOST + "/") as client:
        assert SK not in repr(client) and "twofold.test'" in repr(client)
        assert client.host == HOST
