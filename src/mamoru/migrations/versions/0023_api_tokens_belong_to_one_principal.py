"""api tokens belong to one principal: a staff member or a named system with scopes; expiry, last use

Revision ID: 0023
Revises: 0022
Create Date: 2026-12-02 00:00:00

Tokens issued before this revision could name any actor in a header. They are kept (for the record) as
system tokens without scopes, revoked and expired: every system and person needs a new token.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0023"
down_revision = "0022"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("api_clients", schema=None) as batch_op:
        batch_op.add_column(sa.Column("kind", sa.String(length=8), server_default="system", nullable=False))
        batch_op.add_column(sa.Column("staff_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("scopes", sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("last_used_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("revoked_by", sa.String(length=64), nullable=True))
    op.execute(
        "UPDATE api_clients SET scopes = '[]', expires_at = created_at, "
        "revoked_at = COALESCE(revoked_at, created_at), revoked_by = COALESCE(revoked_by, 'system:migration')"
    )
    with op.batch_alter_table("api_clients", schema=None) as batch_op:
        batch_op.alter_column("scopes", existing_type=sa.JSON(), nullable=False)
        batch_op.alter_column("expires_at", existing_type=sa.DateTime(timezone=True), nullable=False)
        batch_op.create_index(batch_op.f("ix_api_clients_staff_id"), ["staff_id"], unique=False)
        batch_op.create_foreign_key(
            batch_op.f("fk_api_clients_staff_id_staff"), "staff", ["staff_id"], ["id"], ondelete="CASCADE"
        )


def downgrade() -> None:
    with op.batch_alter_table("api_clients", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_api_clients_staff_id_staff"), type_="foreignkey")
        batch_op.drop_index(batch_op.f("ix_api_clients_staff_id"))
        batch_op.drop_column("revoked_by")
        batch_op.drop_column("last_used_at")
        batch_op.drop_column("expires_at")
        batch_op.drop_column("scopes")
        batch_op.drop_column("staff_id")
        batch_op.drop_column("kind")
