"""The sign-in benchmark database (issue 10): an application with a secret, OTP users with a bound
authenticator and a user access token each, and password users without MFA.

It is its own database (label ``signin``), so the pools of the issue-5 scenarios keep exactly the users
they had.  The application is created by Twofold's own ``ApplicationService`` (which issues its secret),
the password hash by Twofold's own ``hash_password`` (so its Argon2 parameters are the server's); the
rows are then written straight into the schema, like harness/seed.py does:

* ``otp_users`` users ``OTP_BASE + i``, each with a TOTP secret (encrypted with the server's master key)
  and a sign-in (a token family) whose access token the harness holds.  The first ``right`` of them
  receive right codes, the others (``wrong``) wrong ones, so the lockouts of the wrong-code scenario never
  touch a user of the right-code scenario.
* ``signin_users`` users ``SIGNIN_BASE + j``, username ``signin<j>``, all with the same password (one
  Argon2 hash copied into every row: verifying it costs exactly what verifying a per-user hash costs),
  no MFA status and no authenticator, so a sign-in answers the token set.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
import secrets
import sqlite3
import time
from collections.abc import Sequence
from dataclasses import dataclass

import psycopg

from twofold.auth import user_tokens
from twofold.auth.vault import SecretBox, load_master_key
from twofold.config import Settings
from twofold.domain.commands import CreateApplicationInput
from twofold.domain.users import DEFAULT_PHOTO
from twofold.services.container import build_services
from twofold.services.context import Caller, Principal
from twofold.services.passwords import hash_password
from twofold.storage.repositories import signing_keys as keys_repo

from . import seed

ISSUER = seed.ISSUER_URL  # TWOFOLD_ISSUER_URL of every bench server (seed.server_env)
PASSWORD = "bench-Passw0rd-correct-horse"
SCOPE = "openid profile"
OTP_BASE = 100_000_000  # user indexes of the OTP users (seed.user_id is a bijection of any index)
SIGNIN_BASE = 200_000_000
_TOKEN_TTL_S = 2 * 86400  # the harness signs its own access tokens: valid for the whole run


def otp_secret(i: int) -> str:
    """The deterministic TOTP secret of OTP user ``i`` (160 bits, base32, as enrolment makes them)."""
    return base64.b32encode(hashlib.sha1(b"twofold-bench-otp-%d" % i).digest()).decode()


def signin_username(j: int) -> str:
    return f"signin{j}"


@dataclass(frozen=True)
class SigninDatabase:
    base: seed.BenchDatabase
    app_id: str
    app_secret: str
    right_users: int  # OTP users 0 .. right-1 get right codes
    wrong_users: int  # OTP users right .. right+wrong-1 get wrong ones
    signin_users: int
    tokens: tuple[str, ...]  # the access token of each OTP user, by index
    otp_user_ids: tuple[str, ...]
    password_hash: str

    @property
    def backend(self) -> str:
        return self.base.backend

    @property
    def url(self) -> str:
        return self.base.url


def prepare(backend: str, url: str, right: int, wrong: int, signin_users: int) -> SigninDatabase:
    base = seed.prepare(backend, url, 0)
    started = time.monotonic()
    app_id, app_secret, password_hash, key = asyncio.run(_bootstrap(url, base.pool_id))
    now_ms = int(time.time() * 1000)
    otp_users = right + wrong
    ids = [seed.user_id(OTP_BASE + i) for i in range(otp_users)]
    families = [secrets.token_hex(12) for _ in range(otp_users)]
    now_s = now_ms // 1000
    tokens = tuple(
        user_tokens.sign(
            key,
            {
                "iss": ISSUER,
                "sub": uid,
                "aud": app_id,
                "iat": now_s,
                "sid": family,
                "exp": now_s + _TOKEN_TTL_S,
                "jti": secrets.token_hex(12),
                "scope": SCOPE,
                "client_id": app_id,
                "userpool_id": base.pool_id,
            },
            user_tokens.ACCESS_TYPE,
        )
        for uid, family in zip(ids, families, strict=True)
    )
    box = SecretBox(load_master_key(_settings(url)))
    profile = json.dumps({"photo": DEFAULT_PHOTO})
    user_rows: list[tuple[object, ...]] = []
    for i, uid in enumerate(ids):
        n = OTP_BASE + i
        user_rows.append(
            (uid, base.pool_id, f"user{n}", seed.user_email(n), "Activated", None, profile, now_ms, now_ms)
        )
    for j in range(signin_users):
        n = SIGNIN_BASE + j
        user_rows.append(
            (
                seed.user_id(n),
                base.pool_id,
                signin_username(j),
                seed.user_email(n),
                "Activated",
                password_hash,
                profile,
                now_ms,
                now_ms,
            )
        )
    otp_rows: list[tuple[object, ...]] = [
        (uid, base.pool_id, box.encrypt(otp_secret(i)), now_ms) for i, uid in enumerate(ids)
    ]
    family_rows: list[tuple[object, ...]] = [
        (f, base.pool_id, app_id, uid, SCOPE, now_ms) for f, uid in zip(families, ids, strict=True)
    ]
    tables: dict[str, tuple[Sequence[str], list[tuple[object, ...]]]] = {
        "users": (_USERS, user_rows),
        "otp_authenticators": (_OTP, otp_rows),
        "token_families": (_FAMILIES, family_rows),
    }
    (_write_sqlite if backend == "sqlite" else _write_postgres)(url, tables)
    seeded = seed.BenchDatabase(
        backend, url, otp_users + signin_users, base.pool_id, base.seed_seconds + time.monotonic() - started
    )
    return SigninDatabase(
        seeded, app_id, app_secret, right, wrong, signin_users, tokens, tuple(ids), password_hash
    )


_USERS = (
    "id",
    "pool_id",
    "username",
    "email",
    "status",
    "password_hash",
    "profile",
    "created_at",
    "updated_at",
)
_OTP = ("user_id", "pool_id", "secret_ciphertext", "created_at")
_FAMILIES = ("id", "pool_id", "app_id", "user_id", "scope", "created_at")


def _settings(url: str) -> Settings:
    return Settings(
        database_url=url,
        secret_key=seed.SECRET_KEY,
        bootstrap_access_key_id=seed.KEY_ID,
        bootstrap_access_key_secret=seed.KEY_SECRET,
        issuer_url=ISSUER,
    )


async def _bootstrap(url: str, pool_id: str) -> tuple[str, str, str, user_tokens.SigningKey]:
    """The application (and its secret), the password hash, and the signing key the server will use."""
    settings = _settings(url)
    services = await build_services(settings)
    try:
        caller = Caller(Principal(pool_id, seed.KEY_ID, frozenset()), "bench-seed", "127.0.0.1")
        created = await services.applications.create(caller, CreateApplicationInput(app_name="bench sign-in"))
        password_hash = await hash_password(PASSWORD)
        async with services.db.read() as conn:
            first = (await keys_repo.list_all(conn))[0]
        pem = await services.keyring.decrypt(first["private_key_ciphertext"])
        key = user_tokens.load_signing_key(first["kid"], pem)
        return created.application.id, created.secret, password_hash, key
    finally:
        await services.close()


def _write_sqlite(url: str, tables: dict[str, tuple[Sequence[str], list[tuple[object, ...]]]]) -> None:
    conn = sqlite3.connect(url.split("://", 1)[1][1:], isolation_level=None)
    try:
        conn.execute("BEGIN")
        for table, (columns, rows) in tables.items():
            marks = ", ".join("?" for _ in columns)
            conn.executemany(f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})", rows)
        conn.execute("COMMIT")
        conn.execute("ANALYZE")
    finally:
        conn.close()


def _write_postgres(url: str, tables: dict[str, tuple[Sequence[str], list[tuple[object, ...]]]]) -> None:
    with psycopg.connect(url) as conn:
        with conn.cursor() as cur:
            for table, (columns, rows) in tables.items():
                with cur.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
                    for row in rows:
                        copy.write_row(row)
        conn.commit()
    with psycopg.connect(url, autocommit=True) as conn:
        for table in tables:
            conn.execute(f"VACUUM ANALYZE {table}")
