"""audit: numbered, chained checkpoints and signed verification results

Revision ID: 0020
Revises: 0019
Create Date: 2026-11-27
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0020"
down_revision = "0019"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Columns only, no UPDATE: checkpoints are append-only (triggers refuse updates), so the rows signed
    # before this revision keep a null number and their first statement format.
    op.add_column("audit_checkpoints", sa.Column("number", sa.BigInteger(), nullable=True))
    op.add_column("audit_checkpoints", sa.Column("prev_hash", sa.LargeBinary(length=32), nullable=True))
    op.create_index(op.f("ix_audit_checkpoints_number"), "audit_checkpoints", ["number"], unique=True)
    op.add_column("audit_verifications", sa.Column("checkpoint_number", sa.BigInteger(), nullable=True))
    op.add_column("audit_verifications", sa.Column("key_id", sa.String(length=16), nullable=True))
    op.add_column("audit_verifications", sa.Column("signature", sa.LargeBinary(length=64), nullable=True))


def downgrade() -> None:
    for column in ("signature", "key_id", "checkpoint_number"):
        op.drop_column("audit_verifications", column)
    op.drop_index(op.f("ix_audit_checkpoints_number"), "audit_checkpoints")
    op.drop_column("audit_checkpoints", "prev_hash")
    op.drop_column("audit_checkpoints", "number")
