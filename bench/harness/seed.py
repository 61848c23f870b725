"""Benchmark databases: created, migrated, bootstrapped by Twofold's own code, then seeded with SQL.

Users are written straight into the migrated schema (``sqlite3.executemany`` / PostgreSQL ``COPY``), not
through the API: a million users must take seconds, not the run's whole budget.  The secondary indexes are
dropped for the load and rebuilt after it, which is several times faster than maintaining them row by row.

User ``i`` has a deterministic, random-looking 24-hex id (a bijection of ``i``), the e-mail
``user<i>@bench.twofold.dev`` and a stored MFA status, so every lookup of the benchmark finds a user.
"""

from __future__ import annotations

import asyncio
import json
import sqlite3
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg

from twofold.config import Settings
from twofold.domain.mfa import Factor, MfaStatus, PolicyEntry
from twofold.domain.users import DEFAULT_PHOTO
from twofold.services.container import bootstrap, build_services
from twofold.storage.migrate import upgrade_to_head

SECRET_KEY = "bench-master-key-0123456789abcdef"
KEY_ID = "benchkey0000000000000000"
KEY_SECRET = "bench-secret-0123456789abcdef"
ISSUER_URL = "http://bench.twofold.dev/oidc"
EMAIL_DOMAIN = "bench.twofold.dev"  # .test/.example are refused by email-validator's special-use rules
_MULTIPLIER = 0x9E3779B97F4A7C15  # odd, so i -> i * M mod 2**96 is a bijection
_STATUS_DOC = json.dumps(
    MfaStatus(
        (PolicyEntry(Factor.OTP, True, 1), PolicyEntry(Factor.EMAIL, False, 2)), totp_enabled=True
    ).to_document()
)
_USER_COLUMNS = (
    "id",
    "pool_id",
    "username",
    "email",
    "status",
    "profile",
    "custom_data",
    "logins_count",
    "created_at",
    "updated_at",
)
_STATUS_COLUMNS = (
    "user_id",
    "pool_id",
    "document",
    "totp_enabled",
    "face_enabled",
    "any_enabled",
    "version",
    "updated_at",
)


def user_id(i: int) -> str:
    return f"{(i * _MULTIPLIER) % (1 << 96):024x}"


def user_email(i: int) -> str:
    return f"user{i}@{EMAIL_DOMAIN}"


@dataclass(frozen=True)
class BenchDatabase:
    backend: str  # "sqlite" | "postgresql"
    url: str
    users: int
    pool_id: str
    seed_seconds: float

    def server_env(self, data_dir: Path) -> dict[str, str]:
        return {
            "TWOFOLD_DATA_DIR": str(data_dir),
            "TWOFOLD_DATABASE_URL": self.url,
            "TWOFOLD_SECRET_KEY": SECRET_KEY,
            "TWOFOLD_BOOTSTRAP_ACCESS_KEY_ID": KEY_ID,
            "TWOFOLD_BOOTSTRAP_ACCESS_KEY_SECRET": KEY_SECRET,
            "TWOFOLD_LOG_LEVEL": "WARNING",
            # A fixed token issuer: the sign-in scenarios hold access tokens signed before the server
            # started, on a port chosen at random (harness/signin_seed.py).
            "TWOFOLD_ISSUER_URL": ISSUER_URL,
        }


def sqlite_url(workdir: Path, label: str) -> str:
    return f"sqlite:///{workdir / f'bench-{label}.db'}"


def postgres_url(base: str, label: str, one_database: bool = False) -> str:
    """``postgresql://.../twofold_bench`` -> ``.../twofold_bench_<label>``; refuses other database names.

    ``one_database`` (``run.py --postgres-one-database``): ``base`` itself, whatever its name, for a run
    that needs one PostgreSQL database only; its schema is reset instead (``_recreate_postgres``)."""
    if one_database:
        return base
    parts = urlsplit(base)
    name = parts.path.lstrip("/") or "twofold_bench"
    if not name.startswith("twofold_bench"):
        raise ValueError(
            f"refusing database {name!r}: the harness drops its databases, name them twofold_bench*"
        )
    return urlunsplit((parts.scheme, parts.netloc, f"/{name}_{label}", parts.query, ""))


def check_postgres(base: str, one_database: bool = False) -> None:
    """Raise if the server cannot be reached (the caller then reports PostgreSQL as unavailable)."""
    with psycopg.connect(base if one_database else _admin_url(base), connect_timeout=3) as conn:
        conn.execute("SELECT 1")


def _admin_url(url: str) -> str:
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, "/postgres", parts.query, ""))


def prepare(backend: str, url: str, users: int) -> BenchDatabase:
    """A fresh database at ``url`` with the schema, the default pool, the bench key and ``users`` users."""
    started = time.monotonic()
    if backend == "sqlite":
        path = Path(url.split("://", 1)[1][1:])
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
    else:
        _recreate_postgres(url)
    upgrade_to_head(url)
    pool_id = asyncio.run(_bootstrap(url))
    if users:
        (_seed_sqlite if backend == "sqlite" else _seed_postgres)(url, pool_id, users)
    return BenchDatabase(backend, url, users, pool_id, time.monotonic() - started)


async def _bootstrap(url: str) -> str:
    settings = Settings(
        database_url=url,
        secret_key=SECRET_KEY,
        bootstrap_access_key_id=KEY_ID,
        bootstrap_access_key_secret=KEY_SECRET,
    )
    services = await build_services(settings)
    try:
        await bootstrap(services, settings)
        pool, _ = await services.keys.ensure_default_pool()
        pool_id: str = pool.id
        return pool_id
    finally:
        await services.close()


def _user_rows(pool_id: str, users: int, now: int) -> Iterator[tuple[object, ...]]:
    profile = json.dumps({"photo": DEFAULT_PHOTO})
    for i in range(users):
        yield (user_id(i), pool_id, f"user{i}", user_email(i), "Activated", profile, "{}", 0, now, now)


def _status_rows(pool_id: str, users: int, now: int) -> Iterator[tuple[object, ...]]:
    for i in range(users):
        yield (user_id(i), pool_id, _STATUS_DOC, True, False, True, 1, now)


def _placeholders(columns: tuple[str, ...], style: str) -> str:
    return ", ".join(style for _ in columns)


def _seed_sqlite(url: str, pool_id: str, users: int) -> None:
    now = int(time.time() * 1000)
    conn = sqlite3.connect(url.split("://", 1)[1][1:], isolation_level=None)
    try:
        conn.execute("PRAGMA cache_size=-262144")
        conn.execute("PRAGMA synchronous=OFF")
        indexes = conn.execute(
            "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name IN ('users', 'mfa_statuses')"
            " AND sql IS NOT NULL"
        ).fetchall()
        conn.execute("BEGIN")
        for name, _ in indexes:
            conn.execute(f'DROP INDEX "{name}"')
        conn.executemany(
            f"INSERT INTO users ({', '.join(_USER_COLUMNS)}) VALUES ({_placeholders(_USER_COLUMNS, '?')})",
            sorted(_user_rows(pool_id, users, now)),  # primary-key order: appends instead of page splits
        )
        conn.executemany(
            f"INSERT INTO mfa_statuses ({', '.join(_STATUS_COLUMNS)})"
            f" VALUES ({_placeholders(_STATUS_COLUMNS, '?')})",
            sorted(_status_rows(pool_id, users, now)),
        )
        for _, sql in indexes:
            conn.execute(sql)
        conn.execute("COMMIT")
        conn.execute("ANALYZE")
    finally:
        conn.close()


def _recreate_postgres(url: str) -> None:
    name = urlsplit(url).path.lstrip("/")
    if not name.startswith("twofold_bench"):  # a database given with --postgres-one-database: kept, emptied
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute("DROP SCHEMA IF EXISTS public CASCADE")
            conn.execute("CREATE SCHEMA public")
        return
    with psycopg.connect(_admin_url(url), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')


def _seed_postgres(url: str, pool_id: str, users: int) -> None:
    now = int(time.time() * 1000)
    with psycopg.connect(url) as conn:
        conn.execute("SET synchronous_commit = off")
        conn.execute("SET maintenance_work_mem = '256MB'")
        conn.execute("SET session_replication_role = replica")  # no FK triggers while loading
        indexes = conn.execute(
            "SELECT indexname, indexdef FROM pg_indexes WHERE tablename IN ('users', 'mfa_statuses')"
            " AND indexname NOT IN (SELECT conname FROM pg_constraint)"
        ).fetchall()
        for name, _ in indexes:
            conn.execute(f'DROP INDEX "{name}"')
        with conn.cursor() as cur:
            with cur.copy(f"COPY users ({', '.join(_USER_COLUMNS)}) FROM STDIN") as copy:
                for row in _user_rows(pool_id, users, now):
                    copy.write_row(row)
            with cur.copy(f"COPY mfa_statuses ({', '.join(_STATUS_COLUMNS)}) FROM STDIN") as copy:
                for row in _status_rows(pool_id, users, now):
                    copy.write_row(row)
        for _, sql in indexes:
            conn.execute(sql)
        conn.commit()
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE users")
        conn.execute("VACUUM ANALYZE mfa_statuses")


def drop_postgres(url: str) -> None:
    name = urlsplit(url).path.lstrip("/")
    if not name.startswith("twofold_bench"):
        raise ValueError(f"refusing to drop {name!r}")
    with psycopg.connect(_admin_url(url), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
