"""Finding users: one by any of its identifiers, several at once, or whether one exists."""

from __future__ import annotations

from collections.abc import Sequence

from twofold.domain.identifiers import UserIdType, parse_user_id_type, parse_user_ref
from twofold.domain.users import Identity
from twofold.errors import InvalidParameter
from twofold.services.user_support import UserServiceBase, UserView
from twofold.storage.repositories import users as users_repo


class UserLookup(UserServiceBase):
    async def get_user(
        self, pool_id: str, user_id: str | None, user_id_type: str | None, with_identities: bool = False
    ) -> UserView:
        ref = parse_user_ref(user_id, parse_user_id_type(user_id_type))
        async with self._db.read() as conn:
            user = await self.resolve(conn, pool_id, ref)
            identities = (
                (await users_repo.list_identities(conn, pool_id, [user.id]))[user.id]
                if with_identities
                else None
            )
        return UserView(user, identities)

    async def get_users(
        self,
        pool_id: str,
        user_ids: Sequence[str] | None,
        user_id_type: str | None,
        with_identities: bool = False,
    ) -> list[UserView]:
        if not user_ids:
            raise InvalidParameter("userIds")
        id_type = parse_user_id_type(user_id_type)
        refs = [parse_user_ref(uid, id_type, "userIds") for uid in user_ids]
        views: list[UserView] = []
        async with self._db.read() as conn:
            for ref in refs:
                found = await users_repo.find(conn, pool_id, ref)
                if len(found) == 1:
                    views.append(UserView(found[0]))
            if with_identities:
                identities = await users_repo.list_identities(conn, pool_id, [v.user.id for v in views])
                for view in views:
                    view.identities = identities[view.user.id]
        return views

    async def is_user_exists(
        self,
        pool_id: str,
        username: str | None,
        email: str | None,
        phone: str | None,
        external_id: str | None,
    ) -> bool:
        refs = []
        if username:
            refs.append(parse_user_ref(username, UserIdType.USERNAME, "username"))
        if email:
            refs.append(parse_user_ref(email, UserIdType.EMAIL, "email"))
        if phone:
            refs.append(parse_user_ref(phone, UserIdType.PHONE, "phone"))
        if external_id:
            refs.append(parse_user_ref(external_id, UserIdType.EXTERNAL_ID, "externalId"))
        if not refs:
            raise InvalidParameter("username, email, phone, externalId")
        async with self._db.read() as conn:
            for ref in refs:
                if await users_repo.find(conn, pool_id, ref):
                    return True
        return False

    async def get_identities(
        self, pool_id: str, user_id: str | None, user_id_type: str | None
    ) -> list[Identity]:
        view = await self.get_user(pool_id, user_id, user_id_type, with_identities=True)
        return view.identities or []
