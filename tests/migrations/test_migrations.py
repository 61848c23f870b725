"""Migrations: upgrade to head on a fresh database of each backend, and the models match the result."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import psycopg
import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Column, MetaData, Text, create_engine, inspect, pool

from tests.conftest import POSTGRES_URL
from twofold.storage.migrate import is_at_head, upgrade_to_head
from twofold.storage.tables import metadata
from twofold.storage.urls import DatabaseUrl


def _with_database(url: str, name: str) -> str:
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, f"/{name}", parts.query, ""))


@pytest.fixture
def fresh_postgres() -> Iterator[str]:
    """A brand-new, empty database on the test server (not the shared one), dropped afterwards."""
    assert POSTGRES_URL
    admin_url = DatabaseUrl.parse(POSTGRES_URL).asyncpg_dsn
    assert admin_url
    name = f"twofold_mig_{secrets.token_hex(6)}"
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield _with_database(POSTGRES_URL, name)
    finally:
        with psycopg.connect(admin_url, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.skipif(
    not POSTGRES_URL, reason="TWOFOLD_TEST_POSTGRES_URL not set"))])
def empty_database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """An empty, never-migrated database of each backend."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'twofold.db'}"
    url: str = request.getfixturevalue("fresh_postgres")
    return url


def schema_differences(url: str, target: MetaData = metadata) -> list[Any]:
    engine = create_engine(DatabaseUrl.parse(url).sqlalchemy_url, poolclass=pool.NullPool)
    try:
        with engine.connect() as conn:
            context = MigrationContext.configure(conn, opts={"compare_type": True})
            return list(compare_metadata(context, target))
    finally:
        engine.dispose()


def table_names(url: str) -> set[str]:
    engine = create_engine(DatabaseUrl.parse(url).sqlalchemy_url, poolclass=pool.NullPool)
    try:
        return set(inspect(engine).get_table_names())
    finally:
        engine.dispose()


def test_upgrade_to_head_creates_the_schema_the_models_describe(empty_database_url: str) -> None:
    upgrade_to_head(empty_database_url)
    assert table_names(empty_database_url) == {t.name for t in metadata.sorted_tables} | {"alembic_version"}
    assert schema_differences(empty_database_url) == []


def test_is_at_head_is_false_before_and_true_after_upgrade(empty_database_url: str) -> None:
    assert is_at_head(empty_database_url) is False
    upgrade_to_head(empty_database_url)
    assert is_at_head(empty_database_url) is True


def test_a_percent_sign_in_the_url_reaches_the_database_unchanged(tmp_path: Path) -> None:
    # as in a percent-encoded password (docs/deployment.md, step 1): Alembic's ConfigParser once read it
    # as interpolation, and the upgrade failed with "invalid interpolation syntax"
    url = f"sqlite:///{tmp_path / '100%done' / 'twofold.db'}"
    upgrade_to_head(url)
    assert is_at_head(url)
    assert (tmp_path / "100%done" / "twofold.db").exists()


def test_upgrading_twice_is_idempotent(empty_database_url: str) -> None:
    upgrade_to_head(empty_database_url)
    upgrade_to_head(empty_database_url)
    assert is_at_head(empty_database_url) is True
    assert schema_differences(empty_database_url) == []


def test_fresh_database_starts_without_tables(empty_database_url: str) -> None:
    """Guards the fixture: the database under test is new, not the shared (already migrated) one."""
    assert table_names(empty_database_url) == set()


def test_comparison_notices_a_model_the_migrations_lack(empty_database_url: str) -> None:
    """Keeps the equality checks above honest: a drifted model must show up as a difference."""
    upgrade_to_head(empty_database_url)
    drifted = MetaData(naming_convention=metadata.naming_convention)
    for table in metadata.sorted_tables:
        table.to_metadata(drifted)
    drifted.tables["users"].append_column(Column("not_migrated", Text, nullable=True))
    differences = schema_differences(empty_database_url, drifted)
    assert [(d[0], d[2], d[3].name) for d in differences] == [("add_column", "users", "not_migrated")]


# The children of a user (and of a pool) go with it: the repositories rely on ON DELETE CASCADE.
_CHILDREN_OF = {"users": {"identities", "sync_relations", "otp_authenticators", "mfa_statuses"},
                "user_pools": {"access_keys", "users", "applications"}}  # at least these


def test_every_foreign_key_of_the_migrated_schema_cascades(empty_database_url: str) -> None:
    upgrade_to_head(empty_database_url)
    engine = create_engine(DatabaseUrl.parse(empty_database_url).sqlalchemy_url, poolclass=pool.NullPool)
    try:
        inspector = inspect(engine)
        found: dict[str, set[str]] = {}
        for table in inspector.get_table_names():
            for fk in inspector.get_foreign_keys(table):
                assert (fk.get("options") or {}).get("ondelete", "").upper() == "CASCADE", (table, fk)
                found.setdefault(fk["referred_table"], set()).add(table)
    finally:
        engine.dispose()
    for parent, children in _CHILDREN_OF.items():
        assert found.get(parent, set()) >= children, parent


async def test_deleting_a_user_deletes_its_children(empty_database_url: str) -> None:
    from twofold.storage.database import open_database
    from twofold.storage.repositories import users as users_repo

    upgrade_to_head(empty_database_url)
    db = await open_database(empty_database_url)
    rows = {
        "identities": "INSERT INTO identities (id, pool_id, user_id, ext_idp_id, provider, type, user_id_in_idp,"
        " created_at) VALUES ('i1', 'p1', 'u1', 'idp', 'oidc', 'sub', 'x', 0)",
        "sync_relations": "INSERT INTO sync_relations (pool_id, provider, user_id_in_idp, user_id, created_at)"
        " VALUES ('p1', 'lark', 'x', 'u1', 0)",
        "otp_authenticators": "INSERT INTO otp_authenticators (user_id, pool_id, secret_ciphertext, created_at)"
        " VALUES ('u1', 'p1', 'c', 0)",
        "mfa_statuses": "INSERT INTO mfa_statuses (user_id, pool_id, document, totp_enabled, face_enabled,"
        " any_enabled, version, updated_at) VALUES ('u1', 'p1', '{}', false, false, false, 1, 0)",
    }
    try:
        async with db.transaction() as conn:
            await conn.execute("INSERT INTO user_pools (id, name, created_at) VALUES ('p1', 'p', 0)")
            for user_id in ("u1", "u2"):
                await conn.execute(
                    "INSERT INTO users (id, pool_id, status, created_at, updated_at)"
                    " VALUES (:id, 'p1', 'Activated', 0, 0)",
                    {"id": user_id},
                )
            for sql in rows.values():
                await conn.execute(sql)
                await conn.execute(sql.replace("'u1'", "'u2'").replace("'i1'", "'i2'").replace("'x'", "'y'"))
        async with db.transaction() as conn:
            assert await users_repo.delete(conn, "p1", ["u1"]) == 1
        async with db.read() as conn:
            for table in rows:
                remaining = await conn.fetch_all(f"SELECT user_id FROM {table}")
                assert [r["user_id"] for r in remaining] == ["u2"], table
    finally:
        await db.close()
