"""The PostgreSQL advisory lock keys that serialise schema migrations (``migrations/env.py``) and the
bootstrap of a starting process (``migrate.startup_lock``)."""

from __future__ import annotations

MIGRATION_LOCK = 0x7477_6F66_6F6C_6401  # an arbitrary bigint naming "the Twofold schema migration"
STARTUP_LOCK = 0x7477_6F66_6F6C_6402  # the next one: "a Twofold process bootstrapping"
