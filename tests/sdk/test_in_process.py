"""The SDK against the real app in-process (``httpx.ASGITransport``): every backend, both auth schemes."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any, Literal

import httpx
import pyotp
import pytest
from fastapi import FastAPI

from tests.conftest import BOOTSTRAP_KEY_ID, BOOTSTRAP_SECRET
from tests.sdk.conftest import in_process_client, person
from twofold.services.container import Services
from twofold_client import (
    ApiError,
    Application,
    ApplicationMfa,
    AsyncManagementClient,
    AuditEvent,
    AuthenticationError,
    BadRequestError,
    ConflictError,
    Factor,
    Identity,
    ImportOtpItem,
    MfaSettings,
    MfaStatus,
    MfaTriggerData,
    NotFoundError,
    OtpData,
    Page,
    PermissionDeniedError,
    TwofoldError,
    User,
    UserIdType,
    UserMfaInfo,
    VersionConflictError,
)


def trigger(**overrides: object) -> MfaTriggerData:
    fields: dict[str, object] = {
        "mfa_token": "not-stored",
        "totp_mfa_enabled": True,
        "application_mfa": [ApplicationMfa(mfa_policy=Factor.EMAIL, status=1, sort=0)],
    }
    fields.update(overrides)
    return MfaTriggerData.model_validate(fields)


async def test_both_auth_schemes_reach_the_app(sdk: AsyncManagementClient) -> None:
    assert await sdk.get_global_mfa_settings() == MfaSettings(enabled_factors=[])


async def test_create_get_update_list_and_delete_users(sdk: AsyncManagementClient) -> None:
    fields = person(custom_data=None, email_verified=True)
    user = await sdk.create_user(**fields)
    assert isinstance(user, User) and len(user.user_id) == 24
    assert (user.username, user.email, user.status) == (fields["username"], fields["email"], "Activated")
    assert isinstance(user.created_at, datetime) and user.email_verified is True
    by_email = await sdk.get_user(fields["email"].upper(), UserIdType.EMAIL)
    by_name = await sdk.get_user(fields["username"], "username")
    assert by_email.user_id == by_name.user_id == user.user_id

    other = await sdk.create_user(**person())
    batch = await sdk.get_user_batch([user.user_id, other.user_id])
    assert sorted(u.user_id for u in batch) == sorted([user.user_id, other.user_id])
    assert [u.user_id for u in await sdk.get_user_batch(f"{user.username},{other.username}", "username")]

    page = await sdk.list_users(options={"pagination": {"page": 1, "limit": 1}})
    assert isinstance(page, Page) and page.total_count == 2 and len(page.list) == 1
    found = await sdk.list_users(
        advanced_filter=[{"field": "username", "operator": "EQUAL", "value": user.username}]
    )
    assert [u.user_id for u in found.list] == [user.user_id]
    legacy = await sdk.list_users_legacy(page=1, limit=50, with_identities=False)
    assert legacy.total_count == 2

    updated = await sdk.update_user(fields["email"], nickname="Renamed", options={"userIdType": "email"})
    assert (updated.user_id, updated.nickname) == (user.user_id, "Renamed")
    assert await sdk.is_user_exists(username=fields["username"]) is True
    assert await sdk.is_user_exists(email="nobody@example.com") is False

    await sdk.delete_users_batch([other.user_id])
    with pytest.raises(NotFoundError):
        await sdk.get_user(other.user_id)


async def test_custom_data_is_returned_on_request_and_flattened_into_model_extra(
    sdk: AsyncManagementClient,
) -> None:
    user = await sdk.create_user(**person(custom_data={"dept": "ops", "level": 3}))
    assert user.custom_data == {"dept": "ops", "level": 3}  # create answers with what it stored, like GenAuth
    read = await sdk.get_user(user.user_id, with_custom_data=True, flat_custom_data=True)
    assert read.custom_data == {"dept": "ops", "level": 3}
    assert read.model_extra == {"dept": "ops", "level": 3}


async def test_batch_create_and_update(sdk: AsyncManagementClient) -> None:
    a, b = person(), person()
    created = await sdk.create_users_batch(
        [{"username": a["username"], "email": a["email"]}, {"username": b["username"], "externalId": "e-1"}]
    )
    assert [u.username for u in created] == [a["username"], b["username"]]
    updated = await sdk.update_user_batch([{"userId": created[0].user_id, "nickname": "Batch"}])
    assert [(u.user_id, u.nickname) for u in updated] == [(created[0].user_id, "Batch")]


async def test_unknown_user_raises_not_found_with_api_code_and_request_id(sdk: AsyncManagementClient) -> None:
    with pytest.raises(NotFoundError) as caught:
        await sdk.get_user("000000000000000000000000")
    error = caught.value
    assert isinstance(error, ApiError) and isinstance(error, TwofoldError)
    assert (error.status_code, error.api_code, error.message) == (404, 40401, "User does not exist")
    assert error.request_id and error.request_id in str(error)
    assert error.body["requestId"] == error.request_id


async def test_malformed_identifier_raises_bad_request(sdk: AsyncManagementClient) -> None:
    with pytest.raises(BadRequestError) as caught:
        await sdk.get_user("test#x.com", UserIdType.EMAIL)
    assert (caught.value.status_code, caught.value.api_code) == (400, 40001)


async def test_duplicate_user_raises_conflict_not_version_conflict(sdk: AsyncManagementClient) -> None:
    fields = person()
    await sdk.create_user(**fields)
    with pytest.raises(ConflictError) as caught:
        await sdk.create_user(**person(username=fields["username"]))
    assert not isinstance(caught.value, VersionConflictError)
    assert (caught.value.status_code, caught.value.api_code) == (409, 40901)


async def test_mfa_status_round_trip_with_typed_models(sdk: AsyncManagementClient) -> None:
    user = await sdk.create_user(**person())
    before = await sdk.get_user_mfa_status(user.user_id)
    assert isinstance(before, MfaStatus) and before.version == 0
    version = await sdk.set_users_mfa_status(trigger(mfa_email="Codes@Example.com"), user.user_id, version=0)
    assert version == 1
    after = await sdk.get_user_mfa_status(user.username or "", UserIdType.USERNAME)
    assert after.application_mfa == [ApplicationMfa(mfa_policy=Factor.EMAIL, status=1, sort=0)]
    assert (after.mfa_email, after.totp_mfa_enabled, after.version) == ("codes@example.com", True, 1)
    assert (after.username, after.mfa_token) == (user.username, "")


async def test_users_can_be_created_with_an_initial_mfa_status_and_sync_relation(
    sdk: AsyncManagementClient,
) -> None:
    initial = MfaTriggerData(application_mfa=[ApplicationMfa(mfa_policy=Factor.SMS, status=1, sort=0)])
    user = await sdk.create_user(
        **person(mfa_trigger_data=initial, sync_relations=[{"provider": "lark", "userIdInIdp": "ou_new"}])
    )
    status = await sdk.get_user_mfa_status(user.user_id)
    assert (status.application_mfa, status.version) == (initial.application_mfa, 1)
    assert (await sdk.get_user("lark:ou_new", UserIdType.SYNC_RELATION)).user_id == user.user_id


async def test_stale_version_raises_version_conflict(sdk: AsyncManagementClient) -> None:
    user = await sdk.create_user(**person())
    read = await sdk.get_user_mfa_status(user.user_id)
    assert await sdk.set_users_mfa_status(trigger(), user.user_id, version=read.version) == 1
    with pytest.raises(VersionConflictError) as caught:
        await sdk.set_users_mfa_status(trigger(face_mfa_enabled=True), user.user_id, version=read.version)
    assert isinstance(caught.value, ConflictError)
    assert (caught.value.status_code, caught.value.api_code) == (409, 40903)
    assert (await sdk.get_user_mfa_status(user.user_id)).face_mfa_enabled is not True
    # read-modify-write with what was read back (plus a token) succeeds
    current = await sdk.get_user_mfa_status(user.user_id)
    changed = current.model_copy(update={"mfa_token": "x", "face_mfa_enabled": True})
    assert await sdk.set_users_mfa_status(changed, user.user_id, version=current.version) == 2
    # a GenAuth-style dict works too, and a write without version is unconditional
    genauth_style: dict[str, Any] = {"mfaToken": "x", "applicationMfa": [], "mfaPhone": None}
    assert await sdk.set_users_mfa_status(genauth_style, user.user_id, "user_id") == 3


async def test_factor_settings_applications_and_trigger_data(sdk: AsyncManagementClient) -> None:
    settings = await sdk.update_global_mfa_settings([Factor.OTP, "SMS", Factor.EMAIL])
    assert settings.enabled_factors == [Factor.OTP, Factor.SMS, Factor.EMAIL]
    assert (await sdk.disable_global_mfa_settings([Factor.SMS])).enabled_factors == [Factor.OTP, Factor.EMAIL]
    assert (await sdk.get_global_mfa_settings()).enabled_factors == [Factor.OTP, Factor.EMAIL]

    app = await sdk.create_application(
        "Portal", app_identifier="portal", app_type="web", redirect_uris=["https://portal.example.com/cb"]
    )
    assert isinstance(app, Application) and (app.app_name, app.app_identifier) == ("Portal", "portal")
    assert app.redirect_uris == ["https://portal.example.com/cb"]
    factors = await sdk.update_application_mfa_settings(
        app.app_id, enabled_factors=[Factor.FACE], disabled_factors=[Factor.EMAIL]
    )
    assert factors.enabled_factors == [Factor.OTP, Factor.FACE]
    assert (await sdk.get_application(app.app_id)).mfa_enabled_factors == [Factor.OTP, Factor.FACE]
    listed = await sdk.list_applications(
        page=1, limit=10, is_integrate_app=False, is_self_built_app=False, sso_enabled=False
    )
    assert listed.total_count == 1 and listed.list[0].app_id == app.app_id
    with pytest.raises(NotFoundError) as caught:
        await sdk.get_application("nope")
    assert caught.value.api_code == 40402

    user = await sdk.create_user(**person())
    await sdk.set_users_mfa_status(
        trigger(
            application_mfa=[
                ApplicationMfa(mfa_policy=Factor.EMAIL, status=1, sort=0),
                ApplicationMfa(mfa_policy=Factor.FACE, status=1, sort=1),
            ]
        ),
        user.user_id,
    )
    seen = await sdk.get_mfa_trigger_data(app.app_id, user.user_id)
    assert [e.mfa_policy for e in seen.application_mfa] == [Factor.FACE]
    info = await sdk.get_user_mfa_info(user.user_id)
    assert isinstance(info, UserMfaInfo) and info.email_mfa_status == "enabled"
    assert info.totp_status == "disabled"  # switched on, but no secret bound


async def test_import_otp_then_read_the_secret(sdk: AsyncManagementClient) -> None:
    user, other = await sdk.create_user(**person()), await sdk.create_user(**person())
    secret, other_secret = pyotp.random_base32(), pyotp.random_base32()
    await sdk.import_otp(
        [
            ImportOtpItem(user_id=user.user_id, otp=OtpData(secret=secret, recovery_code="rc-1")),
            {"userId": other.user_id, "otp": {"secret": other_secret}},
        ]
    )
    assert await sdk.get_otp_secret_by_user(user.username or "", UserIdType.USERNAME) == secret
    assert await sdk.get_otp_secret_by_user(other.user_id) == other_secret
    with pytest.raises(BadRequestError) as caught:
        await sdk.import_otp([ImportOtpItem(user_id=user.user_id, otp=OtpData(secret="not base32!"))])
    assert caught.value.api_code == 40004
    await sdk.update_global_mfa_settings([Factor.OTP])
    await sdk.set_users_mfa_status(trigger(application_mfa=[]), user.user_id)
    assert (await sdk.get_user_mfa_info(user.user_id)).totp_status == "enabled"


async def test_identities_sync_relations_and_login_history(sdk: AsyncManagementClient) -> None:
    user = await sdk.create_user(**person())
    await sdk.link_identity("ou_1", user.user_id, "idp-1", type="openid")
    identities = await sdk.get_user_identities(user.user_id)
    assert [(i.ext_idp_id, i.user_id_in_idp, i.type) for i in identities] == [("idp-1", "ou_1", "openid")]
    assert isinstance(identities[0], Identity)
    assert (await sdk.get_user("idp-1:ou_1", UserIdType.IDENTITY)).user_id == user.user_id
    with_ids = await sdk.get_user(user.user_id, with_identities=True)
    assert with_ids.identities is not None and with_ids.identities[0].user_id_in_idp == "ou_1"
    assert (await sdk.get_user(user.user_id)).identities is None

    await sdk.set_sync_relation(user.user_id, "lark", "ou_sync:1")
    assert (await sdk.get_user("lark:ou_sync:1", UserIdType.SYNC_RELATION)).user_id == user.user_id

    await sdk.unlink_identity(user.user_id, "idp-1")
    assert await sdk.get_user_identities(user.user_id) == []
    history = await sdk.get_user_login_history(user.user_id, page=1, limit=10)
    assert (history.list, history.total_count) == ([], 0)


async def test_audit_events_are_typed_and_paged(sdk: AsyncManagementClient) -> None:
    user = await sdk.create_user(**person())
    await sdk.set_users_mfa_status(trigger(), user.user_id)
    events = await sdk.list_audit_events(user_id=user.user_id)
    assert [e.action for e in events] == ["mfa.status.set", "user.create"]
    newest = events[0]
    assert isinstance(newest, AuditEvent) and isinstance(newest.at, datetime)
    assert (newest.actor, newest.user_id) == (BOOTSTRAP_KEY_ID, user.user_id) and newest.request_id
    older = await sdk.list_audit_events(user_id=user.user_id, before_id=newest.id, limit=5)
    assert [e.id for e in older] == [events[1].id]
    assert [e.action for e in await sdk.list_audit_events(action="user.create", limit=1)] == ["user.create"]


async def test_chinese_messages_on_request(app: FastAPI) -> None:
    async with in_process_client(app, lang="zh-CN", auth="signature") as client:
        with pytest.raises(NotFoundError) as caught:
            await client.get_user("000000000000000000000000")
    assert caught.value.message == "用户不存在"


@pytest.mark.parametrize("auth", ["token", "signature"])
async def test_wrong_secret_raises_authentication_error(
    app: FastAPI, auth: Literal["token", "signature"]
) -> None:
    counter = CountingTransport(app)
    async with AsyncManagementClient(
        BOOTSTRAP_KEY_ID, "wrong-secret-0123456789", "http://twofold.test", auth=auth, transport=counter
    ) as client:
        with pytest.raises(AuthenticationError) as caught:
            await client.get_global_mfa_settings()
    assert (caught.value.status_code, caught.value.api_code) == (401, 40100)
    assert len(counter.paths) == 1  # a refused token request is not repeated


async def test_permission_is_checked_for_other_keys(app: FastAPI, services: Services) -> None:
    pool, _ = await services.keys.ensure_default_pool()
    plain = await services.keys.create_key(pool.id, "no otp read")
    async with AsyncManagementClient(
        plain.id, plain.secret, "http://twofold.test", transport=httpx.ASGITransport(app=app)
    ) as client:
        user = await client.create_user(**person(otp={"secret": pyotp.random_base32()}))
        with pytest.raises(PermissionDeniedError) as caught:
            await client.get_otp_secret_by_user(user.user_id)
    assert (caught.value.status_code, caught.value.api_code) == (403, 40300)


class CountingTransport(httpx.AsyncBaseTransport):
    """The real app behind ``ASGITransport``, remembering each request path."""

    def __init__(self, app: FastAPI) -> None:
        self._inner = httpx.ASGITransport(app=app)
        self.paths: list[str] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.paths.append(request.url.path)
        return await self._inner.handle_async_request(request)


@pytest.fixture
def counter(app: FastAPI) -> Iterator[CountingTransport]:
    yield CountingTransport(app)


async def test_refused_token_is_fetched_again_once_and_the_call_repeated(counter: CountingTransport) -> None:
    async with AsyncManagementClient(
        BOOTSTRAP_KEY_ID, BOOTSTRAP_SECRET, "http://twofold.test", transport=counter
    ) as client:
        user = await client.create_user(**person())
        client._tokens._token = "corrupted.token.value"  # type: ignore[union-attr]  # as if revoked
        assert (await client.get_user(user.user_id)).user_id == user.user_id
        await client.get_user(user.user_id)  # the new token is cached
    token_calls = [p for p in counter.paths if p.endswith("/get-management-token")]
    assert len(token_calls) == 2
    assert counter.paths.count("/api/v3/get-user") == 3  # one refused, then two accepted
