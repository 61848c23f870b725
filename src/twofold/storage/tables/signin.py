"""The sign-in tables: application credentials, signing keys, token families and refresh tokens,
spent mfaTokens, sign-in attempts, the login history and the admin console's sessions."""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Column,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
)

from twofold.storage.tables.core import metadata

# --- sign-in (migration 0005_signin) ---------------------------------------------------------------
application_credentials = Table(
    "application_credentials",
    metadata,
    Column("app_id", String(32), ForeignKey("applications.id", ondelete="CASCADE"), primary_key=True),
    Column("pool_id", String(32), nullable=False),
    Column("secret_hash", String(128), nullable=False),  # HMAC-SHA256 of the secret (hex)
    Column("auth_method", String(32), nullable=False),  # client_secret_post | client_secret_basic | none
    Column("updated_at", BigInteger, nullable=False),
)

signing_keys = Table(
    "signing_keys",
    metadata,
    Column("kid", String(64), primary_key=True),
    Column("algorithm", String(16), nullable=False),
    Column("private_key_ciphertext", Text, nullable=False),  # PEM, encrypted with the master key
    Column("public_jwk", Text, nullable=False),
    Column("created_at", BigInteger, nullable=False),
)

token_families = Table(
    "token_families",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("pool_id", String(32), nullable=False),
    Column("app_id", String(32), nullable=False),
    Column("user_id", String(32), ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    Column("scope", String(200), nullable=False),
    Column("created_at", BigInteger, nullable=False),
    Column("revoked_at", BigInteger, nullable=True),
    Index(None, "user_id"),
)

refresh_tokens = Table(
    "refresh_tokens",
    metadata,
    Column("token_hash", String(64), primary_key=True),
    Column("family_id", String(32), ForeignKey("token_families.id", ondelete="CASCADE"), nullable=False),
    Column("created_at", BigInteger, nullable=False),
    Column("expires_at", BigInteger, nullable=False),
    Column("used_at", BigInteger, nullable=True),
    Index(None, "family_id"),
)

spent_mfa_tokens = Table(
    "spent_mfa_tokens",
    metadata,
    Column("jti", String(64), primary_key=True),
    Column("user_id", String(32), nullable=False),
    Column("spent_at", BigInteger, nullable=False),
    Column("expires_at", BigInteger, nullable=False),
    Index(None, "expires_at"),
)

signin_attempts = Table(
    "signin_attempts",
    metadata,
    Column("key", String(64), primary_key=True),  # SHA-256 of "ip:<address>" or "account:<pool>:<identifier>"
    Column("window_start", BigInteger, nullable=False),
    Column("attempts", Integer, nullable=False),
)

# --- login history (migration 0007_login_history) -------------------------------------------------
login_history = Table(
    "login_history",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("pool_id", String(32), nullable=False),
    Column("user_id", String(32), ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    Column("app_id", String(32), nullable=False),  # no foreign key: the history outlives a deleted app
    Column("at", BigInteger, nullable=False),
    Column("outcome", String(16), nullable=False),  # success | failure | mfa_challenge
    Column("connection", String(16), nullable=False),  # PASSWORD | PASSCODE
    Column("factor", String(16), nullable=True),  # the MFA factor that completed the sign-in
    Column("client_ip", String(64), nullable=False),
    Column("user_agent", String(512), nullable=False),
    Column("reason", String(200), nullable=True),  # why a failure failed (never a secret)
    Column("request_id", String(64), nullable=False),
    Index(None, "user_id", "at"),  # the user's newest-first page
)


# --- admin console sessions (migration 0008_console_sessions) ----------------------------------------
console_sessions = Table(
    "console_sessions",
    metadata,
    Column("id_digest", String(64), primary_key=True),  # SHA-256 of the cookie's random session id
    Column("pool_id", String(32), nullable=False),
    Column("access_key_id", String(64), ForeignKey("access_keys.id", ondelete="CASCADE"), nullable=False),
    Column("created_at", BigInteger, nullable=False),
    Column("last_seen_at", BigInteger, nullable=False),
    Index(None, "access_key_id"),
)
