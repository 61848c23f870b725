"""Readiness: is the database reachable, and is its schema at the code's migration head."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass

from twofold.storage.database import Database, Timeouts
from twofold.storage.migrate import is_at_head

log = logging.getLogger("twofold.health")


@dataclass(frozen=True)
class Readiness:
    database: bool
    migrations: bool

    @property
    def ready(self) -> bool:
        return self.database and self.migrations


class HealthService:
    def __init__(self, db: Database, database_url: str, timeouts: Timeouts | None = None) -> None:
        self._db = db
        self._url = database_url
        self._timeouts = timeouts or Timeouts()  # for the migration check, on a connection of its own

    async def readiness(self) -> Readiness:
        """Never raises: a probe reports what it found, and the reason goes to the log."""
        database = migrations = False
        try:
            database = await self._db.ping()
            migrations = await asyncio.wait_for(
                asyncio.to_thread(is_at_head, self._url, self._timeouts.connect),
                self._timeouts.connect + self._timeouts.statement,
            )
        except Exception:  # noqa: BLE001 - a probe reports, it does not raise
            log.warning("readiness check failed", exc_info=True)
        return Readiness(database=database, migrations=migrations)
