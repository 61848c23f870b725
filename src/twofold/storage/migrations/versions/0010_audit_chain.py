"""audit_chain: the audit trail's hash chain (audit_events.chain_seq and .mac, set by the sealer) and
each pool's chain head (audit_chain_heads)

Revision ID: 0010_audit_chain
Revises: 0009_keyring
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010_audit_chain"
down_revision = "0009_keyring"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("audit_events", schema=None) as batch_op:
        batch_op.add_column(sa.Column("chain_seq", sa.BigInteger(), nullable=True))
        batch_op.add_column(sa.Column("mac", sa.String(length=64), nullable=True))
    op.create_index(
        "ix_audit_events_unsealed",
        "audit_events",
        ["pool_id", "id"],
        sqlite_where=sa.text("chain_seq IS NULL"),
        postgresql_where=sa.text("chain_seq IS NULL"),
    )
    op.create_index(
        "ix_audit_events_pool_id_chain_seq",
        "audit_events",
        ["pool_id", "chain_seq"],
        unique=True,
        sqlite_where=sa.text("chain_seq IS NOT NULL"),
        postgresql_where=sa.text("chain_seq IS NOT NULL"),
    )
    op.create_table(
        "audit_chain_heads",
        sa.Column("pool_id", sa.String(length=32), nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("mac", sa.String(length=64), nullable=False),
        sa.Column("sealed_at", sa.BigInteger(), nullable=False),
        sa.Column("head_mac", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("pool_id", name=op.f("pk_audit_chain_heads")),
    )


def downgrade() -> None:
    op.drop_table("audit_chain_heads")
    op.drop_index("ix_audit_events_pool_id_chain_seq", table_name="audit_events")
    op.drop_index("ix_audit_events_unsealed", table_name="audit_events")
    with op.batch_alter_table("audit_events", schema=None) as batch_op:
        batch_op.drop_column("mac")
        batch_op.drop_column("chain_seq")
