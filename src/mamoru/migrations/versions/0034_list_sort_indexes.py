"""list sort indexes: the request queue by kind or by status and the staff register by kind, each then by
id, so that a page of a large list sorted either way is read from an index; and the staff whose training
lapsed, counted from an index alone (issue 22)

Revision ID: 0034
Revises: 0033
Create Date: 2026-12-03 19:10:00
"""

from __future__ import annotations

from alembic import op

revision = "0034"
down_revision = "0033"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # (status, id) serves what (status) did, and the queue sorted by status
    op.drop_index("ix_subject_requests_status", table_name="subject_requests")
    op.create_index("ix_subject_requests_status_id", "subject_requests", ["status", "id"])
    op.create_index("ix_subject_requests_kind_id", "subject_requests", ["kind", "id"])
    op.create_index("ix_staff_kind_id", "staff", ["kind", "id"])
    op.create_index("ix_staff_training_lapsed", "staff", ["revoked_at", "training_completed_at", "left_on"])


def downgrade() -> None:
    op.drop_index("ix_staff_training_lapsed", table_name="staff")
    op.drop_index("ix_staff_kind_id", table_name="staff")
    op.drop_index("ix_subject_requests_kind_id", table_name="subject_requests")
    op.drop_index("ix_subject_requests_status_id", table_name="subject_requests")
    op.create_index("ix_subject_requests_status", "subject_requests", ["status"])
