"""purpose versions and the notice queue of a changed purpose: each version a publication put in force
(related or not, why, who approved, its improper-use assessment), and one row per person to be told of a
change or asked for consent; writes to the queue change the guard's subject stamp

Revision ID: 0030
Revises: 0024
Create Date: 2026-12-03 00:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0030"
down_revision = "0032"
branch_labels = None
depends_on = None

_EVENTS = ("INSERT", "UPDATE", "DELETE")


def upgrade() -> None:
    op.create_table(
        "purpose_versions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("purpose_id", sa.String(length=64), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("notice_id", sa.Integer(), nullable=False),
        sa.Column("text_ja", sa.Text(), nullable=False),
        sa.Column("text_en", sa.Text(), nullable=False),
        sa.Column("related", sa.Boolean(), nullable=True),
        sa.Column("justification_ja", sa.Text(), nullable=True),
        sa.Column("justification_en", sa.Text(), nullable=True),
        sa.Column("approved_by", sa.String(length=64), nullable=False),
        sa.Column("assessed_by", sa.String(length=200), nullable=False),
        sa.Column("assessed_on", sa.Date(), nullable=False),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["notice_id"],
            ["published_notices.id"],
            name=op.f("fk_purpose_versions_notice_id_published_notices"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_purpose_versions")),
        sa.UniqueConstraint("purpose_id", "version", name=op.f("uq_purpose_versions_purpose_id")),
    )
    with op.batch_alter_table("purpose_versions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_purpose_versions_purpose_id"), ["purpose_id"], unique=False)
    op.create_table(
        "purpose_notices",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("purpose_id", sa.String(length=64), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("subject_id", sa.String(length=36), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("delivered_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("channel", sa.String(length=64), nullable=True),
        sa.ForeignKeyConstraint(
            ["subject_id"],
            ["data_subjects.id"],
            name=op.f("fk_purpose_notices_subject_id_data_subjects"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_purpose_notices")),
        sa.UniqueConstraint(
            "purpose_id", "version", "subject_id", name=op.f("uq_purpose_notices_purpose_id")
        ),
    )
    with op.batch_alter_table("purpose_notices", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_purpose_notices_subject_id"), ["subject_id"], unique=False)
    postgres = op.get_bind().dialect.name == "postgresql"
    for event in _EVENTS:
        name = f"gv_purpose_notices_{event.lower()}"
        if postgres:
            op.execute(
                f"CREATE CONSTRAINT TRIGGER {name} AFTER {event} ON purpose_notices DEFERRABLE INITIALLY "
                "DEFERRED FOR EACH ROW EXECUTE FUNCTION mamoru_guard_version_bump('subjects')"
            )
        else:
            op.execute(
                f"CREATE TRIGGER {name} AFTER {event} ON purpose_notices BEGIN "
                "UPDATE guard_versions SET stamp = lower(hex(randomblob(16))) WHERE area = 'subjects'; END"
            )


def downgrade() -> None:
    postgres = op.get_bind().dialect.name == "postgresql"
    for event in _EVENTS:
        name = f"gv_purpose_notices_{event.lower()}"
        op.execute(f"DROP TRIGGER IF EXISTS {name}" + (" ON purpose_notices" if postgres else ""))
    with op.batch_alter_table("purpose_notices", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_purpose_notices_subject_id"))
    op.drop_table("purpose_notices")
    with op.batch_alter_table("purpose_versions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_purpose_versions_purpose_id"))
    op.drop_table("purpose_versions")
