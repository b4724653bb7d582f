"""payment provider: fee basis, provider tries, refunds

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-25 09:00:00
"""

from __future__ import annotations

import sqlalchemy as sa

from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("payment_orders") as batch:
        batch.add_column(sa.Column("fee_basis", sa.String(length=200), nullable=True))
        batch.add_column(
            sa.Column("create_attempts", sa.Integer(), nullable=False, server_default="0")
        )
        batch.add_column(sa.Column("refund_key", sa.String(length=64), nullable=True))
        batch.add_column(sa.Column("refund_method", sa.String(length=16), nullable=True))
        batch.add_column(sa.Column("refunded_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("refunded_by", sa.String(length=64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("payment_orders") as batch:
        for name in (
            "refunded_by",
            "refunded_at",
            "refund_method",
            "refund_key",
            "create_attempts",
            "fee_basis",
        ):
            batch.drop_column(name)
