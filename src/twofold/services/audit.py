"""The audit trail: who changed what, from where, with the state before and after (secrets redacted)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import orjson

from twofold.services.context import Caller, Clock
from twofold.storage.database import Connection, Database
from twofold.storage.repositories import audit as audit_repo
from twofold.storage.repositories.audit import AuditRow

REDACTED = "[redacted]"
_SECRET_KEYS = {"password", "passwordHash", "secret", "recoveryCode", "accessKeySecret", "mfaToken", "salt"}


def redact(value: Any) -> Any:
    """Replace every secret-bearing member, at any depth, with a marker."""
    if isinstance(value, dict):
        return {
            k: (
                REDACTED
                if k in _SECRET_KEYS and v is not None
                else redact(v)
                if isinstance(v, dict | list)
                else v
            )
            for k, v in value.items()
        }
    if isinstance(value, list):
        return [redact(v) for v in value]
    return value


_SECRET_MEMBER = re.compile('"(?:' + "|".join(sorted(_SECRET_KEYS)) + ')":')


@dataclass(frozen=True)
class StoredJson:
    """A document that is already JSON text (read from the database): recorded without re-encoding."""

    text: str


def to_json(value: Any) -> str | None:
    """The audit text of ``value``, secrets redacted.  A document naming no secret member (the common
    case, checked on the encoded text) is not walked: redaction would return it unchanged."""
    if value is None:
        return None
    text = value.text if isinstance(value, StoredJson) else orjson.dumps(value).decode()
    if _SECRET_MEMBER.search(text):
        text = orjson.dumps(redact(orjson.loads(text))).decode()
    return text


@dataclass(frozen=True)
class AuditEvent:
    id: int
    pool_id: str
    at: int
    actor: str
    request_id: str
    client_ip: str
    target_user_id: str | None
    action: str
    before: Any
    after: Any


def event(
    clock: Clock,
    caller: Caller,
    action: str,
    target_user_id: str | None,
    before: Any = None,
    after: Any = None,
) -> AuditRow:
    """The event ``caller`` causes, ready to be written with the change it records."""
    return AuditRow(
        pool_id=caller.pool_id,
        at=clock(),
        actor=caller.principal.access_key_id,
        request_id=caller.request_id,
        client_ip=caller.client_ip,
        target_user_id=target_user_id,
        action=action,
        before=to_json(before),
        after=to_json(after),
    )


async def record(
    conn: Connection,
    clock: Clock,
    caller: Caller,
    action: str,
    target_user_id: str | None,
    before: Any = None,
    after: Any = None,
) -> None:
    await audit_repo.insert(conn, event(clock, caller, action, target_user_id, before, after))


class AuditService:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def list_events(
        self,
        pool_id: str,
        user_id: str | None = None,
        action: str | None = None,
        before_id: int | None = None,
        limit: int = 50,
        since: int | None = None,
        until: int | None = None,
    ) -> list[AuditEvent]:
        """Newest first; ``before_id`` pages backwards; ``since``/``until`` (ms, inclusive) bound the time."""
        async with self._db.read() as conn:
            rows = await audit_repo.list_events(
                conn, pool_id, user_id, action, before_id, max(1, min(limit, 500)), since, until
            )
        return [
            AuditEvent(
                id=r["id"],
                pool_id=r["pool_id"],
                at=r["at"],
                actor=r["actor"],
                request_id=r["request_id"],
                client_ip=r["client_ip"],
                target_user_id=r["target_user_id"],
                action=r["action"],
                before=None if r["before"] is None else orjson.loads(r["before"]),
                after=None if r["after"] is None else orjson.loads(r["after"]),
            )
            for r in rows
        ]
