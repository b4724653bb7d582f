"""print documents: a print job prints the form, the payment slip or the 利用控え

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-01 09:30:00
"""

from __future__ import annotations

import sqlalchemy as sa

from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # batch mode: SQLite cannot add a foreign key to an existing table otherwise
    with op.batch_alter_table("print_jobs") as batch:
        batch.add_column(
            sa.Column("document", sa.String(length=16), nullable=False, server_default="form")
        )
        batch.add_column(sa.Column("payment_order_id", sa.Integer(), nullable=True))
        batch.create_foreign_key(
            "fk_print_jobs_payment_order_id", "payment_orders", ["payment_order_id"], ["id"]
        )


def downgrade() -> None:
    with op.batch_alter_table("print_jobs") as batch:
        batch.drop_constraint("fk_print_jobs_payment_order_id", type_="foreignkey")
        batch.drop_column("payment_order_id")
        batch.drop_column("document")
