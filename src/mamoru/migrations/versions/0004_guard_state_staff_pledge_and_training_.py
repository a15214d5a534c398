"""guard state: staff pledge and training, cessations

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-25 16:29:46.309735
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "cessations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("subject_id", sa.String(length=36), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("purpose", sa.String(length=64), nullable=True),
        sa.Column("recipient", sa.String(length=64), nullable=True),
        sa.Column("effective_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("lifted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("source_ref", sa.String(length=128), nullable=False),
        sa.ForeignKeyConstraint(
            ["subject_id"],
            ["data_subjects.id"],
            name=op.f("fk_cessations_subject_id_data_subjects"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_cessations")),
    )
    with op.batch_alter_table("cessations", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_cessations_subject_id"), ["subject_id"], unique=False)

    with op.batch_alter_table("staff", schema=None) as batch_op:
        batch_op.add_column(sa.Column("pledge_signed_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("training_completed_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("staff", schema=None) as batch_op:
        batch_op.drop_column("training_completed_at")
        batch_op.drop_column("pledge_signed_at")

    with op.batch_alter_table("cessations", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_cessations_subject_id"))

    op.drop_table("cessations")
