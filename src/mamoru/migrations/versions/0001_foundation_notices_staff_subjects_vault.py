"""foundation: notices, staff, subjects, vault

Revision ID: 0001
Revises: -
Create Date: 2026-11-25 15:38:23.537298
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "data_subjects",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("kind", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_data_subjects")),
    )
    with op.batch_alter_table("data_subjects", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_data_subjects_kind"), ["kind"], unique=False)

    op.create_table(
        "published_notices",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("policy_version", sa.String(length=64), nullable=False),
        sa.Column("policy_sha256", sa.String(length=64), nullable=False),
        sa.Column("effective_from", sa.Date(), nullable=False),
        sa.Column("revised_on", sa.Date(), nullable=False),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("published_by", sa.String(length=64), nullable=False),
        sa.Column("source", sa.Text(), nullable=False),
        sa.Column("html_ja", sa.Text(), nullable=False),
        sa.Column("html_en", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_published_notices")),
        sa.UniqueConstraint("policy_sha256", name=op.f("uq_published_notices_policy_sha256")),
    )
    op.create_table(
        "staff",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("login", sa.String(length=64), nullable=False),
        sa.Column("subject_id", sa.String(length=36), nullable=True),
        sa.Column("department", sa.String(length=64), nullable=False),
        sa.Column("joined_on", sa.Date(), nullable=False),
        sa.Column("left_on", sa.Date(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["subject_id"],
            ["data_subjects.id"],
            name=op.f("fk_staff_subject_id_data_subjects"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_staff")),
        sa.UniqueConstraint("login", name=op.f("uq_staff_login")),
    )
    op.create_table(
        "subject_fields",
        sa.Column("subject_id", sa.String(length=36), nullable=False),
        sa.Column("field", sa.String(length=64), nullable=False),
        sa.Column("ciphertext", sa.LargeBinary(), nullable=False),
        sa.Column("blind_index", sa.String(length=64), nullable=True),
        sa.ForeignKeyConstraint(
            ["subject_id"],
            ["data_subjects.id"],
            name=op.f("fk_subject_fields_subject_id_data_subjects"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("subject_id", "field", name=op.f("pk_subject_fields")),
    )
    with op.batch_alter_table("subject_fields", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_subject_fields_blind_index"), ["blind_index"], unique=False)

    op.create_table(
        "subject_keys",
        sa.Column("subject_id", sa.String(length=36), nullable=False),
        sa.Column("wrapped_key", sa.LargeBinary(), nullable=True),
        sa.Column("kek_id", sa.String(length=16), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("erased_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["subject_id"],
            ["data_subjects.id"],
            name=op.f("fk_subject_keys_subject_id_data_subjects"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("subject_id", name=op.f("pk_subject_keys")),
    )
    op.create_table(
        "staff_roles",
        sa.Column("staff_id", sa.Integer(), nullable=False),
        sa.Column("role", sa.String(length=32), nullable=False),
        sa.Column("granted_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["staff_id"], ["staff.id"], name=op.f("fk_staff_roles_staff_id_staff"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("staff_id", "role", name=op.f("pk_staff_roles")),
    )


def downgrade() -> None:
    op.drop_table("staff_roles")
    op.drop_table("subject_keys")
    with op.batch_alter_table("subject_fields", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_subject_fields_blind_index"))

    op.drop_table("subject_fields")
    op.drop_table("staff")
    op.drop_table("published_notices")
    with op.batch_alter_table("data_subjects", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_data_subjects_kind"))

    op.drop_table("data_subjects")
