"""External identities and sync relations of users: link, unlink, bind."""

from __future__ import annotations

from twofold.domain.commands import IdentityInput
from twofold.domain.identifiers import UserIdType, parse_user_id_type, parse_user_ref
from twofold.errors import IdentityAlreadyLinked, InvalidParameter
from twofold.services import audit
from twofold.services.context import Caller
from twofold.services.user_support import UserServiceBase, conflict_from, identity_from
from twofold.storage.errors import UniqueViolation
from twofold.storage.repositories import users as users_repo


class UserIdentities(UserServiceBase):
    async def link_identity(
        self, caller: Caller, user_id: str, ext_idp_id: str, user_id_in_idp: str, type_: str | None
    ) -> None:
        ref = parse_user_ref(user_id, UserIdType.USER_ID)
        for name, value in (("extIdpId", ext_idp_id), ("userIdInIdp", user_id_in_idp)):
            if not value.strip():
                raise InvalidParameter(name)
        ident = IdentityInput(
            ext_idp_id=ext_idp_id, provider="generic", type=type_ or "generic", user_id_in_idp=user_id_in_idp
        )
        now = self._clock()
        try:
            async with self._db.transaction() as conn:
                user = await self.resolve(conn, caller.pool_id, ref)
                owners = await users_repo.identity_owners(conn, caller.pool_id, ext_idp_id, user_id_in_idp)
                if owners - {user.id}:
                    raise IdentityAlreadyLinked()
                existing = (await users_repo.list_identities(conn, caller.pool_id, [user.id]))[user.id]
                if any(
                    i.ext_idp_id == ext_idp_id and i.user_id_in_idp == user_id_in_idp and i.type == ident.type
                    for i in existing
                ):
                    return
                await users_repo.insert_identity(conn, caller.pool_id, identity_from(user.id, ident, now))
                await audit.record(
                    conn,
                    self._clock,
                    caller,
                    "user.identity.link",
                    user.id,
                    after={"extIdpId": ext_idp_id, "userIdInIdp": user_id_in_idp, "type": ident.type},
                )
        except UniqueViolation as exc:
            raise conflict_from(exc) from None

    async def unlink_identity(self, caller: Caller, user_id: str, ext_idp_id: str) -> None:
        ref = parse_user_ref(user_id, UserIdType.USER_ID)
        async with self._db.transaction() as conn:
            user = await self.resolve(conn, caller.pool_id, ref)
            removed = await users_repo.delete_identities(conn, caller.pool_id, user.id, ext_idp_id)
            if removed:
                await audit.record(
                    conn,
                    self._clock,
                    caller,
                    "user.identity.unlink",
                    user.id,
                    before={"extIdpId": ext_idp_id, "removed": removed},
                )

    async def set_sync_relation(
        self,
        caller: Caller,
        user_id: str | None,
        user_id_type: str | None,
        provider: str,
        user_id_in_idp: str,
    ) -> None:
        ref = parse_user_ref(user_id, parse_user_id_type(user_id_type))
        if not provider.strip() or ":" in provider:
            raise InvalidParameter("provider")
        if not user_id_in_idp.strip():
            raise InvalidParameter("userIdInIdp")
        try:
            async with self._db.transaction() as conn:
                user = await self.resolve(conn, caller.pool_id, ref)
                await users_repo.upsert_sync_relation(
                    conn, caller.pool_id, provider, user_id_in_idp, user.id, self._clock()
                )
                await audit.record(
                    conn,
                    self._clock,
                    caller,
                    "user.sync_relation.set",
                    user.id,
                    after={"provider": provider, "userIdInIdp": user_id_in_idp},
                )
        except UniqueViolation as exc:
            raise conflict_from(exc) from None
