"""Changing and deleting users."""

from __future__ import annotations

from collections.abc import Sequence

from twofold.domain.commands import UpdateUserInput
from twofold.domain.custom_fields import TargetType
from twofold.domain.identifiers import parse_user_id_type, parse_user_ref
from twofold.errors import InvalidParameter, MissingUserIdentifier
from twofold.services import audit
from twofold.services.context import Caller
from twofold.services.passwords import hash_password
from twofold.services.user_support import (
    UserServiceBase,
    UserView,
    apply_custom_data,
    apply_identifiers,
    apply_profile,
    conflict_from,
    snapshot,
)
from twofold.storage.errors import UniqueViolation
from twofold.storage.repositories import custom_fields as custom_fields_repo
from twofold.storage.repositories import users as users_repo


class UserUpdates(UserServiceBase):
    async def update_user(
        self, caller: Caller, item: UpdateUserInput, user_id_type: str | None, prefix: str = ""
    ) -> UserView:
        return (await self.update_users(caller, [item], user_id_type, prefix))[0]

    async def update_users(
        self, caller: Caller, items: Sequence[UpdateUserInput], user_id_type: str | None, prefix: str = ""
    ) -> list[UserView]:
        if not items:
            raise InvalidParameter("list")
        id_type = parse_user_id_type(user_id_type, "options.userIdType")
        refs = [parse_user_ref(item.user_id, id_type, f"{prefix}userId") for item in items]
        hashes = [
            await hash_password(i.fields.password) if i.fields.password is not None else None for i in items
        ]
        now = self._clock()
        views = []
        try:
            async with self._db.transaction() as conn:
                definitions = await custom_fields_repo.definitions(conn, caller.pool_id, TargetType.USER)
                for item, ref, password_hash in zip(items, refs, hashes, strict=True):
                    user = await self.resolve(conn, caller.pool_id, ref)
                    before = snapshot(user)
                    apply_identifiers(user, item.fields, prefix)
                    if not user.has_login_identifier():
                        raise MissingUserIdentifier()
                    apply_profile(user, item.fields, prefix)
                    apply_custom_data(user, item.fields, definitions)
                    if password_hash is not None:
                        user.password_hash = password_hash
                        user.profile["passwordLastSetAt"] = now
                    user.updated_at = now
                    await users_repo.update(conn, user)
                    for rel in item.fields.sync_relations:
                        await users_repo.upsert_sync_relation(
                            conn, caller.pool_id, rel.provider, rel.user_id_in_idp, user.id, now
                        )
                    await audit.record(
                        conn, self._clock, caller, "user.update", user.id, before, snapshot(user)
                    )
                    views.append(UserView(user))
        except UniqueViolation as exc:
            raise conflict_from(exc) from None
        return views

    async def delete_users(
        self, caller: Caller, user_ids: Sequence[str] | None, user_id_type: str | None
    ) -> None:
        if not user_ids:
            raise InvalidParameter("userIds")
        id_type = parse_user_id_type(user_id_type, "options.userIdType")
        refs = [parse_user_ref(uid, id_type, "userIds") for uid in user_ids]
        async with self._db.transaction() as conn:
            users = [await self.resolve(conn, caller.pool_id, ref) for ref in refs]
            await users_repo.delete(conn, caller.pool_id, list(dict.fromkeys(u.id for u in users)))
            for user in users:
                await audit.record(conn, self._clock, caller, "user.delete", user.id, before=snapshot(user))
