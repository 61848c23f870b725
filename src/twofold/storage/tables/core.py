"""The schema, as SQLAlchemy Core tables.  Alembic migrations create it; the request hot path uses
hand-written SQL through ``database.py`` (see docs/architecture.md for why).

Times are integer milliseconds since the epoch and JSON documents are TEXT, so the same SQL runs on
SQLite and PostgreSQL without type adapters.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
    text,
)

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

user_pools = Table(
    "user_pools",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("name", String(200), nullable=False),
    Column("mfa_enabled_factors", Text, nullable=False, server_default="[]"),
    Column("created_at", BigInteger, nullable=False),
)

access_keys = Table(
    "access_keys",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("pool_id", String(32), ForeignKey("user_pools.id", ondelete="CASCADE"), nullable=False),
    Column("secret_ciphertext", Text, nullable=False),
    Column("description", String(200), nullable=False, server_default=""),
    Column("permissions", Text, nullable=False, server_default="[]"),
    Column("created_at", BigInteger, nullable=False),
    Column("revoked_at", BigInteger, nullable=True),
    Index(None, "pool_id"),
)

signature_nonces = Table(
    "signature_nonces",
    metadata,
    Column("access_key_id", String(64), nullable=False),
    Column("nonce", String(128), nullable=False),
    Column("expires_at", BigInteger, nullable=False),
    PrimaryKeyConstraint("access_key_id", "nonce"),
    Index(None, "expires_at"),
)

users = Table(
    "users",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("pool_id", String(32), ForeignKey("user_pools.id", ondelete="CASCADE"), nullable=False),
    Column("username", String(200), nullable=True),
    Column("email", String(320), nullable=True),
    Column("phone", String(32), nullable=True),
    Column("phone_country_code", String(8), nullable=True),
    Column("external_id", String(200), nullable=True),
    Column("status", String(16), nullable=False),
    Column("name", String(200), nullable=True),
    Column("nickname", String(200), nullable=True),
    Column("password_hash", Text, nullable=True),
    Column("profile", Text, nullable=False, server_default="{}"),
    Column("custom_data", Text, nullable=False, server_default="{}"),
    Column("logins_count", Integer, nullable=False, server_default="0"),
    Column("created_at", BigInteger, nullable=False),
    Column("updated_at", BigInteger, nullable=False),
    Index(None, "pool_id", "username", unique=True),
    Index(None, "pool_id", "email", unique=True),
    Index(None, "pool_id", "external_id", unique=True),
    Index(None, "pool_id", "phone", "phone_country_code", unique=True),
    Index(None, "pool_id", "created_at"),
    Index(None, "pool_id", "updated_at"),
    # the admin console's keyset paging, newest first (repositories/users.py list_newest)
    Index("ix_users_pool_id_created_at_id", "pool_id", "created_at", "id"),
)

identities = Table(
    "identities",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("pool_id", String(32), nullable=False),
    Column("user_id", String(32), ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    Column("ext_idp_id", String(200), nullable=False),
    Column("provider", String(32), nullable=False),
    Column("type", String(64), nullable=False),
    Column("user_id_in_idp", String(300), nullable=False),
    Column("user_info_in_idp", Text, nullable=False, server_default="{}"),
    Column("origin_conn_ids", Text, nullable=False, server_default="[]"),
    Column("created_at", BigInteger, nullable=False),
    Index(None, "pool_id", "ext_idp_id", "user_id_in_idp", "type", unique=True),
    Index(None, "user_id"),
)

sync_relations = Table(
    "sync_relations",
    metadata,
    Column("pool_id", String(32), nullable=False),
    Column("provider", String(64), nullable=False),
    Column("user_id_in_idp", String(300), nullable=False),
    Column("user_id", String(32), ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    Column("created_at", BigInteger, nullable=False),
    PrimaryKeyConstraint("pool_id", "provider", "user_id_in_idp"),
    Index(None, "user_id"),
)

otp_authenticators = Table(
    "otp_authenticators",
    metadata,
    Column("user_id", String(32), ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
    Column("pool_id", String(32), nullable=False),
    Column("secret_ciphertext", Text, nullable=False),
    Column("recovery_code_ciphertext", Text, nullable=True),
    Column("created_at", BigInteger, nullable=False),
    Column("last_used_step", BigInteger, nullable=True),  # the last accepted TOTP step (replay guard)
)

# Enrolments waiting for their first code (services/enrolment.py): never an active authenticator
# until confirmed.  Keyed by the SHA-256 of the enrollmentToken.
pending_enrolments = Table(
    "pending_enrolments",
    metadata,
    Column("token_digest", String(64), primary_key=True),
    Column("pool_id", String(32), nullable=False),
    Column("user_id", String(32), ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    Column("factor", String(16), nullable=False),
    Column("secret_ciphertext", Text, nullable=False),
    Column("recovery_code_hash", String(80), nullable=False),
    Column("created_at", BigInteger, nullable=False),
    Column("expires_at", BigInteger, nullable=False),
    Index(None, "user_id"),
)

# Consecutive failed MFA verifications per user and factor, and the lock they lead to
# (docs/mfa-status.md#lockout).  Separate from anything about passwords.
mfa_failures = Table(
    "mfa_failures",
    metadata,
    Column("pool_id", String(32), nullable=False),
    Column("user_id", String(32), ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    Column("factor", String(16), nullable=False),
    Column("failures", Integer, nullable=False),
    Column("locked_until", BigInteger, nullable=True),
    Column("last_failure_at", BigInteger, nullable=True),
    PrimaryKeyConstraint("user_id", "factor"),
)

mfa_statuses = Table(
    "mfa_statuses",
    metadata,
    Column("user_id", String(32), ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
    Column("pool_id", String(32), nullable=False),
    Column("document", Text, nullable=False),
    Column("totp_enabled", Boolean, nullable=False),
    Column("face_enabled", Boolean, nullable=False),
    Column("any_enabled", Boolean, nullable=False),
    Column("version", Integer, nullable=False),
    Column("updated_at", BigInteger, nullable=False),
)

applications = Table(
    "applications",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("pool_id", String(32), ForeignKey("user_pools.id", ondelete="CASCADE"), nullable=False),
    Column("name", String(200), nullable=False),
    Column("identifier", String(200), nullable=True),
    Column("app_type", String(32), nullable=False),
    Column("config", Text, nullable=False, server_default="{}"),
    Column("mfa_enabled_factors", Text, nullable=True),
    Column("created_at", BigInteger, nullable=False),
    Column("updated_at", BigInteger, nullable=False),
    Index(None, "pool_id", "identifier", unique=True),
    Index(None, "pool_id", "created_at"),
)

audit_events = Table(
    "audit_events",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("pool_id", String(32), nullable=False),
    Column("at", BigInteger, nullable=False),
    Column("actor", String(64), nullable=False),
    Column("request_id", String(128), nullable=False),
    Column("client_ip", String(64), nullable=False),
    Column("target_user_id", String(32), nullable=True),
    Column("action", String(64), nullable=False),
    Column("before", Text, nullable=True),
    Column("after", Text, nullable=True),
    # The pool's hash chain (services/audit_chain.py): NULL until the sealer reaches the event.
    Column("chain_seq", BigInteger, nullable=True),
    Column("mac", String(64), nullable=True),  # hex HMAC-SHA256 over the content and the previous mac
    Index(None, "pool_id", "id"),
    Index(None, "pool_id", "target_user_id", "id"),
    Index(None, "pool_id", "action", "id"),
    # Both partial: a new (unsealed) event adds one small entry, to the index the sealer reads.
    Index(
        "ix_audit_events_unsealed",
        "pool_id",
        "id",
        sqlite_where=text("chain_seq IS NULL"),
        postgresql_where=text("chain_seq IS NULL"),
    ),
    Index(
        "ix_audit_events_pool_id_chain_seq",
        "pool_id",
        "chain_seq",
        unique=True,
        sqlite_where=text("chain_seq IS NOT NULL"),
        postgresql_where=text("chain_seq IS NOT NULL"),
    ),
)

# The last sealed event of each pool's chain: its seq and mac, and ``head_mac``, a MAC over the row
# itself, so that the head cannot be moved back without the key (services/audit_chain.py).
audit_chain_heads = Table(
    "audit_chain_heads",
    metadata,
    Column("pool_id", String(32), primary_key=True),
    Column("seq", BigInteger, nullable=False),
    Column("mac", String(64), nullable=False),
    Column("sealed_at", BigInteger, nullable=False),
    Column("head_mac", String(64), nullable=False),
)

custom_fields = Table(
    "custom_fields",
    metadata,
    Column("pool_id", String(32), ForeignKey("user_pools.id", ondelete="CASCADE"), nullable=False),
    Column("target_type", String(16), nullable=False),
    Column("key", String(64), nullable=False),
    Column("data_type", String(16), nullable=False),
    Column("definition", Text, nullable=False),  # label, description, options, flags (JSON)
    Column("created_at", BigInteger, nullable=False),
    Column("updated_at", BigInteger, nullable=False),
    PrimaryKeyConstraint("pool_id", "target_type", "key"),
)

# --- one-time codes and their delivery (docs/delivery.md) -----------------------------------------
# The live code of one target for one channel: a new code replaces the old one.  Only its HMAC is kept.
passcodes = Table(
    "passcodes",
    metadata,
    Column("pool_id", String(32), nullable=False),
    Column("channel", String(32), nullable=False),
    Column("target", String(340), nullable=False),  # "email:<address>" or "phone:+<E.164>"
    Column("code_hash", String(64), nullable=False),  # hex HMAC-SHA256 (services/passcodes.py)
    Column("issued_at", BigInteger, nullable=False),
    Column("expires_at", BigInteger, nullable=False),
    Column("attempts", Integer, nullable=False, server_default="0"),
    Column("consumed_at", BigInteger, nullable=True),
    PrimaryKeyConstraint("pool_id", "channel", "target"),
    Index(None, "expires_at"),
)

# When a target last got a code (the 1-per-interval rule), compared and set in one statement.
passcode_throttles = Table(
    "passcode_throttles",
    metadata,
    Column("scope", String(400), primary_key=True),
    Column("sent_at", BigInteger, nullable=False),
    Index(None, "sent_at"),
)

# Hourly counters (per client IP, per pool): one row per scope and fixed window.
passcode_quotas = Table(
    "passcode_quotas",
    metadata,
    Column("scope", String(400), nullable=False),
    Column("window_start", BigInteger, nullable=False),
    Column("count", Integer, nullable=False),
    PrimaryKeyConstraint("scope", "window_start"),
    Index(None, "window_start"),
)

# Messages "sent" while no transport is configured (development): the body is encrypted at rest.
outbox_messages = Table(
    "outbox_messages",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("pool_id", String(32), nullable=False),
    Column("medium", String(8), nullable=False),  # email | sms
    Column("ciphertext", Text, nullable=False),  # SecretBox: {to, subject, text, purpose} as JSON
    Column("created_at", BigInteger, nullable=False),
    Index(None, "created_at"),
)

# --- the keyring (migration 0009_keyring, docs/keys.md) ---------------------------------------------
# The data keys that encrypt secrets at rest, each wrapped (Fernet) under a key derived from the
# operator secret.  Exactly one is active (new ciphertexts); ``decrypt`` ones still protect old
# ciphertexts during a rotation; a retired one protects nothing and its material is erased.
master_keys = Table(
    "master_keys",
    metadata,
    Column("id", String(16), primary_key=True),
    Column("wrapped", Text, nullable=True),  # NULL once retired
    Column("state", String(16), nullable=False),  # active | decrypt | retired
    Column("created_at", BigInteger, nullable=False),
    Column("retired_at", BigInteger, nullable=True),
    Index(
        "uq_master_keys_active",
        "state",
        unique=True,
        sqlite_where=text("state = 'active'"),
        postgresql_where=text("state = 'active'"),
    ),
)
