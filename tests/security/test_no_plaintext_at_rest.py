"""No secret at rest in plaintext: the database's own files are searched, not its rows
(docs/reliability.md#at-rest).

A scenario makes every kind of secret (``drive_credential_endpoints``: import-otp and enrolment TOTP
seeds, recovery codes, the access-key secret, app secrets, tokens, passwords, console sessions; and
``drive`` of tests/security/test_codes_not_logged.py: email and SMS codes, sent through the outbox).
Then, byte by byte:

* SQLite: the database file and its ``-wal`` and ``-shm`` files while the services still have them open
  and the WAL holds the recent pages (the background checkpoint may have restarted it meanwhile), then
  again after a full checkpoint (``TRUNCATE``);
* PostgreSQL: the output of ``pg_dump`` of the test database.

Each secret is looked for as its text, upper and lower case, UTF-16, and, for a TOTP seed, as the raw
bytes its base32 names (also in hex and base64).  Free pages and old WAL frames count too: a value
written once in plaintext and then overwritten would still be found.
"""

from __future__ import annotations

import base64
import re
import shutil
import subprocess
from pathlib import Path

import httpx
import pytest

from tests.security.test_codes_not_logged import drive
from tests.security.test_secrets_not_logged import drive_credential_endpoints
from twofold.auth.vault import LEGACY_KEY_ID, SecretBox, load_master_key
from twofold.config import Settings
from twofold.services.container import Services
from twofold.storage.repositories import ciphertexts

# Base32 seeds among the secrets (their raw bytes are what a careless store would keep).
TOTP_NAMES = ("totp secret 1", "totp secret 2", "enrolment totp secret")


def encodings(name: str, value: str) -> dict[str, bytes]:
    forms = {f"{name}": value.encode(), f"{name} (upper)": value.upper().encode(),
             f"{name} (lower)": value.lower().encode(), f"{name} (utf-16)": value.encode("utf-16-le")}
    if name in TOTP_NAMES:
        raw = base64.b32decode(value.upper() + "=" * (-len(value) % 8))
        assert len(raw) >= 10, name  # long enough that a match cannot be a coincidence
        forms |= {f"{name} (raw)": raw, f"{name} (raw, hex)": raw.hex().encode(),
                  f"{name} (raw, base64)": base64.b64encode(raw).rstrip(b"=")}
    return forms


def found_in(blob: bytes, wanted: dict[str, str], codes: list[str]) -> list[str]:
    hits = [form for name, value in wanted.items() for form, needle in encodings(name, value).items()
            if needle in blob]
    # A 6-digit code only where it stands alone (not inside a longer number, nor a timestamp's
    # fraction of a second "...:05.123456"), as text or UTF-16.
    for code in codes:
        for form, pattern in ((code, rb"(?<![0-9.])" + code.encode() + rb"(?![0-9])"),
                              (f"{code} (utf-16)", b"(?<![0-9]\x00)(?<!\\.\x00)" + code.encode("utf-16-le")
                               + b"(?![0-9]\x00)")):
            if re.search(pattern, blob):
                hits.append(f"code {form}")
    return hits


def sqlite_files(url: str) -> dict[str, bytes]:
    path = Path(url.removeprefix("sqlite:///"))
    files = {suffix: Path(f"{path}{suffix}") for suffix in ("", "-wal", "-shm")}
    return {p.name: p.read_bytes() for p in files.values() if p.exists()}


def pg_dump(url: str) -> bytes:
    tool = shutil.which("pg_dump")
    if tool is None:
        pytest.skip("pg_dump not installed (Debian's postgresql-client)")
    done = subprocess.run([tool, "--no-owner", "--dbname", url.replace("postgresql+psycopg://", "postgresql://")],
                          capture_output=True, check=True, timeout=120)
    return done.stdout


async def database_files(database_url: str, services: Services, user_id: str) -> dict[str, bytes]:
    """SQLite: the files before and after a full checkpoint; PostgreSQL: its ``pg_dump``."""
    if not database_url.startswith("sqlite"):
        blob = pg_dump(database_url)
        assert user_id.encode() in blob  # the dump holds the scenario's rows
        return {"pg_dump": blob}
    before = sqlite_files(database_url)
    assert len(before.get(Path(database_url.removeprefix("sqlite:///")).name + "-wal", b"")) > 0, sorted(before)  # the WAL holds the writes
    async with services.db.read() as conn:
        await conn.fetch_all("PRAGMA wal_checkpoint(TRUNCATE)")
    after = sqlite_files(database_url)
    # the scenario's rows are in the file proper now (a user's id, as a sanity check of the search)
    assert user_id.encode() in next(iter(after.values()))
    blobs = {f"{name} before the checkpoint": blob for name, blob in before.items()}
    return blobs | {f"{name} after the checkpoint": blob for name, blob in after.items()}


async def search(database_url: str, services: Services, user_id: str, wanted: dict[str, str],
                 codes: list[str]) -> dict[str, list[str]]:
    blobs = await database_files(database_url, services, user_id)
    found = {name: found_in(blob, wanted, codes) for name, blob in blobs.items()}
    sizes = {name: len(blob) for name, blob in blobs.items()}
    print(f"searched {sizes} for {len(wanted)} secrets and {len(codes)} codes: {found}")
    return found


async def make_legacy(services: Services, settings: Settings) -> int:
    """Rewrite every ciphertext as Twofold wrote it before the keyring (unprefixed, legacy key)."""
    legacy, changed = SecretBox(load_master_key(settings)), 0
    for col in ciphertexts.COLUMNS:
        async with services.db.read() as conn:
            rows = await ciphertexts.not_under(conn, col, "none", None, 10_000)
        rewrites = [(pk, ct, legacy.encrypt(await services.keyring.decrypt(ct))) for pk, ct in rows]
        async with services.db.transaction() as conn:
            changed += await ciphertexts.replace(conn, col, rewrites)
    return changed


async def test_the_database_files_hold_no_plaintext_secret(client: httpx.AsyncClient, services: Services,
                                                           database_url: str, settings: Settings) -> None:
    exercise = await drive_credential_endpoints(client, services)
    codes, _ = await drive(client, services)
    assert len(codes) == 5
    wanted, user_id = exercise.secrets, exercise.user_ids[0]

    found = await search(database_url, services, user_id, wanted, codes)
    assert all(hits == [] for hits in found.values()), found

    # the same after a database from before the keyring is rotated: no plaintext, and no ciphertext
    # left without a key id or under the old key
    made_legacy = await make_legacy(services, settings)
    assert {k.id for k in await services.key_rotation.status()} >= {LEGACY_KEY_ID}
    rotation = await services.key_rotation.begin()
    done = await services.key_rotation.reencrypt(batch=3)
    assert sum(d.rewritten for d in done.values()) == made_legacy
    assert all(done[name].rewritten > 0 for name in ("outbox_messages.ciphertext", "access_keys.secret_ciphertext",
                                                     "otp_authenticators.secret_ciphertext"))
    assert await services.key_rotation.retire() == rotation.old
    uses = {k.id: k.total for k in await services.key_rotation.status()}
    assert uses == {**{old: 0 for old in rotation.old}, rotation.active: sum(d.rewritten for d in done.values())}

    found = await search(database_url, services, user_id, wanted, codes)
    assert all(hits == [] for hits in found.values()), found
