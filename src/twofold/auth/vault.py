"""The master key and encryption of secrets at rest.

The master key comes from ``TWOFOLD_SECRET_KEY``, ``TWOFOLD_SECRET_KEY_FILE`` or, on first start, a new
random key written to ``<data_dir>/master.key`` with mode 0600.  Sub-keys are derived with HKDF, one per
purpose, so the JWT signing key and the encryption key are never the same bytes.  Encryption is
Fernet (AES-128-CBC + HMAC-SHA256, from ``cryptography``).
"""

from __future__ import annotations

import base64
import os
import secrets
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


class SecretBox:
    """Encrypts and decrypts short secrets (access-key secrets, TOTP seeds) with the master key."""

    def __init__(self, master: bytes) -> None:
        self._fernet = Fernet(base64.urlsafe_b64encode(derive_key(master, "twofold/secrets-at-rest/v1")))

    def encrypt(self, plaintext: str) -> str:
        return self._fernet.encrypt(plaintext.encode()).decode()

    def decrypt(self, ciphertext: str) -> str:
        try:
            return self._fernet.decrypt(ciphertext.encode()).decode()
        except InvalidToken as exc:
            raise MasterKeyError("a stored secret cannot be decrypted with this master key") from exc
