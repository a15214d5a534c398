"""scan dismissals: findings the office marked "not personal", by keyed fingerprint

Revision ID: 0025
Revises: 0028
Create Date: 2026-12-03 00:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0025"
down_revision = "0028"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "scan_dismissals",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("fingerprint", sa.String(length=32), nullable=False),
        sa.Column("entity", sa.String(length=32), nullable=False),
        sa.Column("reason", sa.String(length=200), nullable=False),
        sa.Column("run_id", sa.Integer(), nullable=True),
        sa.Column("marked_by", sa.String(length=64), nullable=False),
        sa.Column("marked_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_scan_dismissals")),
    )
    with op.batch_alter_table("scan_dismissals", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_scan_dismissals_fingerprint"), ["fingerprint"], unique=True)


def downgrade() -> None:
    with op.batch_alter_table("scan_dismissals", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_scan_dismissals_fingerprint"))
    op.drop_table("scan_dismissals")
