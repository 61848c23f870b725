"""enrolment: pending factor enrolments (a TOTP secret waiting for its first code)

Revision ID: 0006_enrolment
Revises: 0005_signin
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006_enrolment"
down_revision = "0005_signin"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "pending_enrolments",
        sa.Column("token_digest", sa.String(length=64), nullable=False),
        sa.Column("pool_id", sa.String(length=32), nullable=False),
        sa.Column("user_id", sa.String(length=32), nullable=False),
        sa.Column("factor", sa.String(length=16), nullable=False),
        sa.Column("secret_ciphertext", sa.Text(), nullable=False),
        sa.Column("recovery_code_hash", sa.String(length=80), nullable=False),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.Column("expires_at", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_pending_enrolments_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("token_digest", name=op.f("pk_pending_enrolments")),
    )
    op.create_index(op.f("ix_pending_enrolments_user_id"), "pending_enrolments", ["user_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_pending_enrolments_user_id"), table_name="pending_enrolments")
    op.drop_table("pending_enrolments")
