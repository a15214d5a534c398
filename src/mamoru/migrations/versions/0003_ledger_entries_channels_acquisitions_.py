"""ledger: entries, channels, acquisitions, consents, disposals; keys leave the database

Subject data keys move to the key store (vault/keystore.py), outside this database, so that a
copy of the database made before an erasure cannot be read. No installation held subjects at 0002.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-25 16:19:13.266783
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "disposal_records",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("subject_id", sa.String(length=36), nullable=False),
        sa.Column("ledger_entries", sa.JSON(), nullable=False),
        sa.Column("categories", sa.JSON(), nullable=False),
        sa.Column("method", sa.String(length=32), nullable=False),
        sa.Column("reason", sa.String(length=64), nullable=False),
        sa.Column("performed_by", sa.String(length=64), nullable=False),
        sa.Column("performed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("details", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_disposal_records")),
    )
    with op.batch_alter_table("disposal_records", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_disposal_records_subject_id"), ["subject_id"], unique=False)

    op.create_table(
        "ledger_entries",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("data_items", sa.JSON(), nullable=False),
        sa.Column("purposes", sa.JSON(), nullable=False),
        sa.Column("storage_location", sa.String(length=200), nullable=False),
        sa.Column("storage_method", sa.String(length=200), nullable=False),
        sa.Column("access_roles", sa.JSON(), nullable=False),
        sa.Column("use_until", sa.String(length=200), nullable=False),
        sa.Column("retention_rule", sa.String(length=64), nullable=True),
        sa.Column("retention_until", sa.Date(), nullable=True),
        sa.Column("subject_kinds", sa.JSON(), nullable=False),
        sa.Column("acquisition_method", sa.String(length=32), nullable=True),
        sa.Column("notice_method", sa.String(length=200), nullable=True),
        sa.Column("consent", sa.String(length=200), nullable=True),
        sa.Column("recipients", sa.JSON(), nullable=False),
        sa.Column("joint_use", sa.String(length=200), nullable=True),
        sa.Column("processors", sa.JSON(), nullable=False),
        sa.Column("approx_count", sa.Integer(), nullable=True),
        sa.Column("medium", sa.String(length=32), nullable=True),
        sa.Column("disposal_method", sa.String(length=200), nullable=True),
        sa.Column("retained", sa.Boolean(), nullable=False),
        sa.Column("last_reviewed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("reviewer", sa.String(length=64), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ledger_entries")),
        sa.UniqueConstraint("code", name=op.f("uq_ledger_entries_code")),
    )
    op.create_table(
        "channels",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("ledger_entry_id", sa.Integer(), nullable=False),
        sa.Column("source_type", sa.String(length=32), nullable=True),
        sa.Column("notice_in_advance", sa.Boolean(), nullable=False),
        sa.Column("legality_attested_by", sa.String(length=64), nullable=True),
        sa.Column("legality_attested_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["ledger_entry_id"],
            ["ledger_entries.id"],
            name=op.f("fk_channels_ledger_entry_id_ledger_entries"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_channels")),
    )
    op.create_table(
        "consents",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("subject_id", sa.String(length=36), nullable=False),
        sa.Column("scope", sa.String(length=32), nullable=False),
        sa.Column("purpose", sa.String(length=64), nullable=True),
        sa.Column("recipient", sa.String(length=64), nullable=True),
        sa.Column("categories", sa.JSON(), nullable=False),
        sa.Column("channel", sa.String(length=64), nullable=False),
        sa.Column("evidence_ref", sa.String(length=200), nullable=False),
        sa.Column("notice_id", sa.Integer(), nullable=True),
        sa.Column("given_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("withdrawn_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("withdrawal_channel", sa.String(length=64), nullable=True),
        sa.ForeignKeyConstraint(
            ["notice_id"], ["published_notices.id"], name=op.f("fk_consents_notice_id_published_notices")
        ),
        sa.ForeignKeyConstraint(
            ["subject_id"],
            ["data_subjects.id"],
            name=op.f("fk_consents_subject_id_data_subjects"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_consents")),
    )
    with op.batch_alter_table("consents", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_consents_subject_id"), ["subject_id"], unique=False)

    op.create_table(
        "acquisitions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("subject_id", sa.String(length=36), nullable=False),
        sa.Column("channel_id", sa.String(length=64), nullable=False),
        sa.Column("ledger_entry_id", sa.Integer(), nullable=False),
        sa.Column("source_type", sa.String(length=32), nullable=False),
        sa.Column("categories", sa.JSON(), nullable=False),
        sa.Column("purposes_notified", sa.JSON(), nullable=False),
        sa.Column("notice_id", sa.Integer(), nullable=True),
        sa.Column("acquired_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("notification_due", sa.Date(), nullable=True),
        sa.Column("notified_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("consent_id", sa.Integer(), nullable=True),
        sa.Column("exception_code", sa.String(length=32), nullable=True),
        sa.Column("exception_justification", sa.Text(), nullable=True),
        sa.Column("retain_until", sa.Date(), nullable=True),
        sa.ForeignKeyConstraint(
            ["channel_id"], ["channels.id"], name=op.f("fk_acquisitions_channel_id_channels")
        ),
        sa.ForeignKeyConstraint(
            ["consent_id"], ["consents.id"], name=op.f("fk_acquisitions_consent_id_consents")
        ),
        sa.ForeignKeyConstraint(
            ["ledger_entry_id"],
            ["ledger_entries.id"],
            name=op.f("fk_acquisitions_ledger_entry_id_ledger_entries"),
        ),
        sa.ForeignKeyConstraint(
            ["notice_id"], ["published_notices.id"], name=op.f("fk_acquisitions_notice_id_published_notices")
        ),
        sa.ForeignKeyConstraint(
            ["subject_id"],
            ["data_subjects.id"],
            name=op.f("fk_acquisitions_subject_id_data_subjects"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_acquisitions")),
    )
    with op.batch_alter_table("acquisitions", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_acquisitions_ledger_entry_id"), ["ledger_entry_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_acquisitions_retain_until"), ["retain_until"], unique=False)
        batch_op.create_index(batch_op.f("ix_acquisitions_subject_id"), ["subject_id"], unique=False)

    op.drop_table("subject_keys")
    with op.batch_alter_table("data_subjects", schema=None) as batch_op:
        batch_op.add_column(sa.Column("erased_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("data_subjects", schema=None) as batch_op:
        batch_op.drop_column("erased_at")

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
    with op.batch_alter_table("acquisitions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_acquisitions_subject_id"))
        batch_op.drop_index(batch_op.f("ix_acquisitions_retain_until"))
        batch_op.drop_index(batch_op.f("ix_acquisitions_ledger_entry_id"))

    op.drop_table("acquisitions")
    with op.batch_alter_table("consents", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_consents_subject_id"))

    op.drop_table("consents")
    op.drop_table("channels")
    op.drop_table("ledger_entries")
    with op.batch_alter_table("disposal_records", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_disposal_records_subject_id"))

    op.drop_table("disposal_records")
