"""indexes for the console's counts

Revision ID: 0022
Revises: 0020
Create Date: 2026-12-03 07:00:00
"""

from __future__ import annotations

from alembic import op

revision = "0022"
down_revision = "0020"
branch_labels = None
depends_on = None

INDEXES = (
    ("ix_subject_requests_completed_at", "subject_requests", ["completed_at"]),
    ("ix_incidents_aware_at", "incidents", ["aware_at"]),
    ("ix_data_subjects_erased_at", "data_subjects", ["erased_at"]),
    ("ix_staff_department_login", "staff", ["department", "login"]),
)


def upgrade() -> None:
    for name, table, columns in INDEXES:
        op.create_index(name, table, columns, unique=False)


def downgrade() -> None:
    for name, table, _ in INDEXES:
        op.drop_index(name, table_name=table)
