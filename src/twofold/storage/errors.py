"""The one family of errors that leaves ``storage/``: no driver exception ever does.

Each driver's connection wrapper turns its exceptions into these, in one function per driver
(``translate_sqlite`` in ``storage/sqlite.py``, ``translate_postgres`` in ``storage/postgres.py``).

* ``UniqueViolation`` and ``ForeignKeyViolation`` are for the services to catch and turn into what
  they mean (``UserAlreadyExists``...): they carry the table and columns, parsed here, so no service
  reads a driver's message.
* ``DatabaseUnavailable``, ``WriteLockTimeout``, ``DatabaseFull`` and ``InvalidData`` are also the
  ``TwofoldError`` that the client should see (503, 503, 503, 400), so the one error handler of ``api/errors.py`` renders them
  without the API layer knowing storage exists.  Their ``reason`` (the driver's text) goes to the log
  only: ``str()`` and ``repr()`` show it, the envelope's message does not.
* Anything else becomes a plain ``StorageError`` (a bug, answered as an internal error and logged with
  the driver's exception as its cause).
"""

from __future__ import annotations

from twofold import errors


class StorageError(Exception):
    """Base of every error raised by ``storage/``."""


class UniqueViolation(StorageError):
    """A unique constraint failed.

    ``table`` and ``columns`` name the constraint (``("pool_id", "username")``; empty when the driver
    did not say).  The message is the driver's text, for the log.
    """

    def __init__(self, detail: str, table: str = "", columns: tuple[str, ...] = (), constraint: str = "") -> None:
        super().__init__(detail)
        self.table = table
        self.columns = columns
        self.constraint = constraint


class ForeignKeyViolation(StorageError):
    """A row refers to one that does not exist (it was deleted meanwhile)."""


class DatabaseUnavailable(StorageError, errors.DatabaseUnavailable):
    """The database cannot be reached: connection refused or lost, server shutting down, file gone."""

    def __init__(self, reason: str) -> None:
        errors.DatabaseUnavailable.__init__(self)
        self.reason = reason
        self.args = (reason,)  # for the log; the envelope's message stays the generic one


class MigrationRefused(StorageError):
    """The database refused a schema change to the role migrating it (a startup error, never a
    request's): the message says what failed and which permission is missing."""


class WriteLockTimeout(StorageError, errors.DatabaseBusy):
    """SQLite's write lock did not come within the configured wait (another process holds it)."""

    def __init__(self, reason: str) -> None:
        errors.DatabaseBusy.__init__(self)
        self.reason = reason
        self.args = (reason,)  # for the log; the envelope's message stays the generic one


class DatabaseFull(StorageError, errors.DatabaseFull):
    """SQLite could not grow its file or its WAL (``SQLITE_FULL``: no space left on the disk)."""

    def __init__(self, reason: str) -> None:
        errors.DatabaseFull.__init__(self)
        self.reason = reason
        self.args = (reason,)  # for the log; the envelope's message stays the generic one


class InvalidData(StorageError, errors.InvalidParameter):
    """The database refused a value (bad encoding, out of range, too big).

    Defence in depth: the request schemas refuse such input first, so this names no parameter.
    """

    def __init__(self, reason: str) -> None:
        errors.InvalidParameter.__init__(self, "body")
        self.reason = reason
        self.args = (reason,)  # for the log; the envelope's message stays the generic one
