"""The console's protections, checked with plain HTTP requests a browser would never send."""

from __future__ import annotations

import re

import httpx

from tests.compat.support import LiveServer, create_access_key
from tests.console.conftest import Clients, csrf_of
from tests.console.support import audit_actions, create_user, mfa_status

HEADERS = {
    "x-frame-options": "DENY",
    "referrer-policy": "no-referrer",
}


def editor_form(version: int) -> dict[str, str]:
    return {"version": str(version), "factors": "OTP,SMS,EMAIL,FACE", "EMAIL_on": "1",
            "OTP_sort": "0", "SMS_sort": "1", "EMAIL_sort": "2", "FACE_sort": "3",
            "mfa_email": "csrf@example.com"}


def test_every_console_response_has_the_security_headers(live_server: LiveServer, clients: Clients) -> None:
    client = clients.signed_in()
    user = create_user(live_server)
    anonymous = clients.anonymous()
    responses = [
        anonymous.get("/console/signin"),
        anonymous.get("/console/users"),  # a redirect to the sign-in
        anonymous.get("/console/static/console.css"),
        anonymous.get("/console/static/console.js"),
        anonymous.get("/console/no-such-page"),
        anonymous.post("/console/signin", data={"access_key_id": "x", "access_key_secret": "y"}),
        client.get("/console/users"),
        client.get(f"/console/users/{user['userId']}"),
        client.get("/console/users/no-such-user"),
        client.get("/console/audit?before=abc"),
    ]
    for response in responses:
        for name, value in HEADERS.items():
            assert response.headers.get(name) == value, (response.request.url, name)
        csp = response.headers["content-security-policy"]
        assert "script-src 'self'" in csp and "unsafe-inline" not in csp, csp
        assert "frame-ancestors 'none'" in csp
    assert [r.status_code for r in responses] == [200, 303, 200, 200, 404, 403, 200, 200, 404, 400]
    assert responses[1].headers["location"] == "/console/signin"
    assert all("<script>" not in r.text and "style=" not in r.text for r in responses if "html" in
               r.headers.get("content-type", "")), "inline script or style in a page"


def test_the_session_cookie_is_httponly_samesite_strict_and_stored_hashed(live_server: LiveServer, clients: Clients) -> None:
    client = clients.anonymous()
    token = csrf_of(client.get("/console/signin").text)
    response = client.post("/console/signin", data={"csrf": token, "access_key_id": live_server.access_key_id,
                                                     "access_key_secret": live_server.access_key_secret})
    cookie = next(c for c in response.headers.get_list("set-cookie") if c.startswith("twofold_console="))
    attributes = {a.strip().split("=")[0].lower() for a in cookie.split(";")[1:]}
    assert {"httponly", "samesite", "path"} <= attributes and "secure" not in attributes  # plain HTTP here
    assert "SameSite=strict" in cookie or "SameSite=Strict" in cookie
    session_id = re.match(r"twofold_console=([^;]+)", cookie).group(1)  # type: ignore[union-attr]
    assert len(session_id) >= 40


def test_a_post_without_the_csrf_token_is_refused_and_changes_nothing(live_server: LiveServer, clients: Clients) -> None:
    user = create_user(live_server)
    before = mfa_status(live_server, user["userId"])
    events = audit_actions(live_server, user["userId"])
    client = clients.signed_in()
    page = client.get(f"/console/users/{user['userId']}")
    mine = csrf_of(page.text)
    other = csrf_of(clients.signed_in().get("/console/users").text)  # another session's
    form = editor_form(before["version"])
    for token in (None, "", other, mine[:-1] + ("0" if mine[-1] != "0" else "1")):
        data = form if token is None else {**form, "csrf": token}
        for path in ("mfa-status", "unlock", "reset"):
            response = client.post(f"/console/users/{user['userId']}/{path}", data=data)
            assert response.status_code == 403, (path, token, response.text)
            assert "Nothing was changed" in response.text
    assert client.post("/console/signout", data={}).status_code == 403
    assert mfa_status(live_server, user["userId"]) == before
    assert audit_actions(live_server, user["userId"]) == events
    assert client.get("/console/users").status_code == 200  # the refused sign-out ended nothing
    # the same form with its token goes through: the refusals above were the token's
    response = client.post(f"/console/users/{user['userId']}/mfa-status", data={**form, "csrf": mine})
    assert response.status_code == 303, response.text
    assert mfa_status(live_server, user["userId"])["version"] == before["version"] + 1


def test_the_sign_in_form_needs_its_own_token(live_server: LiveServer, clients: Clients) -> None:
    client = clients.anonymous()
    client.get("/console/signin")
    response = client.post("/console/signin", data={"access_key_id": live_server.access_key_id,
                                                     "access_key_secret": live_server.access_key_secret})
    assert response.status_code == 403
    assert "twofold_console=" not in response.headers.get("set-cookie", "")


def test_sign_in_is_throttled_per_key_with_the_same_message(live_server: LiveServer, clients: Clients) -> None:
    key_id, secret = create_access_key(live_server, description="console throttle test")
    client = clients.anonymous()
    token = csrf_of(client.get("/console/signin").text)

    def attempt(given: str) -> httpx.Response:
        return client.post("/console/signin", data={"csrf": token, "access_key_id": key_id,
                                                     "access_key_secret": given})

    wrong = [attempt("wrong-secret-0123456789") for _ in range(10)]  # TWOFOLD_CONSOLE_SIGNIN_MAX_FAILURES_PER_KEY
    assert {r.status_code for r in wrong} == {200}
    throttled = attempt(secret)  # the right secret, over the limit
    assert throttled.status_code == 200 and "twofold_console=" not in throttled.headers.get("set-cookie", "")
    message = re.compile(r'<p class="error" role="alert" id="signin-error">([^<]+)</p>')
    assert message.search(throttled.text).group(1) == message.search(wrong[0].text).group(1)  # type: ignore[union-attr]
    # the throttle is the key's: another key still signs in from the same address
    assert clients.signed_in().get("/console/users").status_code == 200
