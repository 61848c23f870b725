"""Alembic environment: runs migrations on the synchronous engine given by ``migrate.py``.

On PostgreSQL the migration transaction first takes a transaction-scoped advisory lock, so instances
started at the same moment migrate one after the other: the first upgrades, the others wait for its
commit, then find the schema at head and do nothing (docs/deployment.md#migrations).
"""

from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine, pool, text

from twofold.storage.migrations_lock import MIGRATION_LOCK
from twofold.storage.tables import metadata

config = context.config
url = config.get_main_option("sqlalchemy.url")
assert url is not None
engine = create_engine(url, poolclass=pool.NullPool)
with engine.connect() as connection:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        if connection.dialect.name == "postgresql":
            connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK})
        context.run_migrations()
engine.dispose()
