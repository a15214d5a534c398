"""retention events (contract, employment or use ended) that start retention rules; an acquisition ended
alone by retention

Revision ID: 0032
Revises: 0024
Create Date: 2026-12-03 00:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0032"
down_revision = "0024"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "retention_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("subject_id", sa.String(length=36), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("occurred_on", sa.Date(), nullable=False),
        sa.Column("ledger_entry_id", sa.Integer(), nullable=True),
        sa.Column("source", sa.String(length=64), nullable=False),
        sa.Column("recorded_by", sa.String(length=64), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["ledger_entry_id"],
            ["ledger_entries.id"],
            name=op.f("fk_retention_events_ledger_entry_id_ledger_entries"),
        ),
        sa.ForeignKeyConstraint(
            ["subject_id"],
            ["data_subjects.id"],
            name=op.f("fk_retention_events_subject_id_data_subjects"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_retention_events")),
    )
    with op.batch_alter_table("retention_events", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_retention_events_subject_id"), ["subject_id"], unique=False)
    with op.batch_alter_table("acquisitions", schema=None) as batch_op:
        batch_op.add_column(sa.Column("disposed_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("acquisitions", schema=None) as batch_op:
        batch_op.drop_column("disposed_at")
    with op.batch_alter_table("retention_events", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_retention_events_subject_id"))
    op.drop_table("retention_events")
