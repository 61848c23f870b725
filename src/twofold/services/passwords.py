"""Password hashing with Argon2id (argon2-cffi), off the event loop.

Hashing and verifying run in a thread pool of their own, as many threads as this process may use
cores: an Argon2 call holds no GIL and is all CPU (and 64 MiB), so more threads than cores only
queue inside the kernel and add memory, while sharing the loop's default pool would let a burst of
sign-ins delay every other ``asyncio.to_thread`` (WAL checkpoints, health checks).
"""

from __future__ import annotations

import asyncio
import os
import secrets
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from functools import cache
from typing import TypeVar

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

T = TypeVar("T")
_hasher = PasswordHasher()
_pool = ThreadPoolExecutor(max_workers=max(1, len(os.sched_getaffinity(0))), thread_name_prefix="argon2")


async def _off_loop(fn: Callable[..., T], *args: object) -> T:
    return await asyncio.get_running_loop().run_in_executor(_pool, fn, *args)


async def hash_password(password: str) -> str:
    return await _off_loop(_hasher.hash, password)


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
    return await _off_loop(_verify, password_hash, password)
