"""The keyring every process encrypts and decrypts secrets at rest with (docs/keys.md).

The data keys live in the database (``master_keys``), wrapped under the operator secret.  A process
holds them unwrapped, as cached Fernet objects (``vault.SecretBox``), so a decryption reads nothing:

* it encrypts with the active key, and looks the keyring up again at most every
  ``keyring_refresh_seconds`` (on the first encryption after that), so a rotation made by any process
  reaches every running one within that interval, without a restart;
* a ciphertext naming a key it does not hold (written by a process that already rotated) makes it
  read the keyring once more before it gives up.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

from twofold.auth.vault import (
    MasterKeyError,
    SecretBox,
    UnknownDataKey,
    new_data_key,
    unwrap_data_key,
    wrap_data_key,
)
from twofold.services.context import Clock, system_clock
from twofold.storage.database import Database
from twofold.storage.errors import UniqueViolation
from twofold.storage.repositories import master_keys as repo
from twofold.storage.repositories.master_keys import MasterKeyRecord


class Keyring:
    def __init__(
        self,
        db: Database,
        master: bytes,
        refresh_seconds: float,
        clock: Clock = system_clock,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._db = db
        self._master = master
        self._refresh = refresh_seconds
        self._clock = clock
        self._monotonic = monotonic
        self._unwrapped: dict[str, bytes] = {}
        self._box = SecretBox(master)
        self._loaded_at = float("-inf")
        self._generation = 0  # loads so far
        self._lock = asyncio.Lock()
        self.records: list[MasterKeyRecord] = []

    @property
    def active(self) -> str | None:
        return self._box.active

    async def load(self) -> None:
        """Read the keyring now.  ``MasterKeyError`` when the operator secret does not unwrap it."""
        async with self._db.read() as conn:
            records = await repo.list_all(conn)
        unwrapped = {}
        active = None
        for record in records:
            if record.wrapped is None:  # retired
                continue
            known = self._unwrapped.get(record.id)
            unwrapped[record.id] = known if known is not None else unwrap_data_key(self._master, record.wrapped)
            if record.state == repo.ACTIVE:
                active = record.id
        self._box = SecretBox(self._master, unwrapped, active)
        self._unwrapped = unwrapped
        self.records = records
        self._loaded_at = self._monotonic()
        self._generation += 1

    def wrap(self, data_key: bytes) -> str:
        """``data_key`` as the keyring stores it: encrypted under the operator secret's wrapping key."""
        return wrap_data_key(self._master, data_key)

    async def ensure_active(self) -> None:
        """Create the first data key when the keyring has none (a new database, or one from before the
        keyring: its unprefixed ciphertexts stay readable with the legacy key until a rotation)."""
        if self.active is not None:
            return
        key_id, key = new_data_key()
        try:
            async with self._db.transaction() as conn:
                await repo.add_active(conn, key_id, self.wrap(key), self._clock(), None)
        except UniqueViolation:
            pass  # another process created it first
        await self.load()
        if self.active is None:
            raise MasterKeyError("the keyring has no active data key")

    async def _reload(self, seen: int) -> None:
        """One load for all the callers that found the keyring stale at generation ``seen``."""
        async with self._lock:
            if self._generation == seen:
                await self.load()

    async def encrypt(self, plaintext: str) -> str:
        if self._monotonic() - self._loaded_at >= self._refresh:
            await self._reload(self._generation)
        if self._box.active is None:  # never an unprefixed (legacy) ciphertext from a keyring
            raise MasterKeyError("the keyring has no active data key")
        return self._box.encrypt(plaintext)

    async def decrypt(self, ciphertext: str) -> str:
        seen = self._generation
        try:
            return self._box.decrypt(ciphertext)
        except UnknownDataKey:
            await self._reload(seen)
        return self._box.decrypt(ciphertext)
