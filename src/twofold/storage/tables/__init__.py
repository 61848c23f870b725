"""The schema, as SQLAlchemy Core tables, in one ``metadata``: ``core`` (pools, keys, users, MFA,
applications, the audit trail, one-time codes, the keyring) and ``signin`` (tokens, sign-in state, the
login history, console sessions).  Alembic migrations create it; the request hot path uses hand-written
SQL through ``database.py`` (see docs/architecture.md for why)."""

from twofold.storage.tables import signin  # noqa: F401  (its tables join the metadata)
from twofold.storage.tables.core import metadata

__all__ = ["metadata"]
