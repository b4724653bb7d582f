"""durable print queue: retry time, reason a clerk must confirm, reprint link, sender

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-01 08:00:00
"""

from __future__ import annotations

import sqlalchemy as sa

from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("print_jobs") as batch:
        batch.add_column(sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("confirm_reason", sa.String(length=32), nullable=True))
        batch.add_column(sa.Column("replaces_job_id", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("sending_by", sa.String(length=96), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("print_jobs") as batch:
        batch.drop_column("sending_by")
        batch.drop_column("replaces_job_id")
        batch.drop_column("confirm_reason")
        batch.drop_column("next_attempt_at")
