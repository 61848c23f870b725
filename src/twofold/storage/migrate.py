"""Schema migrations (Alembic), run programmatically by ``twofold db upgrade`` and on ``serve``."""

from __future__ import annotations

import math
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import sqlalchemy.exc
from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine, pool, text

from twofold.storage.errors import DatabaseUnavailable, MigrationRefused
from twofold.storage.migrations_lock import STARTUP_LOCK
from twofold.storage.urls import DatabaseUrl

_MIGRATIONS = Path(__file__).parent / "migrations"


def alembic_config(url: str) -> Config:
    parsed = DatabaseUrl.parse(url)
    if parsed.sqlite_path is not None:
        parsed.sqlite_path.parent.mkdir(parents=True, exist_ok=True)
    config = Config()
    config.set_main_option("script_location", str(_MIGRATIONS))
    # "%%": Alembic keeps options in a ConfigParser, which reads "%" (a percent-encoded password) as interpolation
    config.set_main_option("sqlalchemy.url", parsed.sqlalchemy_url.replace("%", "%%"))
    return config


_INSUFFICIENT_PRIVILEGE = "42501"  # PostgreSQL's SQLSTATE


def upgrade_to_head(url: str) -> None:
    """Migrate to the latest revision; a server that cannot be reached is ``DatabaseUnavailable``, a
    role without the permissions a migration needs ``MigrationRefused``."""
    try:
        command.upgrade(alembic_config(url), "head")
    except sqlalchemy.exc.OperationalError as exc:
        raise DatabaseUnavailable("cannot migrate: " + " ".join(str(exc.orig).split())) from exc
    except sqlalchemy.exc.DBAPIError as exc:
        if getattr(exc.orig, "sqlstate", None) != _INSUFFICIENT_PRIVILEGE:
            raise
        refusal = str(exc.orig).splitlines()[0]  # "permission denied for schema public"
        statement = " ".join((exc.statement or "").split()[:3])  # "CREATE TABLE alembic_version"
        raise MigrationRefused(
            f"cannot migrate the database: {refusal} ({statement}); the role that runs the migrations"
            " (twofold db upgrade, or twofold serve on start) needs CREATE on the schema and must own"
            " Twofold's tables: GRANT CREATE ON SCHEMA <schema> TO <role>, or run it as the schema's owner"
        ) from None


def is_at_head(url: str, connect_timeout_seconds: float | None = None) -> bool:
    config = alembic_config(url)
    head = ScriptDirectory.from_config(config).get_current_head()
    parsed = DatabaseUrl.parse(url)
    connect_args = {}
    if connect_timeout_seconds is not None and parsed.dialect == "postgresql":
        connect_args["connect_timeout"] = max(2, math.ceil(connect_timeout_seconds))  # libpq: whole seconds, >= 2
    engine = create_engine(parsed.sqlalchemy_url, poolclass=pool.NullPool, connect_args=connect_args)
    try:
        with engine.connect() as conn:
            return MigrationContext.configure(conn).get_current_revision() == head
    finally:
        engine.dispose()


@contextmanager
def startup_lock(url: str) -> Iterator[None]:
    """On PostgreSQL, a session advisory lock held while a process bootstraps (the default pool, the
    first or bootstrap key): instances started together on an empty database do it one after the other
    (docs/deployment.md#migrations). SQLite: nothing to take."""
    parsed = DatabaseUrl.parse(url)
    if parsed.sqlite_path is not None:
        yield
        return
    engine = create_engine(parsed.sqlalchemy_url, poolclass=pool.NullPool)
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT pg_advisory_lock(:key)"), {"key": STARTUP_LOCK})
            conn.commit()
            try:
                yield
            finally:
                conn.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": STARTUP_LOCK})
                conn.commit()
    except sqlalchemy.exc.OperationalError as exc:
        raise DatabaseUnavailable("cannot take the startup lock: " + " ".join(str(exc.orig).split())) from exc
    finally:
        engine.dispose()
