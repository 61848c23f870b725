"""Instances started at the same moment on an empty PostgreSQL database each run the migrations
(``twofold serve`` migrates on every start): they must not race (docs/deployment.md#migrations).

``storage/migrations/env.py`` takes an advisory lock in the migration transaction before it looks at
the schema. While the test holds that lock, an upgrade waits for it and changes nothing; once released,
it migrates. Several upgrades at once all succeed (tests/deployment also starts 3 instances at once).
"""

from __future__ import annotations

import subprocess
import time
from pathlib import Path

import psycopg
import pytest

from tests.compat.support import TWOFOLD_BIN, server_env
from tests.conftest import BOOTSTRAP_KEY_ID, BOOTSTRAP_SECRET, POSTGRES_URL, SECRET_KEY
from twofold.storage.migrate import is_at_head
from twofold.storage.migrations_lock import MIGRATION_LOCK, STARTUP_LOCK

pytestmark = pytest.mark.skipif(not POSTGRES_URL, reason="TWOFOLD_TEST_POSTGRES_URL not set")

RUNS = 4
WAIT = 60.0


def empty_schema(url: str) -> str:
    """Drop everything (the session fixture migrated it); the test's upgrades leave it at head again."""
    with psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://"), autocommit=True) as conn:
        conn.execute("DROP SCHEMA IF EXISTS public CASCADE")
        conn.execute("CREATE SCHEMA public")
    return url


def _upgrade(env: dict[str, str], command: str = "db upgrade") -> subprocess.Popen[bytes]:
    return subprocess.Popen([str(TWOFOLD_BIN), *command.split()], env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT)


def _wait_for_a_waiter(holder: psycopg.Connection[tuple[int]], run: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + WAIT
    while True:  # bounded wait until the process's backend queues for the lock
        waiting = holder.execute(
            "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted").fetchone()
        if waiting is not None and waiting[0] >= 1:
            return
        assert run.poll() is None, run.communicate()[0].decode(errors="replace")
        assert time.monotonic() < deadline, "the process never waited for the lock"
        time.sleep(0.05)


def test_an_upgrade_waits_for_the_migration_lock_and_changes_nothing_meanwhile(
        postgres_ready: str, tmp_path: Path) -> None:
    env = server_env(empty_schema(postgres_ready), tmp_path / "data", BOOTSTRAP_KEY_ID, BOOTSTRAP_SECRET, SECRET_KEY)
    with psycopg.connect(postgres_ready.replace("postgresql+psycopg://", "postgresql://"),
                         autocommit=True) as holder:
        holder.execute("SELECT pg_advisory_lock(%s)", (MIGRATION_LOCK,))
        run = _upgrade(env)
        try:
            deadline = time.monotonic() + WAIT
            while True:  # bounded wait until the upgrade's backend queues for the lock
                waiting = holder.execute(
                    "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted").fetchone()
                if waiting is not None and waiting[0] >= 1:
                    break
                assert run.poll() is None, run.communicate()[0].decode(errors="replace")
                assert time.monotonic() < deadline, "the upgrade never waited for the migration lock"
                time.sleep(0.05)
            tables = holder.execute("SELECT count(*) FROM pg_tables WHERE schemaname = 'public'").fetchone()
            assert tables == (0,), tables  # nothing migrated while another holds the lock
        finally:
            holder.execute("SELECT pg_advisory_unlock(%s)", (MIGRATION_LOCK,))
        output = run.communicate(timeout=120)[0].decode(errors="replace")
    assert run.returncode == 0, output
    assert is_at_head(postgres_ready)


def test_concurrent_upgrades_of_an_empty_database_all_succeed(postgres_ready: str, tmp_path: Path) -> None:
    env = server_env(empty_schema(postgres_ready), tmp_path / "data", BOOTSTRAP_KEY_ID, BOOTSTRAP_SECRET, SECRET_KEY)
    runs = [_upgrade(env) for _ in range(RUNS)]
    outputs = [(run.communicate(timeout=120)[0].decode(errors="replace"), run.returncode) for run in runs]
    assert [code for _, code in outputs] == [0] * RUNS, outputs
    assert is_at_head(postgres_ready)


def test_a_starting_process_bootstraps_only_under_the_startup_lock(postgres_ready: str, tmp_path: Path) -> None:
    """Two first starts together would each create the default user pool: the lock makes them take turns."""
    env = server_env(empty_schema(postgres_ready), tmp_path / "data", BOOTSTRAP_KEY_ID, BOOTSTRAP_SECRET,
                     SECRET_KEY)
    with psycopg.connect(postgres_ready.replace("postgresql+psycopg://", "postgresql://"),
                         autocommit=True) as holder:
        holder.execute("SELECT pg_advisory_lock(%s)", (STARTUP_LOCK,))
        run = _upgrade(env, "init")
        try:
            _wait_for_a_waiter(holder, run)
            pools = holder.execute("SELECT count(*) FROM user_pools").fetchone()
            assert pools == (0,), pools  # migrated, but nothing bootstrapped while another holds the lock
        finally:
            holder.execute("SELECT pg_advisory_unlock(%s)", (STARTUP_LOCK,))
        output = run.communicate(timeout=120)[0].decode(errors="replace")
        assert run.returncode == 0, output
        assert holder.execute("SELECT count(*) FROM user_pools").fetchone() == (1,)
