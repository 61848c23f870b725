"""Password hashing with Argon2id (argon2-cffi), off the event loop."""

from __future__ import annotations

import asyncio
import secrets
from functools import cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

_hasher = PasswordHasher()


async def hash_password(password: str) -> str:
    return await asyncio.to_thread(_hasher.hash, password)


def is_argon2_hash(value: str) -> bool:
    return value.startswith("$argon2")


@cache
def _dummy_hash() -> str:
    """A hash to verify against when there is no user (or no password): the same Argon2 cost, so an
    unknown account takes as long to refuse as a wrong password."""
    return _hasher.hash(secrets.token_urlsafe(16))


def _verify(password_hash: str | None, password: str) -> bool:
    try:
        return _hasher.verify(password_hash or _dummy_hash(), password) and password_hash is not None
    except (VerifyMismatchError, InvalidHashError, VerificationError):
        return False


async def verify_password(password_hash: str | None, password: str) -> bool:
    """Argon2 verification off the event loop; ``None`` (no user, no password) verifies a dummy hash."""
    return await asyncio.to_thread(_verify, password_hash, password)
