"""one-time codes, their send limits and the dev outbox

Revision ID: 0004_delivery
Revises: 0003_otpcheck
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004_delivery"
down_revision = "0003_otpcheck"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "passcodes",
        sa.Column("pool_id", sa.String(length=32), nullable=False),
        sa.Column("channel", sa.String(length=32), nullable=False),
        sa.Column("target", sa.String(length=340), nullable=False),
        sa.Column("code_hash", sa.String(length=64), nullable=False),
        sa.Column("issued_at", sa.BigInteger(), nullable=False),
        sa.Column("expires_at", sa.BigInteger(), nullable=False),
        sa.Column("attempts", sa.Integer(), server_default="0", nullable=False),
        sa.Column("consumed_at", sa.BigInteger(), nullable=True),
        sa.PrimaryKeyConstraint("pool_id", "channel", "target", name=op.f("pk_passcodes")),
    )
    op.create_index(op.f("ix_passcodes_expires_at"), "passcodes", ["expires_at"], unique=False)
    op.create_table(
        "passcode_throttles",
        sa.Column("scope", sa.String(length=400), nullable=False),
        sa.Column("sent_at", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("scope", name=op.f("pk_passcode_throttles")),
    )
    op.create_index(op.f("ix_passcode_throttles_sent_at"), "passcode_throttles", ["sent_at"], unique=False)
    op.create_table(
        "passcode_quotas",
        sa.Column("scope", sa.String(length=400), nullable=False),
        sa.Column("window_start", sa.BigInteger(), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("scope", "window_start", name=op.f("pk_passcode_quotas")),
    )
    op.create_index(
        op.f("ix_passcode_quotas_window_start"), "passcode_quotas", ["window_start"], unique=False
    )
    op.create_table(
        "outbox_messages",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("pool_id", sa.String(length=32), nullable=False),
        sa.Column("medium", sa.String(length=8), nullable=False),
        sa.Column("ciphertext", sa.Text(), nullable=False),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outbox_messages")),
    )
    op.create_index(op.f("ix_outbox_messages_created_at"), "outbox_messages", ["created_at"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_outbox_messages_created_at"), table_name="outbox_messages")
    op.drop_table("outbox_messages")
    op.drop_index(op.f("ix_passcode_quotas_window_start"), table_name="passcode_quotas")
    op.drop_table("passcode_quotas")
    op.drop_index(op.f("ix_passcode_throttles_sent_at"), table_name="passcode_throttles")
    op.drop_table("passcode_throttles")
    op.drop_index(op.f("ix_passcodes_expires_at"), table_name="passcodes")
    op.drop_table("passcodes")
