"""The one way a service writes an MFA status: the stored document and its ``mfa.status.set`` audit
event, prepared before the write and written together (``mfa_repo.write``).

set-mfa-status, user creation with an initial status and the CLI import (through create-users-batch)
all go through ``StatusWrite``, so no status is ever stored without its audit event.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

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
    conn: Connection, clock: Clock, caller: Caller, user_id: str, status: MfaStatus | None
) -> None:
    """The initial status (if any) of a user created in this transaction: nothing can be stored yet."""
    if status is not None and await prepare(clock, caller, user_id, status, None).run(conn) is None:
        raise RuntimeError("a new user already had an MFA status")
