"""master_keys: the keyring of data keys that encrypt secrets at rest, wrapped under the operator secret
(docs/keys.md).  Exactly one key is active (a partial unique index).

Revision ID: 0009_keyring
Revises: 0008_console_sessions
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009_keyring"
down_revision = "0008_console_sessions"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "master_keys",
        sa.Column("id", sa.String(length=16), nullable=False),
        sa.Column("wrapped", sa.Text(), nullable=True),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.Column("retired_at", sa.BigInteger(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_master_keys")),
    )
    op.create_index(
        "uq_master_keys_active",
        "master_keys",
        ["state"],
        unique=True,
        sqlite_where=sa.text("state = 'active'"),
        postgresql_where=sa.text("state = 'active'"),
    )


def downgrade() -> None:
    op.drop_index("uq_master_keys_active", table_name="master_keys")
    op.drop_table("master_keys")
