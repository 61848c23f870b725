"""console_sessions: the admin console's server-side sessions (the cookie holds a random id, stored hashed),
and the users index its keyset paging walks (pool_id, created_at, id)

Revision ID: 0008_console_sessions
Revises: 0007_login_history
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008_console_sessions"
down_revision = "0007_login_history"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "console_sessions",
        sa.Column("id_digest", sa.String(length=64), nullable=False),
        sa.Column("pool_id", sa.String(length=32), nullable=False),
        sa.Column("access_key_id", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.Column("last_seen_at", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["access_key_id"],
            ["access_keys.id"],
            name=op.f("fk_console_sessions_access_key_id_access_keys"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id_digest", name=op.f("pk_console_sessions")),
    )
    op.create_index(op.f("ix_console_sessions_access_key_id"), "console_sessions", ["access_key_id"])
    op.create_index("ix_users_pool_id_created_at_id", "users", ["pool_id", "created_at", "id"])


def downgrade() -> None:
    op.drop_index("ix_users_pool_id_created_at_id", table_name="users")
    op.drop_index(op.f("ix_console_sessions_access_key_id"), table_name="console_sessions")
    op.drop_table("console_sessions")
