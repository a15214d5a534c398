"""request status link sent again: when it was last renewed at the requester's asking, and how often

Revision ID: 0027
Revises: 0025
Create Date: 2026-12-03 00:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0027"
down_revision = "0025"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("subject_requests", schema=None) as batch_op:
        batch_op.add_column(sa.Column("link_sent_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("links_sent", sa.Integer(), server_default="0", nullable=False))


def downgrade() -> None:
    with op.batch_alter_table("subject_requests", schema=None) as batch_op:
        batch_op.drop_column("links_sent")
        batch_op.drop_column("link_sent_at")
