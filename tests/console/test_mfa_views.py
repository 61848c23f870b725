"""The console's MFA views in a real browser, on both databases: the overview's adoption chart, locked
users and recent failures; a user's login history and their factors' last use; the users list's
"enrolled" and "locked" filters; the audit trail's time filter.

This module has its own live server (module scope, fresh database), and the overview test runs first:
its counts are the first the process makes, so they are exactly what the test created.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pyotp
from genauth import AuthenticationClient
from playwright.sync_api import expect

from tests.compat.support import LiveServer, ok_data, otp_required_user
from tests.console.conftest import screenshot
from tests.console.support import create_user, lock_otp
from tests.console.test_browser import open_user, sign_in

PASSWORD = "Console history password 1!"  # noqa: S105 - a test password


def iso_time(text: str) -> datetime:
    """The management API's ISO 8601 time, as UTC."""
    return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(UTC)


def chart_row(page: Any, factor: str) -> tuple[int, int]:
    row = page.locator(f"table.adoption tbody tr[data-factor={factor}]")
    return int(row.locator(".enrolled-n").inner_text()), int(row.locator(".missing-n").inner_text())


def test_the_overview_charts_adoption_and_shows_locks_and_failures(page: Any, live_server: LiveServer) -> None:
    required = create_user(live_server)  # OTP required, nothing bound: must enrol at the next sign-in
    ok_data(live_server.call("POST", "set-mfa-status", json={"userId": required["userId"], "mfaTriggerData": {
        "mfaToken": "t", "applicationMfa": [{"mfaPolicy": "OTP", "status": 1, "sort": 0}]}}))
    locked = create_user(live_server)  # an authenticator bound (OTP enrolled), then locked by 5 failures
    lock_otp(live_server, locked["userId"], 5)
    sign_in(page, live_server)
    page.get_by_role("link", name="Overview").click()
    expect(page.get_by_role("heading", level=2, name="MFA adoption per factor")).to_be_visible()
    # both users have an email and a phone: SMS and EMAIL are bound for both, never challenged
    assert chart_row(page, "OTP") == (1, 1)
    assert chart_row(page, "SMS") == (2, 0)
    assert chart_row(page, "EMAIL") == (2, 0)
    assert chart_row(page, "FACE") == (0, 0)
    bars = page.locator("svg.chart g.bar-row[data-factor=OTP]")
    assert int(bars.locator("rect.enrolled").get_attribute("width")) > 0
    assert int(bars.locator("rect.missing").get_attribute("width")) > 0
    assert page.locator("svg.chart g.bar-row[data-factor=FACE] rect.enrolled").get_attribute("width") == "0"
    assert "OTP: Enrolled 1, Required but not enrolled 1." in (page.locator("svg.chart desc").text_content() or "")
    tile = page.locator(".tile", has_text="Users locked out")
    assert tile.locator(".number").inner_text() == "1"
    locks = page.locator("table.locked tbody tr")
    expect(locks).to_have_count(1)
    assert locks.first.locator("td").nth(1).inner_text() == "OTP"
    assert locks.first.locator("td").nth(2).inner_text() == "5"
    expect(locks.first.get_by_role("link", name=locked["email"])).to_be_visible()
    failures = page.locator("#failures table tbody tr")
    expect(failures).to_have_count(5)
    for i in range(5):
        cells = failures.nth(i).locator("td")
        assert cells.nth(1).inner_text() == locked["userId"]
        assert cells.nth(2).inner_text() == "OTP"
    screenshot(page, live_server.backend, "overview-mfa-en")
    page.get_by_label("Language").select_option("zh")
    expect(page.get_by_role("heading", level=2, name="各因素的 MFA 采用情况")).to_be_visible()
    expect(page.get_by_role("heading", level=2, name="被锁定的用户")).to_be_visible()
    expect(page.get_by_role("heading", level=2, name="最近的 MFA 失败")).to_be_visible()
    screenshot(page, live_server.backend, "overview-mfa-zh")


def test_users_filtered_by_enrolled_and_locked(page: Any, live_server: LiveServer) -> None:
    plain = create_user(live_server)
    locked = create_user(live_server)
    lock_otp(live_server, locked["userId"], 5)  # OTP enrolled and locked
    bound = create_user(live_server)
    lock_otp(live_server, bound["userId"], 1)  # OTP enrolled, one failure: not locked
    sign_in(page, live_server)

    def choose(option: str, shown: list[dict[str, Any]], hidden: list[dict[str, Any]]) -> None:
        page.get_by_label("MFA state").select_option(option)
        page.get_by_role("button", name="Filter").click()
        expect(page.get_by_label("MFA state")).to_have_value(option)
        for user in hidden:
            expect(page.get_by_role("link", name=user["email"])).to_have_count(0)
        for user in shown:
            expect(page.get_by_role("link", name=user["email"])).to_be_visible()

    choose("otp-enrolled", [locked, bound], [plain])
    choose("otp-not-enrolled", [plain], [locked, bound])
    choose("locked", [locked], [plain, bound])
    choose("locked-otp", [locked], [plain, bound])
    choose("locked-sms", [], [plain, locked, bound])
    screenshot(page, live_server.backend, "users-locked")
    # unlocked in the console, the user leaves the "locked" list
    open_user(page, live_server, locked["email"])
    page.locator("table.locks tbody tr", has_text="OTP").locator("summary", has_text="Unlock…").click()
    page.get_by_role("button", name="Confirm unlock OTP").click()
    expect(page.get_by_role("status").filter(has_text="Unlocked")).to_be_visible()
    page.get_by_role("link", name="Users", exact=True).click()
    choose("locked", [], [plain, locked, bound])


def test_a_users_login_history_and_their_factors_last_use(page: Any, live_server: LiveServer) -> None:
    app = ok_data(live_server.call("POST", "create-application", json={"appName": "Console history"}))
    ok_data(live_server.call("POST", "update-application-mfa-settings",
                             json={"appId": app["appId"], "enabledFactors": ["OTP"]}))
    secret = pyotp.random_base32(32)
    user = otp_required_user(live_server, "consolelh", PASSWORD, secret=secret)
    client = AuthenticationClient(app_id=app["appId"], app_secret=app["appSecret"], app_host=live_server.base_url)
    assert client.sign_in_by_email_password(user["email"], "wrong")["statusCode"] == 401
    challenge = client.sign_in_by_email_password(user["email"], PASSWORD)
    assert challenge["apiCode"] == 1636, challenge
    client.set_access_token(challenge["data"]["mfaToken"])
    ok_data(client.mfa_otp_verify(pyotp.TOTP(secret).now()))
    history = ok_data(live_server.call("GET", "get-user-login-history", params={"userId": user["userId"]}))
    verified = ok_data(live_server.call("GET", "twofold/list-audit-events",
                                        params={"userId": user["userId"], "action": "mfa.factor.verified"}))
    sign_in(page, live_server)
    open_user(page, live_server, user["email"])
    rows = page.locator("table.logins tbody tr")
    expect(rows).to_have_count(3)
    outcomes = [rows.nth(i).locator("td").nth(1).inner_text() for i in range(3)]
    assert outcomes == ["success", "mfa_challenge", "failure"]
    assert rows.nth(0).locator("td").nth(2).inner_text() == "Console history"
    assert rows.nth(0).locator("td").nth(4).inner_text() == "OTP"
    assert history["totalCount"] == 3
    enrolled = page.locator("table.enrolled tbody tr")
    expect(enrolled).to_have_count(2)  # OTP (bound and flagged) and the email; no phone: no SMS
    assert [enrolled.nth(i).locator("td").nth(0).inner_text() for i in range(2)] == ["OTP", "EMAIL"]
    otp_used = page.locator("table.enrolled tbody tr[data-factor=OTP] td").nth(1).inner_text()
    expected = iso_time(verified[0]["at"])
    assert otp_used.startswith(expected.strftime("%Y-%m-%d %H:%M")), otp_used
    email_used = page.locator("table.enrolled tbody tr[data-factor=EMAIL] td").nth(1).inner_text()
    assert email_used == "never (in the audit trail)"
    screenshot(page, live_server.backend, "user-history-en")
    page.get_by_label("Language").select_option("zh")
    expect(page.get_by_role("heading", level=2, name="登录历史")).to_be_visible()
    assert page.locator("table.logins tbody tr").nth(0).locator("td").nth(1).inner_text() == "成功"
    screenshot(page, live_server.backend, "user-history-zh")


def test_the_audit_trail_filtered_by_time(page: Any, live_server: LiveServer) -> None:
    user = create_user(live_server)
    created = ok_data(live_server.call("GET", "twofold/list-audit-events",
                                       params={"userId": user["userId"], "action": "user.create"}))[0]
    at = iso_time(created["at"])
    sign_in(page, live_server)
    page.get_by_role("link", name="Audit trail", exact=True).click()
    page.get_by_label("User ID").fill(user["userId"])

    def window(since: datetime | None, until: datetime | None) -> Any:
        page.get_by_label("From (UTC)").fill(since.strftime("%Y-%m-%dT%H:%M:%S") if since else "")
        page.get_by_label("To (UTC)").fill(until.strftime("%Y-%m-%dT%H:%M:%S") if until else "")
        page.get_by_role("button", name="Filter").click()
        return page.locator("table.audit tbody tr")

    rows = window(at - timedelta(minutes=5), at + timedelta(minutes=5))
    expect(rows).to_have_count(1)
    expect(rows.first.locator("td").nth(1)).to_have_text("user.create")
    expect(page.get_by_label("From (UTC)")).not_to_have_value("")
    rows = window(at + timedelta(minutes=5), None)  # after the event: nothing
    expect(page.get_by_text("No events.")).to_be_visible()
    expect(rows).to_have_count(0)
    rows = window(None, at - timedelta(minutes=5))  # before it: nothing
    expect(page.get_by_text("No events.")).to_be_visible()
    rows = window(at - timedelta(seconds=1), at + timedelta(seconds=1))
    expect(rows).to_have_count(1)
    screenshot(page, live_server.backend, "audit-time")
