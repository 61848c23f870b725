"""TOTP replay protection (the last accepted step) and MFA failure counters

Revision ID: 0003_otpcheck
Revises: 0002_custom_fields
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003_otpcheck"
down_revision = "0002_custom_fields"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("otp_authenticators", schema=None) as batch_op:
        batch_op.add_column(sa.Column("last_used_step", sa.BigInteger(), nullable=True))
    op.create_table(
        "mfa_failures",
        sa.Column("pool_id", sa.String(length=32), nullable=False),
        sa.Column("user_id", sa.String(length=32), nullable=False),
        sa.Column("factor", sa.String(length=16), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("locked_until", sa.BigInteger(), nullable=True),
        sa.Column("last_failure_at", sa.BigInteger(), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_mfa_failures_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("user_id", "factor", name=op.f("pk_mfa_failures")),
    )


def downgrade() -> None:
    op.drop_table("mfa_failures")
    with op.batch_alter_table("otp_authenticators", schema=None) as batch_op:
        batch_op.drop_column("last_used_step")
