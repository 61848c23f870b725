"""The PostgreSQL advisory lock key that serialises schema migrations (``migrations/env.py``)."""

from __future__ import annotations

MIGRATION_LOCK = 0x7477_6F66_6F6C_6401  # an arbitrary bigint naming "the Twofold schema migration"
