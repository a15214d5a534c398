"""opt-out filings and foreign consent invitations: the PPC filing (and its publication) that provision by
opt-out needs, per recipient; the portal links through which a person reads the APPI Art. 28 information
and consents

Revision ID: 0031
Revises: 0024
Create Date: 2026-12-03 12:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0031"
down_revision = "0030"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "opt_out_filings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("recipient", sa.String(length=64), nullable=False),
        sa.Column("items_sha256", sa.String(length=64), nullable=False),
        sa.Column("filed_on", sa.Date(), nullable=False),
        sa.Column("filing_ref", sa.String(length=200), nullable=False),
        sa.Column("ppc_publication_ref", sa.String(length=200), nullable=True),
        sa.Column("published_on", sa.Date(), nullable=True),
        sa.Column("withdrawn_on", sa.Date(), nullable=True),
        sa.Column("recorded_by", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_opt_out_filings")),
    )
    with op.batch_alter_table("opt_out_filings", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_opt_out_filings_recipient"), ["recipient"], unique=False)
    op.create_table(
        "foreign_consent_invitations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("token_sha256", sa.String(length=64), nullable=False),
        sa.Column("subject_id", sa.String(length=36), nullable=False),
        sa.Column("recipient", sa.String(length=64), nullable=False),
        sa.Column("purpose", sa.String(length=64), nullable=False),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("answered_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("consent_id", sa.Integer(), nullable=True),
        sa.Column("version_shown", sa.Integer(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_foreign_consent_invitations")),
        sa.UniqueConstraint("token_sha256", name=op.f("uq_foreign_consent_invitations_token_sha256")),
    )
    with op.batch_alter_table("foreign_consent_invitations", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_foreign_consent_invitations_subject_id"), ["subject_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("foreign_consent_invitations", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_foreign_consent_invitations_subject_id"))
    op.drop_table("foreign_consent_invitations")
    with op.batch_alter_table("opt_out_filings", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_opt_out_filings_recipient"))
    op.drop_table("opt_out_filings")
