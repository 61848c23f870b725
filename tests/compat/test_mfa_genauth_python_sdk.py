"""Contract tests: MFA management (docs/wire.md#mfa-endpoints) through the unmodified ``genauth`` 5.1.0 Python SDK.

The rules checked here are those of docs/mfa-status.md: set-mfa-status replaces the user's whole status
and get-mfa-status returns exactly what was stored (email lower-cased, profile fields from the user
record); every combination of policy entries and the enrolment flags ``totpMfaEnabled``/``faceMfaEnabled``
is stored as set; a factor is "enabled" in get-user-mfa-info only when the user has it enrolled (bound, and
for TOTP also flagged: a flag alone is never enough); a rejected
write is an HTTP-200 envelope with a non-200 ``statusCode`` and changes nothing.  The Python SDK cannot
send ``version`` (the optimistic-concurrency extension); it only passes the ``version`` it reads through.
"""

from __future__ import annotations

import copy
import json
from typing import Any

import pyotp
import pytest

from tests.compat.support import (
    LONG_VALID_EMAIL,
    MFA_STATUS_BEFORE,
    MFA_STATUS_OTHER,
    REJECTED_MFA_WRITES,
    LiveServer,
    RecordingRelay,
    RejectedMfaWrite,
    assert_envelope,
    create_access_key,
    genauth_client,
    mixed_case,
    new_person,
    ok_data,
    request_line,
)
from tests.factories import SEED_MFA_TRIGGER_DATA

pytestmark = pytest.mark.compat

ID_TYPES = ["user_id", "username", "email", "phone", "external_id", "identity", "sync_relation"]


@pytest.fixture(scope="module")
def unpermitted_key(live_server: LiveServer) -> tuple[str, str]:
    """An access key made with ``twofold keys create`` without ``--allow-otp-secret-read``."""
    return create_access_key(live_server, description="no otp secret read")


def create(sdk: Any, **extra: Any) -> dict[str, Any]:
    person = new_person("pm")
    user: dict[str, Any] = ok_data(sdk.create_user(
        username=person["username"], email=person["email"], phone=person["phone"],
        external_id=person["externalId"], nickname=f"nick {person['username']}", **extra))
    return user


def status(sdk: Any, user_id: str, user_id_type: str | None = None) -> dict[str, Any]:
    data: dict[str, Any] = ok_data(sdk.get_user_mfa_status(user_id=user_id, user_id_type=user_id_type))
    return data


def info(sdk: Any, user_id: str) -> dict[str, str]:
    data: dict[str, str] = ok_data(sdk.get_user_mfa_info(user_id=user_id))
    return data


def set_status(sdk: Any, user_id: str, trigger_data: dict[str, Any], user_id_type: str | None = None) -> int:
    """A write that must succeed; returns the ``version`` extension of its answer."""
    data = ok_data(sdk.set_users_mfa_status(trigger_data, user_id, user_id_type))
    assert data["success"] is True, data
    version: int = data["version"]
    return version


def profile_echo(user: dict[str, Any]) -> dict[str, Any]:
    return {k: user[k] for k in ("nickname", "username", "phone", "phoneCountryCode")}


def test_seed_sample_is_sent_as_written_and_succeeds(live_server: LiveServer) -> None:
    sdk = genauth_client(live_server)
    user = create(sdk)
    with RecordingRelay(live_server.port) as relay:
        recorded = genauth_client(live_server, host=relay.url)
        body = assert_envelope(recorded.set_users_mfa_status(
            mfa_trigger_data=copy.deepcopy(SEED_MFA_TRIGGER_DATA), user_id=user["userId"],
            user_id_type="user_id"))
    assert body["statusCode"] == 200 and body["data"]["success"] is True, body
    assert body["message"] == "Operation successful"

    (sent,) = [raw for raw in relay.requests() if b"/set-mfa-status" in raw.split(b"\r\n", 1)[0]]
    assert request_line(sent) == "POST /api/v3/set-mfa-status HTTP/1.1"
    # the nested nulls of the sample travel as JSON nulls (the SDK drops top-level None only)
    assert json.loads(sent.split(b"\r\n\r\n", 1)[1]) == {
        "mfaTriggerData": SEED_MFA_TRIGGER_DATA, "userId": user["userId"], "userIdType": "user_id"}

    assert status(sdk, user["userId"]) == {
        "mfaToken": "",  # accepted, never stored
        "applicationMfa": [{"mfaPolicy": "EMAIL", "status": 1, "sort": 0}],
        "totpMfaEnabled": True,
        "faceMfaEnabled": True,
        "mfaPhone": None,
        "mfaPhoneCountryCode": None,
        "mfaEmail": None,
        **profile_echo(user),
        "version": body["data"]["version"],
    }


@pytest.mark.parametrize("id_type", ID_TYPES)
def test_set_and_get_by_user_id_type_returns_exactly_what_was_set(live_server: LiveServer,
                                                                 id_type: str) -> None:
    sdk = genauth_client(live_server)
    tag = new_person()["username"]
    user = create(sdk, identities=[{"extIdpId": f"idp{tag}", "provider": "lark", "type": "openid",
                                    "userIdInIdp": f"ou_{tag}"}])
    if id_type == "sync_relation":
        ok_data(live_server.call("POST", "twofold/set-sync-relation",
                                 json={"userId": user["userId"], "provider": "wechatwork",
                                       "userIdInIdp": f"wx_{tag}"}))
    write_id, read_id = {
        "user_id": (user["userId"],) * 2,
        "username": (user["username"],) * 2,
        "email": (mixed_case(user["email"]), user["email"].upper()),
        "phone": (user["phone"],) * 2,
        "external_id": (user["externalId"],) * 2,
        "identity": (f"idp{tag}:ou_{tag}",) * 2,
        "sync_relation": (f"wechatwork:wx_{tag}",) * 2,
    }[id_type]
    policies = [{"mfaPolicy": "SMS", "status": 1, "sort": 7},
                {"mfaPolicy": "OTP", "status": 1, "sort": 0},
                {"mfaPolicy": "EMAIL", "status": 0, "sort": 3},
                {"mfaPolicy": "FACE", "status": 0, "sort": 3}]
    trigger_data = {
        "mfaToken": f"token-{tag}",
        "applicationMfa": policies,
        "totpMfaEnabled": True,  # "has an authenticator": stored as set, even with no secret bound
        "mfaPhone": "13800138000",
        "mfaPhoneCountryCode": "+86",
        "mfaEmail": f"Codes.{tag}@Example.COM",
        **profile_echo(user),  # an echo of the user record is accepted
    }

    version = set_status(sdk, write_id, trigger_data, id_type)
    expected = {
        "mfaToken": "",
        "applicationMfa": policies,  # as given, in the order given
        "totpMfaEnabled": True,
        "faceMfaEnabled": False,  # absent: whether a face is bound (never, yet)
        "mfaPhone": "13800138000",
        "mfaPhoneCountryCode": "+86",
        "mfaEmail": f"codes.{tag}@example.com",
        **profile_echo(user),
        "version": version,
    }
    assert status(sdk, read_id, id_type) == expected
    assert status(sdk, user["userId"]) == expected
    assert isinstance(version, int) and not isinstance(version, bool) and version == 1


def test_profile_echo_follows_the_user_record(live_server: LiveServer) -> None:
    """nickname/username/phone are the user's: shown as they are now, checked but never written."""
    sdk = genauth_client(live_server)
    user = create(sdk)
    set_status(sdk, user["userId"], {**MFA_STATUS_BEFORE, **profile_echo(user)})
    new_phone = new_person()["phone"]
    updated = ok_data(sdk.update_user(user_id=user["userId"], nickname="renamed", phone=new_phone))
    got = status(sdk, user["userId"])
    assert profile_echo(got) == profile_echo(updated) == {**profile_echo(user), "nickname": "renamed",
                                                          "phone": new_phone}
    assert got["version"] == 1  # a profile change is not an MFA write

    stale = assert_envelope(sdk.set_users_mfa_status({**MFA_STATUS_BEFORE, "nickname": user["nickname"]},
                                                     user["userId"]))
    assert (stale["statusCode"], stale.get("apiCode"), stale["data"]) == (400, 40031, None), stale
    assert stale["message"].startswith("Invalid parameter mfaTriggerData.nickname"), stale
    assert status(sdk, user["userId"]) == got


def test_profile_phone_country_code_echo_must_match_the_user_record(live_server: LiveServer) -> None:
    sdk = genauth_client(live_server)
    user = create(sdk)  # phoneCountryCode +86
    set_status(sdk, user["userId"], {**MFA_STATUS_BEFORE, "phoneCountryCode": "+86"})  # matches: accepted
    before = status(sdk, user["userId"])
    body = assert_envelope(sdk.set_users_mfa_status({**MFA_STATUS_OTHER, "phoneCountryCode": "+1"}, user["userId"]))
    assert (body["statusCode"], body.get("apiCode"), body["data"]) == (400, 40031, None), body
    assert body["message"].startswith("Invalid parameter mfaTriggerData.phoneCountryCode"), body
    assert status(sdk, user["userId"]) == before


def test_a_long_valid_mfa_email_is_accepted(live_server: LiveServer) -> None:
    sdk = genauth_client(live_server)
    user = create(sdk)
    set_status(sdk, user["userId"], {**MFA_STATUS_BEFORE, "mfaEmail": LONG_VALID_EMAIL})
    assert status(sdk, user["userId"])["mfaEmail"] == LONG_VALID_EMAIL.lower()


def test_set_for_a_user_that_does_not_exist_is_a_404_envelope(live_server: LiveServer) -> None:
    sdk = genauth_client(live_server)
    missing = f"missing-{new_person()['username']}"
    body = assert_envelope(sdk.set_users_mfa_status(MFA_STATUS_BEFORE, missing, "username"))
    assert (body["statusCode"], body.get("apiCode"), body["data"]) == (404, 40401, None), body
    assert body["message"] == "User does not exist"
    body = assert_envelope(sdk.get_user_mfa_status(user_id=missing, user_id_type="username"))
    assert (body["statusCode"], body.get("apiCode"), body["data"]) == (404, 40401, None), body


def test_user_mfa_info_counts_a_factor_only_when_enrolled(live_server: LiveServer) -> None:
    sdk = genauth_client(live_server)
    user = create(sdk)  # has a phone and an email, no TOTP secret
    set_status(sdk, user["userId"], {
        "mfaToken": "t", "totpMfaEnabled": True, "faceMfaEnabled": True,
        "applicationMfa": [{"mfaPolicy": "SMS", "status": 1, "sort": 0},
                           {"mfaPolicy": "EMAIL", "status": 0, "sort": 1}]})
    # the flags alone enrol nothing: no secret is bound, FACE can never be bound; SMS and EMAIL codes go
    # to the user's own phone and email (the policy says what is challenged, not what is bound)
    assert info(sdk, user["userId"]) == {"totpStatus": "disabled", "faceMfaStatus": "disabled",
                                         "smsMfaStatus": "enabled", "emailMfaStatus": "enabled"}

    assert assert_envelope(sdk.import_otp([{"userId": user["userId"],
                                            "otp": {"secret": pyotp.random_base32()}}]))["statusCode"] == 200
    assert info(sdk, user["userId"])["totpStatus"] == "enabled"  # flagged, and now bound
    assert status(sdk, user["userId"])["totpMfaEnabled"] is True  # import-otp left the status as it was

    bare = ok_data(sdk.create_user(username=new_person("pm")["username"]))  # no phone, no email
    both = [{"mfaPolicy": "SMS", "status": 1, "sort": 0}, {"mfaPolicy": "EMAIL", "status": 1, "sort": 1}]
    set_status(sdk, bare["userId"], {"mfaToken": "t", "applicationMfa": both})
    assert info(sdk, bare["userId"]) == {"totpStatus": "disabled", "faceMfaStatus": "disabled",
                                         "smsMfaStatus": "disabled", "emailMfaStatus": "disabled"}
    set_status(sdk, bare["userId"], {"mfaToken": "t", "applicationMfa": both,
                                     "mfaPhone": "+44 7911 123456", "mfaEmail": "Bare@Example.com"})
    got = status(sdk, bare["userId"])
    assert (got["mfaPhone"], got["mfaPhoneCountryCode"], got["mfaEmail"]) == \
        ("7911123456", "+44", "bare@example.com")
    assert info(sdk, bare["userId"]) == {"totpStatus": "disabled", "faceMfaStatus": "disabled",
                                         "smsMfaStatus": "enabled", "emailMfaStatus": "enabled"}


def test_seed_flow_otp_required_not_enrolled_yet_reads_back_as_set(live_server: LiveServer) -> None:
    """The commonest real state, for which GenAuth's login UI shows TOTP enrolment."""
    sdk = genauth_client(live_server)
    tag = new_person()["username"]
    ok_data(sdk.update_global_mfa_settings(enabled_factors=["OTP", "SMS", "EMAIL", "FACE"]))
    app = ok_data(sdk.create_application(app_name=f"Seed {tag}", app_identifier=f"seed-{tag}"))
    user = create(sdk)
    required = [{"mfaPolicy": "OTP", "status": 1, "sort": 0}]
    seed = {"mfaToken": "t", "applicationMfa": required, "totpMfaEnabled": False}
    assert set_status(sdk, user["userId"], seed) == 1
    expected = {"mfaToken": "", "applicationMfa": required, "totpMfaEnabled": False, "faceMfaEnabled": False,
                "mfaPhone": None, "mfaPhoneCountryCode": None, "mfaEmail": None, **profile_echo(user),
                "version": 1}
    assert status(sdk, user["userId"]) == expected
    assert ok_data(sdk.get_mfa_trigger_data(app_id=app["appId"], user_id=user["userId"])) == expected
    assert info(sdk, user["userId"])["totpStatus"] == "disabled"

    # every other combination of the two flags with the same policy is stored exactly as set too
    for totp, face in ((True, False), (False, True), (True, True)):
        version = set_status(sdk, user["userId"], {**seed, "totpMfaEnabled": totp, "faceMfaEnabled": face})
        assert status(sdk, user["userId"]) == {**expected, "totpMfaEnabled": totp, "faceMfaEnabled": face,
                                               "version": version}


def test_default_status_of_a_user_never_set(live_server: LiveServer) -> None:
    sdk = genauth_client(live_server)
    assert ok_data(sdk.update_global_mfa_settings(enabled_factors=["SMS", "EMAIL"])) == \
        {"enabledFactors": ["SMS", "EMAIL"]}
    user = create(sdk)
    assert status(sdk, user["userId"]) == {
        "mfaToken": "",
        "applicationMfa": [{"mfaPolicy": "SMS", "status": 0, "sort": 0},
                           {"mfaPolicy": "EMAIL", "status": 0, "sort": 1}],
        "totpMfaEnabled": False, "faceMfaEnabled": False,
        "mfaPhone": None, "mfaPhoneCountryCode": None, "mfaEmail": None,
        **profile_echo(user), "version": 0,
    }
    # nothing is challenged, but SMS and EMAIL codes could reach the user's own phone and email
    assert info(sdk, user["userId"]) == {"totpStatus": "disabled", "faceMfaStatus": "disabled",
                                         "smsMfaStatus": "enabled", "emailMfaStatus": "enabled"}

    ok_data(sdk.import_otp([{"userId": user["userId"], "otp": {"secret": pyotp.random_base32()}}]))
    assert status(sdk, user["userId"])["totpMfaEnabled"] is True  # on exactly when a secret is bound
    assert info(sdk, user["userId"])["totpStatus"] == "enabled"


def test_default_status_with_otp_as_a_global_factor_can_be_written_back(live_server: LiveServer) -> None:
    """With a bound secret the default's OTP entry is on, agreeing with totpMfaEnabled (read-modify-write)."""
    sdk = genauth_client(live_server)
    ok_data(sdk.update_global_mfa_settings(enabled_factors=["OTP", "SMS"]))
    user = create(sdk)
    unbound = status(sdk, user["userId"])
    assert (unbound["applicationMfa"], unbound["totpMfaEnabled"]) == \
        ([{"mfaPolicy": "OTP", "status": 0, "sort": 0}, {"mfaPolicy": "SMS", "status": 0, "sort": 1}], False)

    ok_data(sdk.import_otp([{"userId": user["userId"], "otp": {"secret": pyotp.random_base32()}}]))
    read = status(sdk, user["userId"])
    assert (read["applicationMfa"], read["totpMfaEnabled"], read["version"]) == \
        ([{"mfaPolicy": "OTP", "status": 1, "sort": 0}, {"mfaPolicy": "SMS", "status": 0, "sort": 1}], True, 0)
    assert info(sdk, user["userId"])["totpStatus"] == "enabled"

    # the SDK cannot send version; what it read, with a fresh mfaToken (get returns ""), is accepted
    write_back = {k: v for k, v in read.items() if k != "version"} | {"mfaToken": "new-token"}
    assert set_status(sdk, user["userId"], write_back) == 1
    assert status(sdk, user["userId"]) == {**read, "version": 1}


def test_global_and_application_factor_settings_shape_the_trigger_data(live_server: LiveServer) -> None:
    sdk = genauth_client(live_server)
    tag = new_person()["username"]
    assert ok_data(sdk.update_global_mfa_settings(enabled_factors=["OTP", "SMS", "EMAIL"])) == \
        {"enabledFactors": ["OTP", "SMS", "EMAIL"]}
    assert ok_data(sdk.get_global_mfa_settings()) == {"enabledFactors": ["OTP", "SMS", "EMAIL"]}

    configured = ok_data(sdk.create_application(app_name=f"Configured {tag}", app_identifier=f"cfg-{tag}"))
    inherited = ok_data(sdk.create_application(app_name=f"Inherited {tag}", app_identifier=f"inh-{tag}"))
    assert configured["appId"] != inherited["appId"]
    got = ok_data(sdk.get_application(app_id=configured["appId"]))
    assert (got["appId"], got["appName"], got["appIdentifier"]) == \
        (configured["appId"], f"Configured {tag}", f"cfg-{tag}")
    listed = ok_data(sdk.list_applications(keywords=tag))
    assert listed["totalCount"] == 2
    assert {a["appId"] for a in listed["list"]} == {configured["appId"], inherited["appId"]}

    # starts from the inherited global factors, removes the disabled ones, appends the enabled ones
    assert ok_data(sdk.update_application_mfa_settings(
        app_id=configured["appId"], enabled_factors=["FACE"], disabled_factors=["SMS"])) == \
        {"enabledFactors": ["OTP", "EMAIL", "FACE"]}
    both = assert_envelope(sdk.update_application_mfa_settings(
        app_id=configured["appId"], enabled_factors=["OTP"], disabled_factors=["OTP"]))
    assert (both["statusCode"], both.get("apiCode"), both["data"]) == (400, 40030, None), both
    unknown = assert_envelope(sdk.update_global_mfa_settings(enabled_factors=["SMS", "WEBAUTHN"]))
    assert (unknown["statusCode"], unknown.get("apiCode"), unknown["data"]) == (400, 40003, None), unknown
    assert ok_data(sdk.get_global_mfa_settings()) == {"enabledFactors": ["OTP", "SMS", "EMAIL"]}

    # Python has no disable call: update-global-mfa-settings replaces the list
    assert ok_data(sdk.update_global_mfa_settings(enabled_factors=["OTP", "SMS"])) == \
        {"enabledFactors": ["OTP", "SMS"]}
    assert ok_data(sdk.get_global_mfa_settings()) == {"enabledFactors": ["OTP", "SMS"]}

    user = create(sdk)
    set_status(sdk, user["username"], {
        "mfaToken": "t", "mfaEmail": "Trigger@Example.com", "faceMfaEnabled": True,
        "applicationMfa": [{"mfaPolicy": "SMS", "status": 1, "sort": 5},
                           {"mfaPolicy": "EMAIL", "status": 1, "sort": 0},
                           {"mfaPolicy": "OTP", "status": 0, "sort": 3},
                           {"mfaPolicy": "FACE", "status": 1, "sort": 1}]}, "username")

    # the configured app offers OTP, EMAIL, FACE (the global change did not touch it)
    for_configured = ok_data(sdk.get_mfa_trigger_data(app_id=configured["appId"], user_id=user["userId"]))
    assert for_configured["applicationMfa"] == [{"mfaPolicy": "EMAIL", "status": 1, "sort": 0},
                                                {"mfaPolicy": "FACE", "status": 1, "sort": 1},
                                                {"mfaPolicy": "OTP", "status": 0, "sort": 3}]
    # the flags are the user's, as set (totpMfaEnabled left out: no secret is bound)
    assert (for_configured["totpMfaEnabled"], for_configured["faceMfaEnabled"]) == (False, True)
    assert for_configured["mfaEmail"] == "trigger@example.com"
    assert for_configured["username"] == user["username"]

    # the app never configured follows the global factors as they are now: OTP, SMS
    for_inherited = ok_data(sdk.get_mfa_trigger_data(app_id=inherited["appId"], user_id=user["email"].upper(),
                                                     user_id_type="email"))
    assert for_inherited["applicationMfa"] == [{"mfaPolicy": "OTP", "status": 0, "sort": 3},
                                               {"mfaPolicy": "SMS", "status": 1, "sort": 5}]
    assert (for_inherited["totpMfaEnabled"], for_inherited["faceMfaEnabled"]) == (False, True)

    missing = assert_envelope(sdk.get_mfa_trigger_data(app_id=f"missing{tag}", user_id=user["userId"]))
    assert (missing["statusCode"], missing.get("apiCode"), missing["data"]) == (404, 40402, None), missing


def test_imported_otp_secret_is_read_back_only_with_the_permission(live_server: LiveServer,
                                                                   unpermitted_key: tuple[str, str]) -> None:
    sdk = genauth_client(live_server)
    user = create(sdk)
    secret = pyotp.random_base32()
    # spaces, lower case and a dash are accepted (authenticator-app export style)
    written = " ".join(secret[i:i + 4] for i in range(0, len(secret), 4)).lower().replace(" ", "-", 1)
    imported = assert_envelope(sdk.import_otp([{"userId": user["userId"],
                                                "otp": {"secret": written, "recoveryCode": "rc-1234"}}]))
    assert (imported["statusCode"], imported["data"]) == (200, None), imported

    read = ok_data(sdk.get_otp_secret_by_user(user_id=user["userId"]))
    assert read == {"secret": secret}
    assert pyotp.TOTP(read["secret"]).verify(pyotp.TOTP(secret).now())
    assert ok_data(sdk.get_otp_secret_by_user(user_id=user["username"], user_id_type="username")) == read

    key_id, key_secret = unpermitted_key
    limited = genauth_client(live_server, key_id=key_id, secret=key_secret)
    for args in ((user["userId"], None), (user["username"], "username")):
        refused = assert_envelope(limited.get_otp_secret_by_user(user_id=args[0], user_id_type=args[1]))
        assert (refused["statusCode"], refused.get("apiCode"), refused["data"]) == (403, 40300, None), refused
    # the key itself is valid: the same key reads the (non-secret) MFA status
    assert status(limited, user["userId"])["username"] == user["username"]
    assert ok_data(sdk.get_otp_secret_by_user(user_id=user["userId"])) == read

    unbound = create(sdk)
    body = assert_envelope(sdk.get_otp_secret_by_user(user_id=unbound["userId"]))
    assert (body["statusCode"], body.get("apiCode"), body["data"]) == (404, 40404, None), body
    # all items or none: the unknown second user leaves the first one unbound
    body = assert_envelope(sdk.import_otp([
        {"userId": unbound["userId"], "otp": {"secret": pyotp.random_base32()}},
        {"userId": f"missing{unbound['userId']}", "otp": {"secret": pyotp.random_base32()}}]))
    assert (body["statusCode"], body.get("apiCode"), body["data"]) == (404, 40401, None), body
    body = assert_envelope(sdk.import_otp([{"userId": unbound["userId"], "otp": {"secret": "AAAAAAAA"}}]))
    assert (body["statusCode"], body.get("apiCode"), body["data"]) == (400, 40004, None), body  # 40 bits
    body = assert_envelope(sdk.get_otp_secret_by_user(user_id=unbound["userId"]))
    assert (body["statusCode"], body.get("apiCode")) == (404, 40404), body


@pytest.mark.parametrize("case", REJECTED_MFA_WRITES, ids=lambda c: c.name)
def test_rejected_write_is_an_envelope_and_changes_nothing(live_server: LiveServer,
                                                           case: RejectedMfaWrite) -> None:
    sdk = genauth_client(live_server)  # lang unset: English messages
    user = create(sdk)
    set_status(sdk, user["userId"], MFA_STATUS_BEFORE)
    before = status(sdk, user["userId"])

    body = assert_envelope(sdk.set_users_mfa_status(case.trigger_data(), user["userId"], case.user_id_type))
    assert (body["statusCode"], body.get("apiCode"), body["data"]) == (400, case.api_code, None), body
    assert body["message"].startswith(f"Invalid parameter {case.field_name}"), body
    assert status(sdk, user["userId"]) == before


def test_version_is_an_integer_the_sdk_passes_through(live_server: LiveServer) -> None:
    """The SDK cannot send ``version``; it returns the one the server reports, unchanged."""
    sdk = genauth_client(live_server)
    user = create(sdk)
    versions = [status(sdk, user["userId"])["version"]]
    versions.append(set_status(sdk, user["userId"], MFA_STATUS_BEFORE))
    versions.append(status(sdk, user["userId"])["version"])
    versions.append(set_status(sdk, user["userId"], SEED_MFA_TRIGGER_DATA))
    refused = sdk.set_users_mfa_status({"applicationMfa": []}, user["userId"])  # no mfaToken
    assert assert_envelope(refused)["statusCode"] == 400
    versions.append(status(sdk, user["userId"])["version"])
    assert all(type(v) is int for v in versions), versions
    assert versions == [0, 1, 1, 2, 2]
