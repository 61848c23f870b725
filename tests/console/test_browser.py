"""The admin console in a real browser (Debian's Chromium through Playwright), on both databases.

Every test's page fails at teardown on a browser console error, an uncaught page error, a dialog
(an ``alert`` would be one) or a request to a host other than the server (``conftest.page``).
"""

from __future__ import annotations

import re
import subprocess
from typing import Any

import httpx
from playwright.sync_api import expect

from tests.compat.support import TWOFOLD_BIN, LiveServer, create_access_key, new_person, ok_data
from tests.console.conftest import screenshot
from tests.console.support import (
    XSS_NICKNAME,
    audit_actions,
    create_user,
    lock_otp,
    mfa_status,
    send_email_code,
)

FAILED = "Sign-in failed"


def sign_in(page: Any, server: LiveServer, key_id: str | None = None, secret: str | None = None) -> None:
    page.goto(server.base_url + "/")
    page.get_by_label("Access key ID").fill(key_id or server.access_key_id)
    page.get_by_label("Access key secret").fill(secret or server.access_key_secret)
    page.get_by_role("button", name="Sign in").click()


def assert_fits(page: Any, width: int) -> None:
    """Nothing sticks out past ``width`` (no horizontal scrolling), naming what does; measured once the
    page and its stylesheet have loaded."""
    page.wait_for_load_state("load")
    wider = page.evaluate(f"""() => [...document.querySelectorAll('body *')]
        .filter(e => e.getBoundingClientRect().right > {width} + 1)
        .map(e => e.tagName + '.' + e.className + ' ' + (e.textContent || '').slice(0, 40))""")
    assert page.evaluate("document.documentElement.scrollWidth") <= width, wider


def open_user(page: Any, server: LiveServer, email: str) -> None:
    page.get_by_role("link", name="Users", exact=True).click()
    page.get_by_role("searchbox", name="Search").fill(email)
    page.get_by_role("button", name="Find").click()
    page.get_by_role("link", name=email).click()
    page.get_by_role("heading", level=1, name=email).wait_for()


def test_sign_in_with_the_printed_key_and_a_wrong_secret_refused(page: Any, live_server: LiveServer) -> None:
    page.goto(live_server.base_url + "/")
    assert page.url == f"{live_server.base_url}/console/signin"
    screenshot(page, live_server.backend, "signin")
    page.get_by_label("Access key ID").fill(live_server.access_key_id)
    page.get_by_label("Access key secret").fill("not-the-secret-0123456789")
    page.get_by_role("button", name="Sign in").click()
    wrong_secret = page.get_by_role("alert").inner_text()
    assert FAILED in wrong_secret
    page.get_by_label("Access key ID").fill("no-such-key-000000000")
    page.get_by_label("Access key secret").fill(live_server.access_key_secret)
    page.get_by_role("button", name="Sign in").click()
    assert page.get_by_role("alert").inner_text() == wrong_secret  # one message whatever the cause
    sign_in(page, live_server)
    page.get_by_role("heading", level=1, name="Users").wait_for()
    assert page.url == f"{live_server.base_url}/console/users"
    assert page.get_by_role("link", name="Users", exact=True).is_visible()
    page.get_by_role("button", name="Sign out").click()
    page.get_by_role("button", name="Sign in").wait_for()
    page.goto(live_server.base_url + "/console/users")
    assert page.url == f"{live_server.base_url}/console/signin"  # the session ended on the server


def test_a_newcomer_creates_a_user_and_sets_their_mfa_status(page: Any, live_server: LiveServer) -> None:
    """The issue's "done when": sign in with the key, create a user, perform set-mfa-status."""
    person = new_person("newcomer")
    sign_in(page, live_server)
    page.get_by_role("link", name="Create a user").click()
    page.get_by_label("Email").fill("not-an-email")
    page.get_by_role("button", name="Create user").click()
    assert "email" in page.locator("#email-error").inner_text()
    assert live_server.user_count(person["username"]) == 0
    page.get_by_label("Email").fill(person["email"])
    page.get_by_label("Username").fill(person["username"])
    page.get_by_role("button", name="Create user").click()
    page.get_by_role("heading", level=1, name=person["email"]).wait_for()
    page.get_by_role("checkbox", name="On OTP").check()
    page.get_by_role("checkbox", name="On EMAIL").check()
    page.get_by_label("Order OTP").fill("1")
    page.get_by_label("Order EMAIL").fill("0")
    page.get_by_role("button", name="Save MFA status").click()
    page.get_by_role("status").filter(has_text="Saved").wait_for()
    user = ok_data(live_server.call("GET", "get-user", params={"userId": person["email"], "userIdType": "email"}))
    status = mfa_status(live_server, user["userId"])
    challenged = sorted((p for p in status["applicationMfa"] if p["status"] == 1), key=lambda p: p["sort"])
    assert [p["mfaPolicy"] for p in challenged] == ["EMAIL", "OTP"]
    assert [(a, k) for a, k in audit_actions(live_server, user["userId"])][:2] == [
        ("mfa.status.set", live_server.access_key_id), ("user.create", live_server.access_key_id)]


def test_find_a_user_by_email_and_set_their_mfa_status(page: Any, live_server: LiveServer) -> None:
    user = create_user(live_server)
    sign_in(page, live_server)
    open_user(page, live_server, user["email"])
    before = mfa_status(live_server, user["userId"])
    page.get_by_role("checkbox", name="On EMAIL").check()
    page.get_by_label("MFA email").fill("second@example.com")
    page.get_by_role("button", name="Save MFA status").click()
    page.get_by_role("status").filter(has_text="Saved").wait_for()
    after = mfa_status(live_server, user["userId"])
    assert after["version"] == before["version"] + 1
    assert after["mfaEmail"] == "second@example.com"
    assert {"mfaPolicy": "EMAIL", "status": 1} in [
        {k: p[k] for k in ("mfaPolicy", "status")} for p in after["applicationMfa"]
    ]
    screenshot(page, live_server.backend, "user")
    assert ("mfa.status.set", live_server.access_key_id) in audit_actions(live_server, user["userId"])


def test_a_bad_phone_is_shown_next_to_its_field_and_nothing_is_saved(page: Any, live_server: LiveServer) -> None:
    user = create_user(live_server)
    sign_in(page, live_server)
    open_user(page, live_server, user["email"])
    before = mfa_status(live_server, user["userId"])
    page.get_by_role("checkbox", name="On SMS").check()
    page.get_by_label("MFA phone", exact=True).fill("12345")
    page.get_by_role("button", name="Save MFA status").click()
    error = page.locator("#mfa_phone-error")
    assert "mfaPhone" in error.inner_text()
    assert page.get_by_label("MFA phone", exact=True).get_attribute("aria-invalid") == "true"
    assert page.get_by_label("MFA phone", exact=True).input_value() == "12345"  # the admin's input kept
    screenshot(page, live_server.backend, "editor-error")
    assert mfa_status(live_server, user["userId"]) == before


def test_a_stale_version_shows_a_conflict_and_overwrites_nothing(page: Any, live_server: LiveServer) -> None:
    user = create_user(live_server)
    sign_in(page, live_server)
    open_user(page, live_server, user["email"])
    live_server.call("POST", "set-mfa-status", json={"userId": user["userId"], "mfaTriggerData": {
        "mfaToken": "t", "applicationMfa": [{"mfaPolicy": "OTP", "status": 1, "sort": 0}]}})
    theirs = mfa_status(live_server, user["userId"])
    page.get_by_role("checkbox", name="On EMAIL").check()
    page.get_by_role("button", name="Save MFA status").click()
    assert "Someone else changed" in page.get_by_role("alert").inner_text()
    assert mfa_status(live_server, user["userId"]) == theirs
    assert page.locator("#mfa-version").inner_text() == str(theirs["version"])


def test_the_xss_nickname_renders_as_text(page: Any, live_server: LiveServer) -> None:
    user = create_user(live_server, nickname=XSS_NICKNAME)
    sign_in(page, live_server)
    page.get_by_role("searchbox", name="Search").fill(user["email"])
    page.get_by_role("button", name="Find").click()
    expect(page.get_by_role("cell", name=XSS_NICKNAME)).to_be_visible()
    page.get_by_role("link", name=user["email"]).click()
    page.get_by_role("heading", level=1, name=user["email"]).wait_for()
    expect(page.get_by_text(XSS_NICKNAME, exact=True)).to_be_visible()
    assert page.locator("script").count() == 1  # console.js, nothing the nickname brought
    # and no dialog opened: the page fixture fails on any


def test_keyboard_only_sign_in(page: Any, live_server: LiveServer) -> None:
    page.goto(live_server.base_url + "/console/signin")
    for _ in range(12):
        if page.evaluate("document.activeElement.id") == "access_key_id":
            break
        page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.id") == "access_key_id"
    page.keyboard.type(live_server.access_key_id)
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.id") == "access_key_secret"
    page.keyboard.type(live_server.access_key_secret)
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent").strip() == "Sign in"
    page.keyboard.press("Enter")
    page.get_by_role("heading", level=1, name="Users").wait_for()


def test_unlock_and_reset_behind_a_confirmation_are_audited(page: Any, live_server: LiveServer) -> None:
    user = create_user(live_server)
    sign_in(page, live_server)
    open_user(page, live_server, user["email"])
    unlock = page.get_by_role("button", name="Confirm unlock OTP")
    assert not unlock.is_visible()  # behind its confirmation
    page.locator("summary", has_text="Unlock…").filter(has_text="OTP").click()
    unlock.click()
    page.get_by_role("status").filter(has_text="Unlocked").wait_for()
    page.locator("summary", has_text="Reset…").filter(has_text="SMS").click()
    page.get_by_role("button", name="Confirm reset SMS").click()
    page.get_by_role("status").filter(has_text="Reset done").wait_for()
    events = page.locator("table.audit tbody tr")
    assert "mfa.factor.reset" in events.nth(0).inner_text()
    assert "mfa.unlock" in events.nth(1).inner_text()
    assert live_server.access_key_id in events.nth(0).inner_text()
    actions = audit_actions(live_server, user["userId"])
    assert actions[:2] == [("mfa.factor.reset", live_server.access_key_id),
                           ("mfa.unlock", live_server.access_key_id)]
    # the audit trail page, filtered by the user and then by an action
    page.get_by_role("link", name="Audit trail", exact=True).click()
    page.get_by_label("User ID").fill(user["userId"])
    page.get_by_role("button", name="Filter").click()
    rows = page.locator("table.audit tbody tr")
    expect(rows).to_have_count(3)  # the filtered page
    assert [rows.nth(i).locator("td").nth(1).inner_text() for i in range(rows.count())] == [
        "mfa.factor.reset", "mfa.unlock", "user.create"]
    assert all(rows.nth(i).locator("td").nth(3).inner_text() == live_server.access_key_id
               for i in range(rows.count()))
    page.get_by_label("Action").fill("mfa.unlock")
    page.get_by_role("button", name="Filter").click()
    expect(page.locator("table.audit tbody tr")).to_have_count(1)
    screenshot(page, live_server.backend, "audit")


def test_revoking_the_key_signs_its_sessions_out(page: Any, live_server: LiveServer) -> None:
    key_id, secret = create_access_key(live_server, description="console test key")
    sign_in(page, live_server, key_id, secret)
    page.get_by_role("heading", level=1, name="Users").wait_for()
    done = subprocess.run([str(TWOFOLD_BIN), "keys", "revoke", key_id], env=live_server.env,
                          capture_output=True, timeout=60, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    page.reload()
    assert page.url == f"{live_server.base_url}/console/signin"
    sign_in(page, live_server, key_id, secret)
    assert FAILED in page.get_by_role("alert").inner_text()


def test_pages_at_390_px_in_both_languages(page: Any, live_server: LiveServer) -> None:
    user = create_user(live_server, nickname="小明")
    page.set_viewport_size({"width": 390, "height": 844})
    sign_in(page, live_server)
    assert_fits(page, 390)
    screenshot(page, live_server.backend, "users-390-en")
    page.get_by_label("Language").select_option("zh")
    page.get_by_role("heading", level=1, name="用户").wait_for()
    screenshot(page, live_server.backend, "users-390-zh")
    page.get_by_role("searchbox", name="搜索").fill(user["email"])
    page.get_by_role("button", name="查找").click()
    page.get_by_role("link", name=user["email"]).click()
    page.get_by_role("button", name="保存 MFA 状态").wait_for()
    assert_fits(page, 390)
    screenshot(page, live_server.backend, "user-390-zh")


def test_filter_users_by_mfa_state(page: Any, live_server: LiveServer) -> None:
    required = create_user(live_server)
    live_server.call("POST", "set-mfa-status", json={"userId": required["userId"], "mfaTriggerData": {
        "mfaToken": "t", "applicationMfa": [{"mfaPolicy": "EMAIL", "status": 1, "sort": 0}]}})
    plain = create_user(live_server)
    sign_in(page, live_server)
    page.get_by_label("MFA state").select_option("required")
    page.get_by_role("button", name="Filter").click()
    expect(page.get_by_role("link", name=plain["email"])).to_have_count(0)  # waits for the filtered page
    expect(page.get_by_role("link", name=required["email"])).to_be_visible()
    page.get_by_label("MFA state").select_option("not-required")
    page.get_by_role("button", name="Filter").click()
    expect(page.get_by_role("link", name=required["email"])).to_have_count(0)
    expect(page.get_by_role("link", name=plain["email"])).to_be_visible()


def test_the_overview_counts_users_and_shows_the_last_events(page: Any, live_server: LiveServer) -> None:
    required = create_user(live_server)
    live_server.call("POST", "set-mfa-status", json={"userId": required["userId"], "mfaTriggerData": {
        "mfaToken": "t", "applicationMfa": [{"mfaPolicy": "SMS", "status": 1, "sort": 0}]}})

    def total(*filters: dict[str, Any]) -> int:
        body = live_server.call("POST", "list-users", json={"advancedFilter": list(filters)})
        count: int = ok_data(body)["totalCount"]
        return count

    sign_in(page, live_server)
    page.get_by_role("link", name="Overview").click()
    tiles = {page.locator(".tile").nth(i).locator("span").nth(1).inner_text():
             int(page.locator(".tile").nth(i).locator(".number").inner_text())
             for i in range(page.locator(".tile").count())}
    locked_rows = page.locator("table.locked tbody tr")
    locked_users = {locked_rows.nth(i).locator("td").nth(0).inner_text() for i in range(locked_rows.count())}
    assert tiles.pop("Users locked out") == len(locked_users)  # fewer than the table's 10 here
    assert tiles == {
        "Users in total": total(),
        "Users with MFA required": total({"field": "mfaEnabled", "operator": "EQUAL", "value": True}),
        "Users with the OTP flag on": total({"field": "totpMfaEnabled", "operator": "EQUAL", "value": True}),
    }
    assert tiles["Users with MFA required"] >= 1
    events = page.locator("table.audit tbody tr")
    assert "console.signin" in events.nth(0).inner_text()  # this sign-in, newest
    assert "mfa.status.set" in events.filter(has_text=required["userId"]).first.inner_text()
    screenshot(page, live_server.backend, "overview-en")
    page.get_by_label("Language").select_option("zh")
    page.get_by_role("heading", level=1, name="概览").wait_for()
    screenshot(page, live_server.backend, "overview-zh")


def test_the_users_list_pages_newest_first_without_gaps(page: Any, live_server: LiveServer) -> None:
    created = {create_user(live_server)["email"] for _ in range(23)}
    # the management API's newest-first order (created_at, then id) is the console's too
    listed = ok_data(live_server.call("POST", "list-users", json={
        "options": {"pagination": {"page": 1, "limit": 40}}}))["list"]
    newest = [u["email"] or u["username"] or u["phone"] or u["userId"] for u in listed]
    assert created <= set(newest[:23])
    sign_in(page, live_server)
    first = page.locator("table.users tbody tr td:first-child a").all_inner_texts()
    assert first == newest[:20]
    page.get_by_role("link", name="Next").click()
    second = page.locator("table.users tbody tr td:first-child a").all_inner_texts()
    assert second == newest[20:40]
    page.get_by_role("link", name="Newest").click()
    assert page.locator("table.users tbody tr td:first-child a").all_inner_texts() == first


def test_every_page_in_both_languages(page: Any, live_server: LiveServer) -> None:
    """Each page loads in English and in Chinese (by Accept-Language first, then the switch), with no
    browser console error and nothing from another host; a screenshot of each is saved."""
    user = create_user(live_server, nickname="小红")
    page.set_extra_http_headers({"accept-language": "zh-CN,zh;q=0.9"})
    page.goto(live_server.base_url + "/console/signin")
    assert page.get_by_role("button", name="登录").is_visible()  # chosen by Accept-Language
    screenshot(page, live_server.backend, "signin-zh")
    page.get_by_label("访问密钥 ID").fill(live_server.access_key_id)
    page.get_by_label("访问密钥 Secret").fill(live_server.access_key_secret)
    page.get_by_role("button", name="登录").click()
    page.get_by_role("heading", level=1, name="用户").wait_for()
    pages = {
        "overview": ("/console/", "Overview", "概览"),
        "users": ("/console/users", "Users", "用户"),
        "user-new": ("/console/users/new", "Create a user", "创建用户"),
        "user-page": (f"/console/users/{user['userId']}", user["email"], user["email"]),
        "audit": ("/console/audit", "Audit trail", "审计日志"),
        "keys": ("/console/keys", "Access keys", "访问密钥"),
        "settings": ("/console/settings", "Global MFA settings", "全局 MFA 设置"),
        "apps": ("/console/apps", "Applications", "应用"),
        "outbox": ("/console/outbox", "Dev outbox", "开发发件箱"),
    }
    for lang in ("zh", "en"):
        if lang == "en":
            page.get_by_label("语言").select_option("en")  # the switch overrides Accept-Language
            page.get_by_role("button", name="Sign out").wait_for()
        for name, (path, english, chinese) in pages.items():
            page.goto(live_server.base_url + path)
            page.get_by_role("heading", level=1, name=english if lang == "en" else chinese).wait_for()
            assert page.locator("html").get_attribute("lang") == ("en" if lang == "en" else "zh-CN")
            screenshot(page, live_server.backend, f"{name}-{lang}")


def test_create_and_revoke_access_keys(page: Any, live_server: LiveServer, clients: Any) -> None:
    sign_in(page, live_server)
    page.get_by_role("link", name="Access keys").click()
    page.get_by_label("Description").fill("made in the console")
    page.get_by_role("checkbox", name="May read OTP secrets").check()
    page.get_by_role("button", name="Create access key").click()
    key_id = page.locator("#new-key-id").inner_text()
    secret = page.locator("#new-key-secret").inner_text()
    screenshot(page, live_server.backend, "keys")
    page.get_by_role("link", name="Access keys").click()
    assert secret not in page.content()  # shown once
    row = page.locator("table.keys tbody tr", has_text=key_id)
    assert "otp:read-secret" in row.inner_text() and "made in the console" in row.inner_text()
    # the new key works: over the API, and for a console session of its own
    token = httpx.post(f"{live_server.base_url}/api/v3/get-management-token",
                       json={"accessKeyId": key_id, "accessKeySecret": secret}, timeout=10).json()
    assert token["statusCode"] == 200, token
    theirs = clients.signed_in(key_id, secret)
    assert theirs.get("/console/users").status_code == 200
    row.locator("summary").click()
    page.get_by_role("button", name=f"Confirm revoke {key_id}").click()
    page.get_by_role("status").filter(has_text="Revoked").wait_for()
    assert "revoked" in page.locator("table.keys tbody tr", has_text=key_id).inner_text()
    assert theirs.get("/console/users").headers.get("location") == "/console/signin"  # signed out
    refused = httpx.post(f"{live_server.base_url}/api/v3/get-management-token",
                         json={"accessKeyId": key_id, "accessKeySecret": secret}, timeout=10).json()
    assert refused["statusCode"] == 401, refused
    events = ok_data(live_server.call("GET", "twofold/list-audit-events", params={"limit": 20}))
    mine = [(e["action"], e["after"]["accessKeyId"]) for e in events
            if e["action"].startswith("access_key.") and e["actor"] == live_server.access_key_id]
    assert mine[:2] == [("access_key.revoke", key_id), ("access_key.create", key_id)]


def test_revoking_the_sessions_own_key_signs_it_out(page: Any, live_server: LiveServer) -> None:
    key_id, secret = create_access_key(live_server, description="revokes itself")
    sign_in(page, live_server, key_id, secret)
    page.get_by_role("link", name="Access keys").click()
    page.locator("table.keys tbody tr", has_text=key_id).locator("summary").click()
    page.get_by_role("button", name=f"Confirm revoke {key_id}").click()
    page.get_by_role("button", name="Sign in").wait_for()
    page.goto(live_server.base_url + "/console/keys")
    assert page.url == f"{live_server.base_url}/console/signin"


def test_global_mfa_settings(page: Any, live_server: LiveServer) -> None:
    sign_in(page, live_server)
    page.get_by_role("link", name="MFA settings").click()
    for factor in ("OTP", "SMS", "EMAIL", "FACE"):
        page.get_by_role("checkbox", name=factor, exact=True).set_checked(factor in ("OTP", "EMAIL"))
    page.get_by_role("button", name="Save settings").click()
    page.get_by_role("status").filter(has_text="Saved").wait_for()
    settings = ok_data(live_server.call("GET", "get-global-mfa-settings"))
    assert settings["enabledFactors"] == ["OTP", "EMAIL"]
    assert page.get_by_role("checkbox", name="EMAIL", exact=True).is_checked()
    assert not page.get_by_role("checkbox", name="SMS", exact=True).is_checked()
    events = ok_data(live_server.call("GET", "twofold/list-audit-events",
                                      params={"action": "mfa.settings.global.update", "limit": 1}))
    assert events[0]["actor"] == live_server.access_key_id
    assert events[0]["after"] == {"enabledFactors": ["OTP", "EMAIL"]}
    screenshot(page, live_server.backend, "settings")
    page.get_by_role("checkbox", name="EMAIL", exact=True).uncheck()
    page.get_by_role("checkbox", name="OTP", exact=True).uncheck()
    page.get_by_role("button", name="Save settings").click()
    page.get_by_role("status").filter(has_text="Saved").wait_for()
    assert ok_data(live_server.call("GET", "get-global-mfa-settings"))["enabledFactors"] == []


def test_a_locked_factor_is_shown_and_unlocked(page: Any, live_server: LiveServer) -> None:
    user = create_user(live_server)
    lock_otp(live_server, user["userId"], 5)  # TWOFOLD_MFA_MAX_FAILURES: the fifth failure locks
    sign_in(page, live_server)
    open_user(page, live_server, user["email"])
    otp_row = page.locator("table.locks tbody tr", has_text="OTP")
    assert otp_row.locator("td").nth(1).inner_text() == "5"
    assert otp_row.locator(".badge.locked").is_visible()
    assert page.locator(".badges .badge.locked").is_visible()  # the user's badge says so too
    screenshot(page, live_server.backend, "user-locked")
    otp_row.locator("summary", has_text="Unlock…").click()
    page.get_by_role("button", name="Confirm unlock OTP").click()
    page.get_by_role("status").filter(has_text="Unlocked").wait_for()
    otp_row = page.locator("table.locks tbody tr", has_text="OTP")
    assert otp_row.locator("td").nth(1).inner_text() == "0"
    assert otp_row.locator(".badge.locked").count() == 0
    lock = ok_data(live_server.call("GET", "twofold/get-mfa-lock-status", params={"userId": user["userId"]}))
    assert not any(f["locked"] for f in lock["factors"])
    events = ok_data(live_server.call("GET", "twofold/list-audit-events",
                                      params={"userId": user["userId"], "action": "mfa.unlock"}))
    assert events[0]["actor"] == live_server.access_key_id
    assert events[0]["before"]["OTP"]["failures"] == 5


def test_create_an_application_and_choose_its_factors(page: Any, live_server: LiveServer) -> None:
    sign_in(page, live_server)
    page.get_by_role("link", name="Applications").click()
    page.get_by_label("Name").fill("Console app")
    page.get_by_role("button", name="Create application").click()
    app_id = page.locator("#new-app-id").inner_text()
    secret = page.locator("#new-app-secret").inner_text()
    assert len(secret) >= 32
    page.get_by_role("link", name="Applications").click()
    assert secret not in page.content()  # shown once
    card = page.locator("section.card", has=page.locator(f"code:text-is('{app_id}')"))
    for factor in ("OTP", "SMS", "EMAIL", "FACE"):
        card.get_by_role("checkbox", name=f"{factor} Console app").set_checked(factor in ("SMS", "OTP"))
    card.get_by_role("button", name="Save factors of Console app").click()
    page.get_by_role("status").filter(has_text="Saved").wait_for()
    card = page.locator("section.card", has=page.locator(f"code:text-is('{app_id}')"))  # as stored now
    assert [f for f in ("OTP", "SMS", "EMAIL", "FACE")
            if card.get_by_role("checkbox", name=f"{f} Console app").is_checked()] == ["OTP", "SMS"]
    events = ok_data(live_server.call("GET", "twofold/list-audit-events",
                                      params={"action": "mfa.settings.application.update", "limit": 1}))
    assert events[0]["actor"] == live_server.access_key_id
    assert sorted(events[0]["after"]["enabledFactors"]) == ["OTP", "SMS"]
    assert events[0]["after"]["appId"] == app_id
    screenshot(page, live_server.backend, "apps")


def test_the_dev_outbox_shows_the_codes_sent(page: Any, live_server: LiveServer) -> None:
    address = new_person("outbox")["email"]
    send_email_code(live_server, address)
    sign_in(page, live_server)
    page.get_by_role("link", name="Dev outbox").click()
    row = page.locator("table.outbox tbody tr", has_text=address)
    assert re.search(r"\b\d{6}\b", row.inner_text()), row.inner_text()  # the code itself
    events = ok_data(live_server.call("GET", "twofold/list-audit-events", params={"action": "outbox.read", "limit": 1}))
    assert events[0]["actor"] == live_server.access_key_id
    screenshot(page, live_server.backend, "outbox")
