"""requests that find the person: the requester's other identifiers (blind indexes), candidates, identity needs

Revision ID: 0033
Revises: 0024
Create Date: 2026-12-03 12:45:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0033"
down_revision = "0031"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("subject_requests", schema=None) as batch_op:
        batch_op.add_column(sa.Column("identifiers", sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column("identity_needs", sa.JSON(), nullable=True))

    op.create_table(
        "request_candidates",
        sa.Column("request_id", sa.String(length=36), nullable=False),
        sa.Column("subject_id", sa.String(length=36), nullable=False),
        sa.Column("score", sa.Integer(), nullable=False),
        sa.Column("reasons", sa.JSON(), nullable=False),
        sa.Column("decision", sa.String(length=16), nullable=True),
        sa.Column("decided_by", sa.String(length=64), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["request_id"],
            ["subject_requests.id"],
            name=op.f("fk_request_candidates_request_id_subject_requests"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("request_id", "subject_id", name=op.f("pk_request_candidates")),
    )


def downgrade() -> None:
    op.drop_table("request_candidates")
    with op.batch_alter_table("subject_requests", schema=None) as batch_op:
        batch_op.drop_column("identity_needs")
        batch_op.drop_column("identifiers")
