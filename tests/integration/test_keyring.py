"""The keyring (services/keyring.py, docs/keys.md): every ciphertext names its data key, a process that
meets a key it does not hold reads the keyring again, a rotation rewrites everything under the new key
and retires the old one, and a wrong operator secret is a one-line startup error."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from pydantic import SecretStr

from tests.conftest import Api
from tests.mfa_support import otp_user
from twofold.auth.vault import (
    CIPHERTEXT_PREFIX,
    LEGACY_KEY_ID,
    MasterKeyError,
    SecretBox,
    key_id_of,
    load_master_key,
)
from twofold.config import Settings
from twofold.services.container import Services, bootstrap, build_services
from twofold.services.keyring import Keyring
from twofold.services.totp_check import Outcome
from twofold.storage import tables
from twofold.storage.repositories import ciphertexts
from twofold.storage.repositories import master_keys as master_keys_repo


class Ticks:
    """A monotonic clock the test moves."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
async def other(settings: Settings) -> AsyncIterator[Services]:
    """A second process's services on the same database."""
    built = await build_services(settings)
    try:
        yield built
    finally:
        await built.close()


async def all_ciphertexts(services: Services) -> dict[str, list[str]]:
    found = {}
    async with services.db.read() as conn:
        for col in ciphertexts.COLUMNS:
            rows = await conn.fetch_all(f"SELECT {col.column} AS ct FROM {col.table} WHERE {col.column} IS NOT NULL")  # noqa: S608
            found[col.name] = [str(r["ct"]) for r in rows]
    return found


def test_every_ciphertext_column_of_the_schema_is_rotated() -> None:
    """A new encrypted column must join ``ciphertexts.COLUMNS``, or a rotation would leave it behind."""
    in_schema = {f"{t.name}.{c.name}" for t in tables.metadata.tables.values() for c in t.columns
                 if "ciphertext" in c.name}
    assert in_schema == {col.name for col in ciphertexts.COLUMNS}


async def test_new_ciphertexts_name_the_active_key(api: Api, services: Services) -> None:
    await api.ok("POST", "create-user", {"username": "named", "otp": {"secret": "JBSWY3DPEHPK3PXPJBSWY3DP"}})
    active = services.keyring.active
    assert active is not None and len(active) == 8
    found = await all_ciphertexts(services)
    assert found["otp_authenticators.secret_ciphertext"] and found["access_keys.secret_ciphertext"]
    for values in found.values():
        assert all(v.startswith(f"{CIPHERTEXT_PREFIX}{active}:") for v in values), values


async def test_a_process_reads_a_key_it_did_not_know_and_picks_up_the_new_active_key(
    services: Services, other: Services, settings: Settings
) -> None:
    ticks, master, refresh = Ticks(), load_master_key(settings), settings.keyring_refresh_seconds
    encrypting = Keyring(other.db, master, refresh, monotonic=ticks)
    reading = Keyring(other.db, master, refresh, monotonic=ticks)
    await encrypting.load()
    await reading.load()
    before = encrypting.active
    rotation = await services.key_rotation.begin()
    assert rotation.active != before and rotation.old == [before] and not rotation.resumed

    written = await services.keyring.encrypt("written after the rotation")
    assert key_id_of(written) == rotation.active
    assert await reading.decrypt(written) == "written after the rotation"  # a miss: it read the keyring again
    assert reading.active == rotation.active

    ticks.now += refresh / 2
    soon = await encrypting.encrypt("soon")
    assert key_id_of(soon) == before  # within the refresh interval the old key still encrypts
    ticks.now += refresh
    assert key_id_of(await encrypting.encrypt("later")) == rotation.active  # the refresh found the new key
    assert await reading.decrypt(soon) == "soon"  # the old key decrypts until it is retired


async def test_an_unknown_key_id_after_a_reload_is_a_master_key_error(services: Services) -> None:
    forged = f"{CIPHERTEXT_PREFIX}deadbeef:" + (await services.keyring.encrypt("x")).split(":", 2)[2]
    with pytest.raises(MasterKeyError, match="'deadbeef'"):
        await services.keyring.decrypt(forged)


async def test_a_rotation_rewrites_legacy_and_old_ciphertexts_and_retires_the_old_key(
    api: Api, services: Services, settings: Settings
) -> None:
    await api.ok("POST", "create-user", {"username": "legacy", "otp": {"secret": "JBSWY3DPEHPK3PXPJBSWY3DP"}})
    legacy = SecretBox(load_master_key(settings))  # what Twofold wrote before the keyring
    async with services.db.transaction() as conn:
        await conn.execute("UPDATE otp_authenticators SET secret_ciphertext = :ct",
                           {"ct": legacy.encrypt("JBSWY3DPEHPK3PXPJBSWY3DP")})
    first = services.keyring.active
    status = {k.id: k for k in await services.key_rotation.status()}
    assert status[LEGACY_KEY_ID].uses == {"otp_authenticators.secret_ciphertext": 1}
    assert status[first].state == "active" and status[first].uses["access_keys.secret_ciphertext"] == 1

    rotation = await services.key_rotation.begin()
    assert (await services.key_rotation.begin()).resumed  # run again before it finished: the same one
    done = await services.key_rotation.reencrypt(batch=1)
    assert done["otp_authenticators.secret_ciphertext"].rewritten == 1
    assert done["access_keys.secret_ciphertext"].rewritten == 1
    assert await services.key_rotation.remaining() == {}
    assert await services.key_rotation.retire() == [first]

    async with services.db.read() as conn:
        records = {r.id: r for r in await master_keys_repo.list_all(conn)}
    assert records[first].state == "retired" and records[first].wrapped is None  # the material is gone
    assert records[rotation.active].state == "active"
    for values in (await all_ciphertexts(services)).values():
        assert all(key_id_of(v) == rotation.active for v in values)
    assert await services.keyring.decrypt(
        (await all_ciphertexts(services))["otp_authenticators.secret_ciphertext"][0]) == "JBSWY3DPEHPK3PXPJBSWY3DP"
    assert (await services.key_rotation.reencrypt(batch=10))["access_keys.secret_ciphertext"].rewritten == 0


async def test_a_row_the_server_changed_meanwhile_is_not_clobbered(services: Services) -> None:
    col = next(c for c in ciphertexts.COLUMNS if c.table == "access_keys")
    async with services.db.read() as conn:
        [(pk, current)] = await ciphertexts.not_under(conn, col, "00000000", None, 10)
    async with services.db.transaction() as conn:
        assert await ciphertexts.replace(conn, col, [(pk, "an older value", "ours")]) == 0
        assert await ciphertexts.replace(conn, col, [(pk, current, current)]) == 1


async def test_a_wrong_operator_secret_does_not_unwrap_the_keyring(services: Services, settings: Settings) -> None:
    changed = settings.model_copy(update={"secret_key": SecretStr("another-master-key-0123456789")})
    with pytest.raises(MasterKeyError, match="not the key this database was created with"):
        await build_services(changed)
    async with services.db.read() as conn:  # and it wrote no key of its own
        assert len(await master_keys_repo.list_all(conn)) == 1


async def test_a_fresh_database_with_a_wrong_secret_gets_no_key_wrapped_under_it(settings: Settings) -> None:
    """On a database from before the keyring (no data key yet), a wrong secret is refused before a first
    key is created under it."""
    services = await build_services(settings)
    await bootstrap(services, settings)
    async with services.db.transaction() as conn:
        await conn.execute("DELETE FROM master_keys")
        await conn.execute("DELETE FROM signing_keys")  # a new one is made at the next start
        await conn.execute("UPDATE access_keys SET secret_ciphertext = :ct",
                           {"ct": SecretBox(load_master_key(settings)).encrypt("bootstrap-secret-0123456789abcdef")})
    await services.close()
    changed = settings.model_copy(update={"secret_key": SecretStr("another-master-key-0123456789")})
    with pytest.raises(MasterKeyError, match="not the key this database was created with"):
        await build_services(changed)
    again = await build_services(settings)
    try:
        async with again.db.read() as conn:
            [record] = await master_keys_repo.list_all(conn)
        assert again.keyring.active == record.id
        assert [k.id for k in await again.key_rotation.status()] == [record.id, LEGACY_KEY_ID]
    finally:
        await again.close()


async def test_a_recovery_code_checked_while_a_rotation_rewrites_it_is_still_accepted_once(settings: Settings) -> None:
    """The spend is a compare-and-set on the stored ciphertext: one the rotation re-encrypted between the
    check and the spend holds the same code, so the spend still wins, once."""
    async with otp_user(settings) as otp:
        checker = otp.services.mfa_check.totp
        candidate = await checker.prepare_recovery_code(otp.pool_id, otp.user_id, otp.recovery_code)
        again = await checker.prepare_recovery_code(otp.pool_id, otp.user_id, otp.recovery_code)
        await otp.services.key_rotation.begin()
        assert (await otp.services.key_rotation.reencrypt(batch=10))["otp_authenticators.recovery_code_ciphertext"].rewritten == 1
        assert await otp.services.db.atomic(candidate.accept) is Outcome.ACCEPTED
        assert await otp.services.db.atomic(again.accept) is Outcome.NOT_BOUND  # spent: once only
