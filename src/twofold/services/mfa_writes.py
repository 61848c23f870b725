"""The one way a service writes an MFA status: the stored document and its ``mfa.status.set`` audit
event, prepared before the write and written together (``mfa_repo.write``).

set-mfa-status, user creation with an initial status and the CLI import (through create-users-batch)
all go through ``StatusWrite``, so no status is ever stored without its audit event.  A set-mfa-status
that needs nothing read first goes through ``DirectWrite``: the user resolved, the stored status read
under the user's lock (the event's ``before``) and the new one written in one atomic write.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

from twofold.domain.identifiers import UserRef
from twofold.domain.mfa import MfaStatus
from twofold.services import audit
from twofold.services.context import Caller, Clock
from twofold.storage.database import Connection
from twofold.storage.repositories import mfa as mfa_repo
from twofold.storage.repositories.audit import AuditRow
from twofold.storage.repositories.mfa import StoredStatus

ACTION = "mfa.status.set"


@dataclass(frozen=True)
class StatusWrite:
    """A status ready to be written over ``seen`` (None: nothing stored), with its audit event."""

    pool_id: str
    user_id: str
    status: MfaStatus
    document: str  # encoded once: the stored document, and the audit event's "after"
    seen: StoredStatus | None
    event: AuditRow

    @property
    def seen_version(self) -> int | None:
        return None if self.seen is None else self.seen.version

    def over(self, seen: StoredStatus | None) -> StatusWrite:
        """The same write over another stored status (read again under the user's lock)."""
        return replace(self, seen=seen, event=replace(self.event, before=audit.to_json(_before(seen))))

    async def run(self, conn: Connection) -> int | None:
        """Write if the stored version is still ``seen``'s; the new version, or None if another came first."""
        return await mfa_repo.write(
            conn, self.pool_id, self.user_id, self.status, self.document, self.seen_version, self.event
        )


def _before(seen: StoredStatus | None) -> audit.StoredJson | None:
    return None if seen is None else audit.StoredJson(seen.document)


def prepare(
    clock: Clock, caller: Caller, user_id: str, status: MfaStatus, seen: StoredStatus | None
) -> StatusWrite:
    document = mfa_repo.encode(status)
    event = audit.event(clock, caller, ACTION, user_id, _before(seen), audit.StoredJson(document))
    return StatusWrite(caller.pool_id, user_id, status, document, seen, event)


async def write_initial(
    conn: Connection, clock: Clock, caller: Caller, statuses: Sequence[tuple[str, MfaStatus]]
) -> None:
    """The initial statuses (user id, status) of users created in this transaction, where nothing can
    be stored yet: every status and then every event, each kind in one pipelined batch."""
    writes = [prepare(clock, caller, user_id, status, None) for user_id, status in statuses]
    await mfa_repo.insert_new(
        conn, caller.pool_id, [(w.user_id, w.status, w.document) for w in writes], [w.event for w in writes]
    )


@dataclass(frozen=True)
class DirectWrite:
    """A status to write over whatever is stored for the user ``ref`` names (``mfa_repo.write_direct``)."""

    pool_id: str
    ref: UserRef
    status: MfaStatus
    document: str
    event: AuditRow  # its target and ``before`` are filled in by the write

    async def run(self, conn: Connection) -> tuple[str | None, int | None]:
        """(the user's id or None: no such user, the new version or None: retry under the user's lock)."""
        return await mfa_repo.write_direct(
            conn, self.pool_id, self.ref, self.status, self.document, self.event
        )

    def under_lock(self, user_id: str, seen: StoredStatus | None) -> StatusWrite:
        """The same write as a ``StatusWrite`` over ``seen``, read under the user's lock."""
        event = replace(self.event, target_user_id=user_id, before=audit.to_json(_before(seen)))
        return StatusWrite(self.pool_id, user_id, self.status, self.document, seen, event)


def prepare_direct(clock: Clock, caller: Caller, ref: UserRef, status: MfaStatus) -> DirectWrite:
    document = mfa_repo.encode(status)
    event = audit.event(clock, caller, ACTION, None, None, audit.StoredJson(document))
    return DirectWrite(caller.pool_id, ref, status, document, event)
