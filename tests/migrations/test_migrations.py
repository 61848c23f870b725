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
