"""Online rotation of the data key that encrypts secrets at rest (``twofold keys rotate-master``,
docs/keys.md#rotation).

1. ``begin``: a new data key becomes the active one; the old one is kept for decryption.
2. The caller waits a grace period longer than ``keyring_refresh_seconds``: by then every running
   process encrypts with the new key.
3. ``reencrypt``: every ciphertext under another key (the old one, or a legacy unprefixed one) is
   rewritten under the active key, in batches, each row compared and set (a row the server changed
   meanwhile is left as the server wrote it).
4. ``retire``: a decrypt-only key that no ciphertext names any more is retired and its material erased.

Each step can be run again: a rotation killed midway resumes where the database says it is.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Any

from twofold.auth.vault import LEGACY_KEY_ID, MasterKeyError, new_data_key
from twofold.services.context import Clock, system_clock
from twofold.services.keyring import Keyring
from twofold.storage.database import Database
from twofold.storage.repositories import ciphertexts
from twofold.storage.repositories import master_keys as repo


@dataclass(frozen=True)
class KeyUse:
    """A data key (or the legacy one, state ``legacy``) and how many ciphertexts it protects per column."""

    id: str
    state: str
    created_at: int | None
    retired_at: int | None
    uses: dict[str, int]

    @property
    def total(self) -> int:
        return sum(self.uses.values())


@dataclass(frozen=True)
class Rotation:
    active: str  # the new key
    old: list[str]  # the keys it replaces (decrypt only until retired)
    started_at: int  # when the new key became active (ms)
    resumed: bool  # an unfinished rotation found in the database, rather than a new one


@dataclass
class Rewritten:
    """One column's share of a re-encryption pass."""

    rewritten: int = 0
    changed_meanwhile: int = 0  # rows the server rewrote between our read and our write


class KeyRotation:
    def __init__(self, db: Database, keyring: Keyring, clock: Clock = system_clock) -> None:
        self._db = db
        self._keyring = keyring
        self._clock = clock

    def now(self) -> int:
        return self._clock()

    async def status(self) -> list[KeyUse]:
        """Every key of the keyring, oldest first, then the legacy key if anything still uses it."""
        await self._keyring.load()
        counts: dict[str, dict[str, int]] = {}
        async with self._db.read() as conn:
            for col in ciphertexts.COLUMNS:
                for key_id, n in (await ciphertexts.count_by_key(conn, col)).items():
                    counts.setdefault(key_id, {})[col.name] = n
        found = [KeyUse(r.id, r.state, r.created_at, r.retired_at, counts.pop(r.id, {})) for r in self._keyring.records]
        legacy = counts.pop(LEGACY_KEY_ID, {})
        if legacy:
            found.append(KeyUse(LEGACY_KEY_ID, "legacy", None, None, legacy))
        found.extend(KeyUse(key_id, "unknown", None, None, uses) for key_id, uses in sorted(counts.items()))
        return found

    async def begin(self) -> Rotation:
        """Add a new active key, unless a rotation is unfinished (a decrypt-only key is left): then that
        one is resumed."""
        await self._keyring.load()
        records = self._keyring.records
        decrypting = [r.id for r in records if r.state == repo.DECRYPT]
        active = next((r for r in records if r.state == repo.ACTIVE), None)
        if active is None:
            raise MasterKeyError("the keyring has no active data key; start the server once first")
        if decrypting:
            return Rotation(active.id, decrypting, active.created_at, resumed=True)
        key_id, key = new_data_key()
        now = self._clock()
        async with self._db.transaction() as conn:
            added = await repo.add_active(conn, key_id, self._keyring.wrap(key), now, active.id)
        if not added:  # another rotation began meanwhile: resume that one
            return await self.begin()
        await self._keyring.load()
        return Rotation(key_id, [active.id], now, resumed=False)

    async def reencrypt(self, batch: int) -> dict[str, Rewritten]:
        """One pass over every ciphertext column: what is not under the active key is rewritten under it."""
        await self._keyring.load()
        active = self._keyring.active
        assert active is not None
        done = {}
        for col in ciphertexts.COLUMNS:
            progress = done[col.name] = Rewritten()
            after: Any = None
            while True:
                async with self._db.read() as conn:
                    rows = await ciphertexts.not_under(conn, col, active, after, batch)
                if not rows:
                    break
                rewrites = []
                for pk, old in rows:
                    try:
                        plaintext = await self._keyring.decrypt(old)
                    except MasterKeyError as exc:
                        raise MasterKeyError(f"{col.name} of row {pk}: {exc}") from None
                    rewrites.append((pk, old, await self._keyring.encrypt(plaintext)))
                async with self._db.transaction() as conn:
                    written = await ciphertexts.replace(conn, col, rewrites)
                progress.rewritten += written
                progress.changed_meanwhile += len(rows) - written
                after = rows[-1][0]
        return done

    async def remaining(self) -> dict[str, int]:
        """Ciphertexts not under the active key, per column (none: the old keys can be retired)."""
        uses = await self.status()
        active = self._keyring.active
        left: Counter[str] = Counter()
        for key in uses:
            if key.id != active:
                left.update(key.uses)
        return dict(left)

    async def retire(self) -> list[str]:
        """Retire every decrypt-only key that no ciphertext names; the ids retired."""
        uses = {key.id: key.total for key in await self.status()}
        retired = []
        for record in self._keyring.records:
            if record.state == repo.DECRYPT and uses.get(record.id, 0) == 0:
                async with self._db.transaction() as conn:
                    if await repo.retire(conn, record.id, self._clock()):
                        retired.append(record.id)
        await self._keyring.load()
        return retired
