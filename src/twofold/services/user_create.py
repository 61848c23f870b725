"""Creating users: one, or a batch in one transaction, with identities, TOTP and MFA status attached."""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from twofold.domain.commands import (
    CreateUserInput,
    CreateUserOptionsInput,
    IdentityInput,
    SyncRelationInput,
)
from twofold.domain.custom_fields import TargetType
from twofold.domain.mfa import MfaStatus
from twofold.domain.otp import normalize_totp_secret
from twofold.domain.users import DEFAULT_PHOTO, User, UserStatus
from twofold.errors import IdentityAlreadyLinked, InvalidParameter, MissingUserIdentifier
from twofold.services import audit, mfa_writes
from twofold.services.context import Caller, new_id
from twofold.services.mfa_input import blank_to_none, parse_trigger_data
from twofold.services.passwords import hash_password, is_argon2_hash
from twofold.services.totp_check import recovery_code_digest
from twofold.services.user_support import (
    UserServiceBase,
    UserView,
    apply_custom_data,
    apply_identifiers,
    apply_profile,
    conflict_from,
    identity_from,
    snapshot,
)
from twofold.storage.database import Connection
from twofold.storage.errors import UniqueViolation
from twofold.storage.repositories import audit as audit_repo
from twofold.storage.repositories import custom_fields as custom_fields_repo
from twofold.storage.repositories import otp as otp_repo
from twofold.storage.repositories import users as users_repo


@dataclass
class _Prepared:
    user: User
    command: CreateUserInput
    prefix: str
    identities: list[IdentityInput] = field(default_factory=list)
    sync_relations: list[SyncRelationInput] = field(default_factory=list)
    otp: tuple[str, str | None] | None = None
    mfa: MfaStatus | None = None


class UserCreation(UserServiceBase):
    async def create_users(
        self,
        caller: Caller,
        items: Sequence[CreateUserInput],
        options: CreateUserOptionsInput | None = None,
        field_prefix: str = "",
    ) -> list[UserView]:
        """Create every user or none (a batch is one transaction)."""
        if not items:
            raise InvalidParameter(field_prefix.rstrip(".") or "list")
        prepared = []
        for index, item in enumerate(items):
            prefix = f"{field_prefix}[{index}]." if field_prefix else ""
            prepared.append(
                await self._prepare(caller.pool_id, item, options or CreateUserOptionsInput(), prefix)
            )
        now = self._clock()
        try:
            async with self._db.transaction() as conn:
                definitions = await custom_fields_repo.definitions(conn, caller.pool_id, TargetType.USER)
                for p in prepared:
                    apply_custom_data(p.user, p.command.fields, definitions)
                await users_repo.insert_many(conn, [p.user for p in prepared])
                # every user.create event in one round trip, before each user's mfa.status.set
                await audit_repo.insert_many(
                    conn,
                    [audit.event(self._clock, caller, "user.create", p.user.id, after=_created(p)) for p in prepared],
                )
                for p in prepared:
                    await self._attach(conn, caller.pool_id, p, now)
                await otp_repo.upsert_many(
                    conn, caller.pool_id, [(p.user.id, *p.otp) for p in prepared if p.otp is not None], now
                )
                await mfa_writes.write_initial(
                    conn, self._clock, caller, [(p.user.id, p.mfa) for p in prepared if p.mfa is not None]
                )
        except UniqueViolation as exc:
            raise conflict_from(exc) from None
        return [UserView(p.user) for p in prepared]

    async def _prepare(
        self, pool_id: str, item: CreateUserInput, opts: CreateUserOptionsInput, prefix: str
    ) -> _Prepared:
        now = self._clock()
        user = User(id=new_id(), pool_id=pool_id, status=UserStatus.ACTIVATED, created_at=now, updated_at=now)
        fields = item.fields
        apply_identifiers(user, fields, prefix)
        if not user.has_login_identifier():
            raise MissingUserIdentifier()
        apply_profile(user, fields, prefix)
        user.profile.setdefault("photo", DEFAULT_PHOTO)
        if opts.password_encrypt_type not in (None, "none"):
            raise InvalidParameter(
                "options.passwordEncryptType", "only 'none' is supported; send it over TLS"
            )
        if fields.password is not None:
            if opts.keep_password:
                if not is_argon2_hash(fields.password):
                    raise InvalidParameter(prefix + "password", "keepPassword needs an Argon2 hash")
                user.password_hash = fields.password
            else:
                user.password_hash = await hash_password(fields.password)
        elif opts.auto_generate_password:
            user.password_hash = await hash_password(secrets.token_urlsafe(24))
        if fields.password is not None or opts.auto_generate_password:
            user.profile["passwordLastSetAt"] = now
        if opts.reset_password_on_first_login:
            user.profile["resetPasswordOnNextLogin"] = True
        otp = None
        if item.otp is not None:
            secret = normalize_totp_secret(item.otp.secret, prefix + "otp.secret")
            recovery = blank_to_none(item.otp.recovery_code)
            otp = (
                await self._box.encrypt(secret),
                None
                if recovery is None
                else await self._box.encrypt(recovery_code_digest(self._recovery_key, recovery)),
            )
        mfa = None
        if item.mfa_trigger_data is not None:
            mfa = parse_trigger_data(
                item.mfa_trigger_data, user, False, prefix, has_totp_secret=otp is not None
            )
        return _Prepared(user, item, prefix, list(item.identities), list(fields.sync_relations), otp, mfa)

    async def _attach(self, conn: Connection, pool_id: str, p: _Prepared, now: int) -> None:
        for ident in p.identities:
            owners = await users_repo.identity_owners(conn, pool_id, ident.ext_idp_id, ident.user_id_in_idp)
            if owners - {p.user.id}:
                raise IdentityAlreadyLinked()
            await users_repo.insert_identity(conn, pool_id, identity_from(p.user.id, ident, now))
        for rel in p.sync_relations:
            await users_repo.upsert_sync_relation(
                conn, pool_id, rel.provider, rel.user_id_in_idp, p.user.id, now
            )


def _created(p: _Prepared) -> dict[str, Any]:
    after = snapshot(p.user)
    after["otpBound"] = p.otp is not None
    return after
