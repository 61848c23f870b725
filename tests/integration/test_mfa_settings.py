"""get-user-mfa-info, trigger data per application, global/app factor settings, TOTP import and read."""

from __future__ import annotations

from typing import Any

import pyotp

from tests.conftest import Api
from tests.factories import user_payload
from tests.integration.test_mfa_status import trigger
from twofold.errors import (
    ApplicationNotFound,
    InvalidMfaPolicy,
    InvalidOtpSecret,
    OtpNotBound,
    PermissionDenied,
)
from twofold.services.container import Services


async def make_user(api: Api, **overrides: Any) -> dict[str, Any]:
    return await api.ok("POST", "create-user", user_payload(**overrides))


async def make_app(api: Api, **fields: Any) -> dict[str, Any]:
    return await api.ok("POST", "create-application", {"appName": "Portal", **fields})


async def set_status(api: Api, user_id: str, **changes: Any) -> None:
    await api.ok("POST", "set-mfa-status", {"userId": user_id, "mfaTriggerData": trigger(**changes)})


async def test_user_mfa_info_reports_enrolled_factors(api: Api) -> None:
    """Each status says whether the factor could be verified now: bound, and for TOTP also flagged.
    The policy plays no part (it decides what is challenged, see get-mfa-status)."""
    user = await make_user(api, email=None)
    info = await api.ok("GET", "get-user-mfa-info", {"userId": user["userId"]})
    # SMS codes would go to the user's own phone; no email, no TOTP secret, no face.
    assert info == {
        "totpStatus": "disabled",
        "faceMfaStatus": "disabled",
        "smsMfaStatus": "enabled",
        "emailMfaStatus": "disabled",
    }
    await set_status(
        api,
        user["userId"],
        totpMfaEnabled=True,
        faceMfaEnabled=True,
        applicationMfa=[
            {"mfaPolicy": "OTP", "status": 1, "sort": 0},
            {"mfaPolicy": "FACE", "status": 1, "sort": 1},
        ],
    )
    info = await api.ok("GET", "get-user-mfa-info", {"userId": user["userId"]})
    # the flags alone make nothing usable: no TOTP secret, no face is bound
    assert (info["totpStatus"], info["faceMfaStatus"]) == ("disabled", "disabled")
    await api.ok(
        "POST", "import-otp", {"list": [{"userId": user["userId"], "otp": {"secret": pyotp.random_base32()}}]}
    )
    info = await api.ok("GET", "get-user-mfa-info", {"userId": user["userId"]})
    assert info["totpStatus"] == "enabled"  # flagged and now bound
    await set_status(
        api,
        user["userId"],
        totpMfaEnabled=False,
        mfaEmail="mfa@example.com",
        applicationMfa=[{"mfaPolicy": "OTP", "status": 1, "sort": 0}],
    )
    info = await api.ok("GET", "get-user-mfa-info", {"userId": user["userId"]})
    # a secret is bound but the flag says "not enrolled": the sign-in enrols a new authenticator
    assert info == {
        "totpStatus": "disabled",
        "faceMfaStatus": "disabled",
        "smsMfaStatus": "enabled",
        "emailMfaStatus": "enabled",
    }


async def test_user_mfa_info_errors(api: Api) -> None:
    body = await api.raw(
        "GET", "/api/v3/get-user-mfa-info", params={"userId": ""}, headers={"x-authing-lang": "zh-CN"}
    )
    assert (body["statusCode"], body["message"]) == (400, "参数 userId 格式错误")


async def test_global_settings_update_and_disable(api: Api) -> None:
    assert await api.ok("GET", "get-global-mfa-settings") == {"enabledFactors": []}
    assert await api.ok(
        "POST", "update-global-mfa-settings", {"enabledFactors": ["OTP", "SMS", "EMAIL"]}
    ) == {"enabledFactors": ["OTP", "SMS", "EMAIL"]}
    assert await api.ok("POST", "disable-global-mfa-settings", {"disableFactors": ["SMS"]}) == {
        "enabledFactors": ["OTP", "EMAIL"]
    }
    assert await api.ok("GET", "get-global-mfa-settings") == {"enabledFactors": ["OTP", "EMAIL"]}
    bad = await api.post("update-global-mfa-settings", {"enabledFactors": ["OTP", "PUSH"]})
    assert (bad["statusCode"], bad["apiCode"]) == (400, InvalidMfaPolicy.api_code)
    assert "enabledFactors[1]" in bad["message"]
    # the per-app spelling is refused for the global switch-off, and nothing changes
    assert (await api.post("disable-global-mfa-settings", {"disabledFactors": ["OTP"]}))["statusCode"] == 400
    assert await api.ok("GET", "get-global-mfa-settings") == {"enabledFactors": ["OTP", "EMAIL"]}


async def test_application_settings_inherit_then_override(api: Api) -> None:
    await api.ok("POST", "update-global-mfa-settings", {"enabledFactors": ["OTP", "SMS"]})
    app = await make_app(api)
    data = await api.ok(
        "POST",
        "update-application-mfa-settings",
        {"appId": app["appId"], "enabledFactors": ["EMAIL"], "disabledFactors": ["SMS"]},
    )
    assert data == {"enabledFactors": ["OTP", "EMAIL"]}
    both = await api.post(
        "update-application-mfa-settings",
        {"appId": app["appId"], "enabledFactors": ["OTP"], "disabledFactors": ["OTP"]},
    )
    assert both["statusCode"] == 400
    missing = await api.post("update-application-mfa-settings", {"appId": "nope", "enabledFactors": ["OTP"]})
    assert (missing["statusCode"], missing["apiCode"]) == (404, ApplicationNotFound.api_code)
    assert (await api.ok("GET", "get-application", {"appId": app["appId"]}))["mfaEnabledFactors"] == [
        "OTP",
        "EMAIL",
    ]


async def test_trigger_data_combines_app_factors_and_user_status(api: Api) -> None:
    await api.ok("POST", "update-global-mfa-settings", {"enabledFactors": ["OTP", "SMS", "EMAIL", "FACE"]})
    app = await make_app(api)
    await api.ok(
        "POST", "update-application-mfa-settings", {"appId": app["appId"], "disabledFactors": ["SMS"]}
    )
    user = await make_user(api)
    await set_status(
        api,
        user["userId"],
        totpMfaEnabled=True,
        faceMfaEnabled=False,
        applicationMfa=[
            {"mfaPolicy": "SMS", "status": 1, "sort": 0},
            {"mfaPolicy": "EMAIL", "status": 1, "sort": 5},
            {"mfaPolicy": "OTP", "status": 1, "sort": 3},
        ],
    )
    data = await api.ok("GET", "get-mfa-trigger-data", {"appId": app["appId"], "userId": user["userId"]})
    assert data["applicationMfa"] == [
        {"mfaPolicy": "OTP", "status": 1, "sort": 3},
        {"mfaPolicy": "EMAIL", "status": 1, "sort": 5},
    ]
    assert (data["totpMfaEnabled"], data["faceMfaEnabled"]) == (True, False)
    assert (await api.get("get-mfa-trigger-data", userId=user["userId"]))["statusCode"] == 400
    assert (await api.get("get-mfa-trigger-data", appId="nope", userId=user["userId"]))["statusCode"] == 404


async def test_sign_in_requirement_orders_factors_and_flags_enrolment(api: Api, services: Services) -> None:
    app = await make_app(api)
    await api.ok(
        "POST",
        "update-application-mfa-settings",
        {"appId": app["appId"], "enabledFactors": ["OTP", "EMAIL", "SMS", "FACE"]},
    )
    user = await make_user(api, email=None)
    await set_status(
        api,
        user["userId"],
        faceMfaEnabled=True,
        totpMfaEnabled=None,
        applicationMfa=[
            {"mfaPolicy": "EMAIL", "status": 1, "sort": 2},
            {"mfaPolicy": "OTP", "status": 1, "sort": 1},
            {"mfaPolicy": "SMS", "status": 0, "sort": 0},
        ],
    )
    view = await services.users.get_user(
        (await services.keys.ensure_default_pool())[0].id, user["userId"], None
    )
    requirement = await services.mfa.requirement(view.user.pool_id, app["appId"], view.user)
    # FACE is flagged but has no policy entry: a flag never adds a challenge
    assert [(str(c.factor), c.needs_enrolment) for c in requirement.challenges] == [
        ("OTP", True),
        ("EMAIL", True),
    ]
    await api.ok(
        "POST", "import-otp", {"list": [{"userId": user["userId"], "otp": {"secret": pyotp.random_base32()}}]}
    )
    policy = [{"mfaPolicy": "OTP", "status": 1, "sort": 0}, {"mfaPolicy": "EMAIL", "status": 1, "sort": 1}]
    for flag, otp_needs_enrolment in ((False, True), (True, False)):
        await set_status(
            api, user["userId"], totpMfaEnabled=flag, mfaEmail="m@example.com", applicationMfa=policy
        )
        requirement = await services.mfa.requirement(view.user.pool_id, app["appId"], view.user)
        assert [(str(c.factor), c.needs_enrolment) for c in requirement.challenges] == [
            ("OTP", otp_needs_enrolment),
            ("EMAIL", False),
        ]


async def test_list_users_filters_by_mfa_state(api: Api) -> None:
    on = await make_user(api)
    off = await make_user(api)
    otp_on = [{"mfaPolicy": "OTP", "status": 1, "sort": 0}]
    await set_status(api, on["userId"], faceMfaEnabled=False, totpMfaEnabled=True, applicationMfa=otp_on)
    # the flag alone challenges nothing: a policy whose entries are off is "MFA not enabled"
    otp_off = [{"mfaPolicy": "OTP", "status": 0, "sort": 0}]
    await set_status(api, off["userId"], faceMfaEnabled=False, totpMfaEnabled=False, applicationMfa=otp_off)
    flag_only = await make_user(api)
    await set_status(api, flag_only["userId"], faceMfaEnabled=False, totpMfaEnabled=True, applicationMfa=[])
    page = await api.ok(
        "POST",
        "list-users",
        {"advancedFilter": [{"field": "totpMfaEnabled", "operator": "EQUAL", "value": True}]},
    )
    assert {u["userId"] for u in page["list"]} == {on["userId"], flag_only["userId"]}
    page = await api.ok(
        "POST",
        "list-users",
        {
            "advancedFilter": [{"field": "mfaEnabled", "operator": "EQUAL", "value": False}],
            "options": {"pagination": {"limit": 50}},
        },
    )
    ids = {u["userId"] for u in page["list"]}
    assert off["userId"] in ids and flag_only["userId"] in ids and on["userId"] not in ids


async def test_import_otp_then_read_secret(api: Api) -> None:
    user = await make_user(api)
    secret = pyotp.random_base32()
    await api.ok(
        "POST",
        "import-otp",
        {"list": [{"userId": user["userId"], "otp": {"secret": secret.lower(), "recoveryCode": "rc-1"}}]},
    )
    data = await api.ok(
        "GET", "get-otp-secret-by-user", {"userId": user["username"], "userIdType": "username"}
    )
    assert data == {"secret": secret}
    totp = pyotp.TOTP(data["secret"])
    assert totp.verify(totp.now())


async def test_import_otp_is_validated_and_all_or_nothing(api: Api) -> None:
    a = await make_user(api)
    b = await make_user(api)
    body = await api.post(
        "import-otp",
        {
            "list": [
                {"userId": a["userId"], "otp": {"secret": pyotp.random_base32()}},
                {"userId": b["userId"], "otp": {"secret": "SHORT"}},
            ]
        },
    )
    assert (body["statusCode"], body["apiCode"]) == (400, InvalidOtpSecret.api_code)
    assert "list[1].otp.secret" in body["message"]
    body = await api.post(
        "import-otp",
        {
            "list": [
                {"userId": a["userId"], "otp": {"secret": pyotp.random_base32()}},
                {"userId": "missing", "otp": {"secret": pyotp.random_base32()}},
            ]
        },
    )
    assert body["statusCode"] == 404
    body = await api.get("get-otp-secret-by-user", userId=a["userId"])
    assert (body["statusCode"], body["apiCode"]) == (404, OtpNotBound.api_code)


async def test_otp_secret_read_needs_the_permission_and_is_audited(api: Api, services: Services) -> None:
    user = await make_user(api, otp={"secret": pyotp.random_base32()})
    pool, _ = await services.keys.ensure_default_pool()
    plain = await services.keys.create_key(pool.id, "no otp read")
    other = await Api(api.client).login(plain.id, plain.secret)
    body = await other.get("get-otp-secret-by-user", userId=user["userId"])
    assert (body["statusCode"], body["apiCode"], body["data"]) == (403, PermissionDenied.api_code, None)
    await api.ok("GET", "get-otp-secret-by-user", {"userId": user["userId"]})
    events = await api.ok("GET", "twofold/list-audit-events", {"action": "otp.secret.read"})
    assert [e["userId"] for e in events] == [user["userId"]]
    denied = await api.ok("GET", "twofold/list-audit-events", {"action": "otp.secret.read.denied"})
    assert denied[0]["actor"] == plain.id


async def test_audit_trail_records_changes_newest_first(api: Api) -> None:
    user = await make_user(api)
    await set_status(api, user["userId"])
    await set_status(api, user["userId"], faceMfaEnabled=False)
    events = await api.ok("GET", "twofold/list-audit-events", {"userId": user["userId"]})
    assert [e["action"] for e in events] == ["mfa.status.set", "mfa.status.set", "user.create"]
    newest = events[0]
    assert newest["before"]["faceMfaEnabled"] is True and newest["after"]["faceMfaEnabled"] is False
    assert newest["requestId"] and newest["clientIp"] and newest["actor"] and newest["at"].endswith("Z")
    assert "mfaToken" not in str(newest)


async def test_applications_create_get_list(api: Api) -> None:
    app = await make_app(api, appIdentifier="portal", appType="web")
    assert (app["appName"], app["appIdentifier"], app["appType"]) == ("Portal", "portal", "web")
    assert (await api.post("create-application", {"appName": "Dup", "appIdentifier": "portal"}))[
        "statusCode"
    ] == 409
    assert (await api.post("create-application", {"appName": "X", "appType": "desktop"}))["statusCode"] == 400
    listed = await api.ok(
        "GET",
        "list-applications",
        {"page": 1, "limit": 10, "isIntegrateApp": "false", "isSelfBuiltApp": "false", "ssoEnabled": "false"},
    )
    assert listed["totalCount"] == 1 and listed["list"][0]["appId"] == app["appId"]
    assert (await api.get("get-application", appId="nope"))["statusCode"] == 404
