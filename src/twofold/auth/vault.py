"""The master key and encryption of secrets at rest.

The master key comes from ``TWOFOLD_SECRET_KEY``, ``TWOFOLD_SECRET_KEY_FILE`` or, on first start, a new
random key written to ``<data_dir>/master.key`` with mode 0600.  Sub-keys are derived with HKDF, one per
purpose, so the JWT signing key and the encryption key are never the same bytes.  Encryption is
Fernet (AES-128-CBC + HMAC-SHA256, from ``cryptography``).

Secrets at rest are encrypted with random data keys (the keyring, table ``master_keys``), each stored
wrapped under a key derived from the master key; every ciphertext names its data key (docs/keys.md).
"""

from __future__ import annotations

import base64
import os
import secrets
from collections.abc import Mapping
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from twofold.config import Settings

_PLACEHOLDERS = {
    "changeme",
    "change-me",
    "change_me",
    "secret",
    "password",
    "twofold",
    "default",
    "example",
    "your-secret-key",
    "your_secret_key",
    "replace-me",
    "xxx",
    "test",
    "dev",
    "insecure",
}
MIN_SECRET_LENGTH = 16


class MasterKeyError(RuntimeError):
    """The configured master key is unusable: missing, empty, a well-known placeholder, or not the key
    the stored secrets were encrypted with.  A startup error: ``build_services`` checks all of it, so
    the CLI prints one line and exits non-zero, and the app fails to start."""


def _check(secret: str, source: str) -> str:
    cleaned = secret.strip()
    if not cleaned:
        raise MasterKeyError(f"{source} is empty")
    if cleaned.lower() in _PLACEHOLDERS or len(set(cleaned)) < 4:
        raise MasterKeyError(f"{source} is a well-known placeholder; generate a random key")
    if len(cleaned) < MIN_SECRET_LENGTH:
        raise MasterKeyError(f"{source} is shorter than {MIN_SECRET_LENGTH} characters")
    return cleaned


def load_master_key(settings: Settings) -> bytes:
    """Return the master key, creating ``master.key`` in the data dir on first start."""
    if settings.secret_key is not None:
        return _check(settings.secret_key.get_secret_value(), "TWOFOLD_SECRET_KEY").encode()
    if settings.secret_key_file is not None:
        try:
            text = settings.secret_key_file.read_text(encoding="utf-8")
        except OSError as exc:
            raise MasterKeyError(
                f"TWOFOLD_SECRET_KEY_FILE ({settings.secret_key_file}) cannot be read: {exc.strerror}"
            ) from None
        return _check(text, f"TWOFOLD_SECRET_KEY_FILE ({settings.secret_key_file})").encode()
    path = Path(settings.data_dir) / "master.key"
    if path.exists():
        return _check(path.read_text(encoding="utf-8"), str(path)).encode()
    path.parent.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(48)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(key)
    return key.encode()


def derive_key(master: bytes, purpose: str, length: int = 32) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=length, salt=None, info=purpose.encode()).derive(master)


CIPHERTEXT_PREFIX = "tf1:"  # "tf1:<key id>:<Fernet token>"; a ciphertext without it is a legacy one
KEY_ID_LENGTH = 8
LEGACY_KEY_ID = "legacy"  # the data key of the unprefixed ciphertexts: HKDF(operator secret, ...v1)
_LEGACY_PURPOSE = "twofold/secrets-at-rest/v1"
_WRAP_PURPOSE = "twofold/keyring-wrap/v1"
WRONG_MASTER_KEY = (
    "the master key does not decrypt the stored secrets: it is not the key this database"
    " was created with (TWOFOLD_SECRET_KEY, TWOFOLD_SECRET_KEY_FILE or <data_dir>/master.key)"
)


class UnknownDataKey(MasterKeyError):
    """A ciphertext names a data key this box does not hold (newer than the box, or retired)."""

    def __init__(self, key_id: str) -> None:
        super().__init__(f"a stored secret names data key {key_id!r}, which the keyring does not hold")
        self.key_id = key_id


def key_id_of(ciphertext: str) -> str:
    """The id of the data key that encrypted ``ciphertext`` (``LEGACY_KEY_ID`` for an unprefixed one)."""
    if ciphertext.startswith(CIPHERTEXT_PREFIX):
        return ciphertext[len(CIPHERTEXT_PREFIX) : len(CIPHERTEXT_PREFIX) + KEY_ID_LENGTH]
    return LEGACY_KEY_ID


def new_data_key() -> tuple[str, bytes]:
    """A fresh data key: (its id, its 32 random bytes)."""
    return secrets.token_hex(KEY_ID_LENGTH // 2), secrets.token_bytes(32)


def _fernet(key: bytes) -> Fernet:
    return Fernet(base64.urlsafe_b64encode(key))


def wrap_data_key(master: bytes, data_key: bytes) -> str:
    """``data_key`` encrypted under the key-encryption key HKDF(operator secret, keyring-wrap/v1)."""
    return _fernet(derive_key(master, _WRAP_PURPOSE)).encrypt(data_key).decode()


def unwrap_data_key(master: bytes, wrapped: str) -> bytes:
    try:
        return _fernet(derive_key(master, _WRAP_PURPOSE)).decrypt(wrapped.encode())
    except InvalidToken:
        raise MasterKeyError(WRONG_MASTER_KEY) from None


class SecretBox:
    """Encrypts and decrypts short secrets (access-key secrets, TOTP seeds) with the data keys.

    ``keys`` maps data-key ids to their bytes; ``active`` names the one new ciphertexts are encrypted
    with (``tf1:<id>:<token>``).  The legacy key, derived from the operator secret, always decrypts
    unprefixed ciphertexts; without ``active`` it also encrypts (unprefixed, as before the keyring).
    The services use it through ``services/keyring.py``, which keeps it current."""

    def __init__(self, master: bytes, keys: Mapping[str, bytes] | None = None, active: str | None = None) -> None:
        self._legacy = _fernet(derive_key(master, _LEGACY_PURPOSE))
        self._fernets = {key_id: _fernet(key) for key_id, key in (keys or {}).items()}
        if active is not None and active not in self._fernets:
            raise ValueError(f"the active data key {active!r} is not among the keys")
        self.active = active
        self._prefix = f"{CIPHERTEXT_PREFIX}{active}:" if active else ""

    def encrypt(self, plaintext: str) -> str:
        fernet = self._legacy if self.active is None else self._fernets[self.active]
        return self._prefix + fernet.encrypt(plaintext.encode()).decode()

    def decrypt(self, ciphertext: str) -> str:
        """Raises ``UnknownDataKey`` when the ciphertext names a key not held, ``MasterKeyError`` when
        the key does not decrypt it."""
        if ciphertext.startswith(CIPHERTEXT_PREFIX):
            key_id = key_id_of(ciphertext)
            fernet = self._fernets.get(key_id)
            if fernet is None:
                raise UnknownDataKey(key_id)
            token = ciphertext[len(CIPHERTEXT_PREFIX) + KEY_ID_LENGTH + 1 :]
        else:
            fernet, token = self._legacy, ciphertext
        try:
            return fernet.decrypt(token.encode()).decode()
        except InvalidToken as exc:
            raise MasterKeyError("a stored secret cannot be decrypted with this master key") from exc
