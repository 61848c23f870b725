"""MFA management: set and read a user's MFA status, global and per-application factors, TOTP secrets.

The rules for every field are in docs/mfa-status.md; the model itself is in ``domain/mfa.py``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import partial

from twofold.domain.commands import OtpImportInput, TriggerDataInput
from twofold.domain.identifiers import UserIdType, UserRef, parse_user_id_type, parse_user_ref
from twofold.domain.mfa import (
    Bindings,
    Factor,
    MfaStatus,
    Requirement,
    bindings_for,
    default_status,
    evaluate,
    factor_states,
    for_application,
)
from twofold.domain.otp import normalize_totp_secret
from twofold.domain.users import User
from twofold.errors import (
    ApplicationNotFound,
    ConflictingMfaSetting,
    InvalidParameter,
    OtpNotBound,
    PermissionDenied,
    TwofoldError,
    UserNotFound,
    VersionConflict,
)
from twofold.services import audit, mfa_writes
from twofold.services.context import OTP_SECRET_READ, Caller, Clock
from twofold.services.keyring import Keyring
from twofold.services.mfa_input import blank_to_none, needs_user, parse_factors, parse_trigger_data
from twofold.services.totp_check import recovery_code_digest
from twofold.services.users import UserService, the_one
from twofold.storage.database import Connection, Database
from twofold.storage.errors import ForeignKeyViolation
from twofold.storage.repositories import applications as apps_repo
from twofold.storage.repositories import mfa as mfa_repo
from twofold.storage.repositories import otp as otp_repo
from twofold.storage.repositories import pools as pools_repo
from twofold.storage.repositories.mfa import StoredStatus


@dataclass(frozen=True)
class UserMfa:
    user: User
    status: MfaStatus
    has_totp_secret: bool


class MfaService:
    def __init__(
        self, db: Database, box: Keyring, clock: Clock, users: UserService, recovery_key: bytes
    ) -> None:
        """``recovery_key``: the HMAC key recovery codes are kept under (``totp_check.recovery_code_digest``)."""
        self._db = db
        self._box = box
        self._clock = clock
        self._users = users
        self._recovery_key = recovery_key

    # ------------------------------------------------------------------------------ user status
    async def set_status(
        self,
        caller: Caller,
        user_id: str | None,
        user_id_type: str | None,
        data: TriggerDataInput,
        version: int | None = None,
    ) -> int:
        """Replace the user's MFA status atomically, with its audit event; returns the new version.

        Without ``version``, by a unique key, and with no profile field to check against the user and
        ``totpMfaEnabled`` given (the common call), nothing is read first: ``_set_status_directly``.
        Otherwise everything but the write happens before it: the user and their current status are read in one
        query, the input is validated and the write prepared (``mfa_writes``), then it is written if
        the status is still the one read (one statement on PostgreSQL, a short transaction on SQLite).
        If another writer came first, the write is retried once under the user's lock, which cannot
        lose; a caller that sent ``version`` (the version it expects to replace) gets 409 instead.
        """
        ref = parse_user_ref(user_id, parse_user_id_type(user_id_type))
        if version is not None and version < 0:
            raise InvalidParameter("version")
        if version is None and ref.id_type in mfa_repo.DIRECT_KEYS and not needs_user(data):
            return await self._set_status_directly(caller, ref, data)
        async with self._db.read() as conn:
            found = the_one(await mfa_repo.find_with_status(conn, caller.pool_id, ref))
        status = parse_trigger_data(
            data, found.user, require_token=True, has_totp_secret=found.has_totp_secret
        )
        write = mfa_writes.prepare(self._clock, caller, found.user.id, status, found.stored)
        if version is not None and version != (write.seen_version or 0):
            raise VersionConflict()
        try:
            new_version = await self._db.atomic(write.run)
            if new_version is None and version is None:
                new_version = await self._write_under_lock(caller, found.user.id, write.over)
        except ForeignKeyViolation:
            raise UserNotFound() from None
        if new_version is None:
            raise VersionConflict()
        return new_version

    async def _set_status_directly(self, caller: Caller, ref: UserRef, data: TriggerDataInput) -> int:
        """set-mfa-status with nothing to read first (no ``version``, no profile field to check, a unique
        key): one atomic write (``mfa_writes.DirectWrite``), retried under the user's lock only when a
        first status was stored meanwhile.  An unknown user is reported before invalid trigger data, as
        on the path that reads the user first."""
        try:
            status = parse_trigger_data(data, None, require_token=True)
        except TwofoldError:
            async with self._db.read() as conn:
                the_one(await mfa_repo.find_with_status(conn, caller.pool_id, ref))
            raise
        write = mfa_writes.prepare_direct(self._clock, caller, ref, status)
        try:
            user_id, new_version = await self._db.atomic(write.run)
            if user_id is None:
                raise UserNotFound()
            if new_version is None:
                over = partial(write.under_lock, user_id)
                new_version = await self._write_under_lock(caller, user_id, over)
        except ForeignKeyViolation:
            raise UserNotFound() from None
        if new_version is None:
            raise VersionConflict()
        return new_version

    async def _write_under_lock(
        self, caller: Caller, user_id: str, over: Callable[[StoredStatus | None], mfa_writes.StatusWrite]
    ) -> int | None:
        """The retry that cannot lose: the user locked, the stored status read again, ``over`` it written."""
        async with self._db.transaction() as conn:
            exists, seen = await mfa_repo.lock_current(conn, caller.pool_id, user_id)
            if not exists:
                raise UserNotFound()
            return await over(seen).run(conn)

    async def _state(
        self, conn: Connection, pool_id: str, ref: UserRef, pool_factors: list[Factor] | None = None
    ) -> UserMfa:
        """``pool_factors``: the pool's factors when the caller has read them already."""
        found = the_one(await mfa_repo.find_with_status(conn, pool_id, ref))
        if found.stored is not None:
            status = found.stored.status()
        else:
            if pool_factors is None:
                pool_factors = await self._global_factors(conn, pool_id)
            status = default_status(pool_factors, found.has_totp_secret)
        return UserMfa(found.user, status, found.has_totp_secret)

    async def get_status(self, pool_id: str, user_id: str | None, user_id_type: str | None) -> UserMfa:
        ref = parse_user_ref(user_id, parse_user_id_type(user_id_type))
        async with self._db.read() as conn:
            return await self._state(conn, pool_id, ref)

    async def get_info(
        self, pool_id: str, user_id: str | None, user_id_type: str | None
    ) -> dict[Factor, bool]:
        state = await self.get_status(pool_id, user_id, user_id_type)
        return factor_states(state.status, self._bindings(state))

    async def get_trigger_data(
        self, pool_id: str, app_id: str | None, user_id: str | None, user_id_type: str | None
    ) -> UserMfa:
        if not app_id:
            raise InvalidParameter("appId")
        ref = parse_user_ref(user_id, parse_user_id_type(user_id_type))
        async with self._db.read() as conn:
            app_factors = await self._app_factors(conn, pool_id, app_id)
            state = await self._state(conn, pool_id, ref)
        return UserMfa(state.user, for_application(state.status, app_factors), state.has_totp_secret)

    async def requirement(self, pool_id: str, app_id: str, user: User) -> Requirement:
        """What a sign-in of ``user`` to ``app_id`` must challenge, in order (for the sign-in flow): the
        policy's factors that are on and offered, each to be verified if enrolled, else enrolled first.
        Two reads: the application's and the pool's factor lists together, then the user's status."""
        async with self._db.read() as conn:
            lists = await apps_repo.mfa_factor_lists(conn, pool_id, app_id)
            if lists is None:
                raise ApplicationNotFound()
            pool_factors = parse_factors(lists[1], "enabledFactors")
            app_factors = pool_factors if lists[0] is None else parse_factors(lists[0], "enabledFactors")
            state = await self._state(conn, pool_id, UserRef(UserIdType.USER_ID, user.id), pool_factors)
        return evaluate(state.status, app_factors, self._bindings(state))

    async def app_factors(self, pool_id: str, app_id: str) -> list[Factor]:
        """The factors ``app_id`` offers: its own list, else the pool's."""
        async with self._db.read() as conn:
            return await self._app_factors(conn, pool_id, app_id)

    @staticmethod
    def _bindings(state: UserMfa) -> Bindings:
        user = state.user
        return bindings_for(
            state.status, state.has_totp_secret, user.phone, user.phone_country_code, user.email
        )

    # --------------------------------------------------------------------------------- settings
    async def _app_factors(self, conn: Connection, pool_id: str, app_id: str) -> list[Factor]:
        app = await apps_repo.get(conn, pool_id, app_id)
        if app is None:
            raise ApplicationNotFound()
        if app.mfa_enabled_factors is not None:
            return parse_factors(app.mfa_enabled_factors, "enabledFactors")
        return await self._global_factors(conn, pool_id)

    @staticmethod
    async def _global_factors(conn: Connection, pool_id: str) -> list[Factor]:
        pool = await pools_repo.get(conn, pool_id)
        return parse_factors(pool.mfa_enabled_factors if pool else [], "enabledFactors")

    async def get_global_factors(self, pool_id: str) -> list[Factor]:
        async with self._db.read() as conn:
            return await self._global_factors(conn, pool_id)

    async def set_global_factors(self, caller: Caller, enabled: Sequence[str]) -> list[Factor]:
        """``update-global-mfa-settings``: the pool's factor list becomes exactly ``enabled``."""
        factors = parse_factors(enabled, "enabledFactors")
        return await self._write_global(caller, lambda _: factors, "mfa.settings.global.update")

    async def disable_global_factors(self, caller: Caller, disable: Sequence[str]) -> list[Factor]:
        removed = set(parse_factors(disable, "disableFactors"))
        return await self._write_global(
            caller, lambda cur: [f for f in cur if f not in removed], "mfa.settings.global.disable"
        )

    async def _write_global(
        self, caller: Caller, change: Callable[[list[Factor]], list[Factor]], action: str
    ) -> list[Factor]:
        async with self._db.transaction() as conn:
            current = await self._global_factors(conn, caller.pool_id)
            new: list[Factor] = change(current)
            await pools_repo.set_mfa_factors(conn, caller.pool_id, [str(f) for f in new])
            await audit.record(
                conn,
                self._clock,
                caller,
                action,
                None,
                {"enabledFactors": [str(f) for f in current]},
                {"enabledFactors": [str(f) for f in new]},
            )
        return new

    async def update_application_factors(
        self, caller: Caller, app_id: str, enabled: Sequence[str] | None, disabled: Sequence[str] | None
    ) -> list[Factor]:
        on = parse_factors(enabled, "enabledFactors")
        off = set(parse_factors(disabled, "disabledFactors"))
        both = [f for f in on if f in off]
        if both:
            raise ConflictingMfaSetting("disabledFactors", f"{both[0]} is both enabled and disabled")
        async with self._db.transaction() as conn:
            current = await self._app_factors(conn, caller.pool_id, app_id)
            new = [f for f in current if f not in off] + [f for f in on if f not in current]
            await apps_repo.set_mfa_factors(
                conn, caller.pool_id, app_id, [str(f) for f in new], self._clock()
            )
            await audit.record(
                conn,
                self._clock,
                caller,
                "mfa.settings.application.update",
                None,
                {"appId": app_id, "enabledFactors": [str(f) for f in current]},
                {"appId": app_id, "enabledFactors": [str(f) for f in new]},
            )
        return new

    # ------------------------------------------------------------------------------- TOTP seeds
    async def import_otp(self, caller: Caller, items: Sequence[OtpImportInput]) -> None:
        """Bind existing TOTP secrets; all items or none.  The MFA status is left as it is.  A recovery code
        is kept only as its digest, like one Twofold issues (docs/mfa-status.md)."""
        if not items:
            raise InvalidParameter("list")
        prepared = []
        for index, item in enumerate(items):
            ref = parse_user_ref(item.user_id, UserIdType.USER_ID, f"list[{index}].userId")
            secret = normalize_totp_secret(item.otp.secret, f"list[{index}].otp.secret")
            recovery = blank_to_none(item.otp.recovery_code)
            recovery_ct = (
                None if recovery is None
                else await self._box.encrypt(recovery_code_digest(self._recovery_key, recovery))
            )
            prepared.append((ref, await self._box.encrypt(secret), recovery_ct))
        async with self._db.transaction() as conn:
            for ref, secret_ct, recovery_ct in prepared:
                user = await self._users.resolve(conn, caller.pool_id, ref)
                had = await otp_repo.exists(conn, caller.pool_id, user.id)
                await otp_repo.upsert(conn, caller.pool_id, user.id, secret_ct, recovery_ct, self._clock())
                await audit.record(
                    conn,
                    self._clock,
                    caller,
                    "otp.import",
                    user.id,
                    {"otpBound": had},
                    {"otpBound": True, "hasRecoveryCode": recovery_ct is not None},
                )

    async def read_otp_secret(self, caller: Caller, user_id: str | None, user_id_type: str | None) -> str:
        """The most dangerous read: needs the ``otp:read-secret`` permission, and is always audited."""
        if not caller.principal.has_permission(OTP_SECRET_READ):
            async with self._db.transaction() as conn:
                await audit.record(
                    conn,
                    self._clock,
                    caller,
                    "otp.secret.read.denied",
                    None,
                    after={"userId": str(user_id)[:200], "userIdType": str(user_id_type)[:40]},
                )
            raise PermissionDenied()
        ref = parse_user_ref(user_id, parse_user_id_type(user_id_type))
        async with self._db.transaction() as conn:
            user = await self._users.resolve(conn, caller.pool_id, ref)
            row = await otp_repo.get(conn, caller.pool_id, user.id)
            if row is None:
                raise OtpNotBound()
            await audit.record(conn, self._clock, caller, "otp.secret.read", user.id)
        return await self._box.decrypt(row["secret_ciphertext"])
