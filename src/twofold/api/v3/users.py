"""User directory endpoints (docs/wire.md#user-endpoints, U1-U14).  Thin: parse, call the service, render."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body, Depends
from starlette.responses import Response

from twofold.api import envelope
from twofold.api.deps import CallerDep, ServicesDep
from twofold.api.query import query
from twofold.api.routing import LeanRoute
from twofold.api.v3 import PREFIX
from twofold.api.v3.dto import custom_field_dto, identity_dto, login_entry_dto, user_dto
from twofold.api.v3.user_commands import (
    create_options,
    create_user_input,
    custom_field_input,
    list_users_input,
    update_user_input,
)
from twofold.schemas.common import ShortText, UserRefText, WireModel, WordText
from twofold.schemas.custom_fields import (
    CustomDataQuery,
    CustomFieldsQuery,
    SetCustomDataRequest,
    SetCustomFieldsRequest,
)
from twofold.schemas.users import (
    CreateUserRequest,
    CreateUsersBatchRequest,
    DeleteUsersBatchRequest,
    GetUserBatchQuery,
    GetUserQuery,
    IsUserExistsRequest,
    LinkIdentityRequest,
    ListUsersQuery,
    ListUsersRequest,
    LoginHistoryQuery,
    UnlinkIdentityRequest,
    UpdateUserRequest,
    UpdateUsersBatchRequest,
    UserRefQuery,
)
from twofold.services.login_history import LoginQuery

router = APIRouter(prefix=PREFIX, tags=["users"], route_class=LeanRoute)


@router.post("/create-user")
async def create_user(body: CreateUserRequest, caller: CallerDep, services: ServicesDep) -> Response:
    views = await services.users.create_users(caller, [create_user_input(body)], create_options(body.options))
    return envelope.ok(user_dto(views[0], with_custom_data=body.custom_data is not None))


@router.post("/create-users-batch")
async def create_users_batch(
    body: CreateUsersBatchRequest, caller: CallerDep, services: ServicesDep
) -> Response:
    items = [create_user_input(item) for item in body.items]
    views = await services.users.create_users(
        caller, items, create_options(body.options), field_prefix="list"
    )
    return envelope.ok([user_dto(v) for v in views])


@router.get("/get-user")
async def get_user(
    q: Annotated[GetUserQuery, Depends(query(GetUserQuery))], caller: CallerDep, services: ServicesDep
) -> Response:
    view = await services.users.get_user(caller.pool_id, q.user_id, q.user_id_type, bool(q.with_identities))
    return envelope.ok(
        user_dto(view, bool(q.with_custom_data), bool(q.flat_custom_data), bool(q.with_department_ids))
    )


@router.get("/get-user-batch")
async def get_user_batch(
    q: Annotated[GetUserBatchQuery, Depends(query(GetUserBatchQuery))],
    caller: CallerDep,
    services: ServicesDep,
) -> Response:
    views = await services.users.get_users(
        caller.pool_id, q.user_ids, q.user_id_type, bool(q.with_identities)
    )
    flags = (bool(q.with_custom_data), bool(q.flat_custom_data), bool(q.with_department_ids))
    return envelope.ok([user_dto(v, *flags) for v in views])


@router.post("/list-users")
async def list_users(
    caller: CallerDep, services: ServicesDep, body: Annotated[ListUsersRequest | None, Body()] = None
) -> Response:
    request = body or ListUsersRequest()
    total, views = await services.users.list_users(caller.pool_id, list_users_input(request))
    options = request.options
    custom = bool(options and options.with_custom_data)
    flat = bool(options and options.flat_custom_data)
    departments = bool(options and options.with_department_ids)
    return envelope.page([user_dto(v, custom, flat, departments) for v in views], total)


@router.get("/list-users")
async def list_users_legacy(
    q: Annotated[ListUsersQuery, Depends(query(ListUsersQuery))], caller: CallerDep, services: ServicesDep
) -> Response:
    total, views = await services.users.list_users_legacy(
        caller.pool_id,
        q.page,
        q.limit,
        q.status,
        q.updated_at_start,
        q.updated_at_end,
        bool(q.with_identities),
    )
    return envelope.page(
        [
            user_dto(v, bool(q.with_custom_data), with_department_ids=bool(q.with_department_ids))
            for v in views
        ],
        total,
    )


@router.post("/update-user")
async def update_user(body: UpdateUserRequest, caller: CallerDep, services: ServicesDep) -> Response:
    id_type = body.options.user_id_type if body.options else None
    view = await services.users.update_user(caller, update_user_input(body), id_type)
    return envelope.ok(user_dto(view, with_custom_data=body.custom_data is not None))


@router.post("/update-user-batch")
async def update_user_batch(
    body: UpdateUsersBatchRequest, caller: CallerDep, services: ServicesDep
) -> Response:
    items = [update_user_input(item) for item in body.items]
    views = await services.users.update_users(caller, items, None, prefix="list.")
    return envelope.ok([user_dto(v) for v in views])


@router.post("/delete-users-batch")
async def delete_users_batch(
    body: DeleteUsersBatchRequest, caller: CallerDep, services: ServicesDep
) -> Response:
    id_type = body.options.user_id_type if body.options else None
    await services.users.delete_users(caller, body.user_ids, id_type)
    return envelope.ok({"success": True})


@router.post("/is-user-exists")
async def is_user_exists(body: IsUserExistsRequest, caller: CallerDep, services: ServicesDep) -> Response:
    exists = await services.users.is_user_exists(
        caller.pool_id, body.username, body.email, body.phone, body.external_id
    )
    return envelope.ok({"exists": exists})


@router.post("/link-identity")
async def link_identity(body: LinkIdentityRequest, caller: CallerDep, services: ServicesDep) -> Response:
    await services.users.link_identity(caller, body.user_id, body.ext_idp_id, body.user_id_in_idp, body.type)
    return envelope.ok({"success": True})


@router.post("/unlink-identity")
async def unlink_identity(body: UnlinkIdentityRequest, caller: CallerDep, services: ServicesDep) -> Response:
    await services.users.unlink_identity(caller, body.user_id, body.ext_idp_id)
    return envelope.ok({"success": True})


@router.get("/get-user-identities")
async def get_user_identities(
    q: Annotated[UserRefQuery, Depends(query(UserRefQuery))], caller: CallerDep, services: ServicesDep
) -> Response:
    identities = await services.users.get_identities(caller.pool_id, q.user_id, q.user_id_type)
    return envelope.ok([identity_dto(i) for i in identities])


@router.get("/get-user-login-history")
async def get_user_login_history(
    q: Annotated[LoginHistoryQuery, Depends(query(LoginHistoryQuery))],
    caller: CallerDep,
    services: ServicesDep,
) -> Response:
    """docs/signin.md#login-history: the user's sign-in outcomes, newest first (400/404 like GenAuth)."""
    query = LoginQuery(q.app_id, q.client_ip, None, q.start, q.end, q.page, q.limit)
    entries, total = await services.login_history.list_for_user(caller.pool_id, q.user_id, q.user_id_type, query)
    return envelope.page([login_entry_dto(e) for e in entries], total)


class SyncRelationRequest(WireModel):
    user_id: UserRefText
    user_id_type: WordText | None = None
    provider: WordText
    user_id_in_idp: ShortText


@router.post("/twofold/set-sync-relation", tags=["twofold"])
async def set_sync_relation(body: SyncRelationRequest, caller: CallerDep, services: ServicesDep) -> Response:
    """Twofold extension: bind ``<provider>:<userIdInIdp>`` to a user, for ``userIdType=sync_relation``."""
    await services.users.set_sync_relation(
        caller, body.user_id, body.user_id_type, body.provider, body.user_id_in_idp
    )
    return envelope.ok({"success": True})


# ----------------------------------------------------------------------------------- custom fields
@router.post("/set-custom-fields")
async def set_custom_fields(
    body: SetCustomFieldsRequest, caller: CallerDep, services: ServicesDep
) -> Response:
    fields = await services.users.set_custom_fields(caller, [custom_field_input(i) for i in body.items])
    return envelope.ok([custom_field_dto(f) for f in fields])


@router.get("/get-custom-fields")
async def get_custom_fields(
    q: Annotated[CustomFieldsQuery, Depends(query(CustomFieldsQuery))],
    caller: CallerDep,
    services: ServicesDep,
) -> Response:
    fields = await services.users.get_custom_fields(caller.pool_id, q.target_type)
    return envelope.ok([custom_field_dto(f) for f in fields])


@router.post("/set-custom-data")
async def set_custom_data(body: SetCustomDataRequest, caller: CallerDep, services: ServicesDep) -> Response:
    values = {item.key: item.value for item in body.items}
    await services.users.set_custom_data(caller, body.target_type, body.target_identifier, values)
    return envelope.ok({"success": True})


@router.get("/get-custom-data")
async def get_custom_data(
    q: Annotated[CustomDataQuery, Depends(query(CustomDataQuery))], caller: CallerDep, services: ServicesDep
) -> Response:
    data = await services.users.get_custom_data(caller.pool_id, q.target_type, q.target_identifier)
    return envelope.ok(data)
