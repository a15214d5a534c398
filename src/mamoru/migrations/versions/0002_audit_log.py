"""audit log: entries, index, head, checkpoints; append-only triggers

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

SEQ = sa.BigInteger().with_variant(sa.Integer(), "sqlite")

PG_GUARD = """
CREATE FUNCTION mamoru_audit_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'the audit log is append-only: % on % refused', TG_OP, TG_TABLE_NAME
        USING ERRCODE = 'insufficient_privilege';
END;
$$;
"""


def upgrade() -> None:
    op.create_table(
        "audit_entries",
        sa.Column("seq", SEQ, nullable=False),
        sa.Column("leaf", sa.LargeBinary(), nullable=False),
        sa.Column("entry_hash", sa.LargeBinary(length=32), nullable=False),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_audit_entries")),
    )
    op.create_table(
        "audit_refs",
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("value", sa.String(length=128), nullable=False),
        sa.Column("seq", SEQ, nullable=False),
        sa.PrimaryKeyConstraint("kind", "value", "seq", name=op.f("pk_audit_refs")),
        sqlite_with_rowid=False,
    )
    index_state = op.create_table(
        "audit_index_state",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("indexed_upto", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_index_state")),
    )
    head = op.create_table(
        "audit_head",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("last_seq", sa.BigInteger(), nullable=False),
        sa.Column("last_hash", sa.LargeBinary(length=32), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_head")),
    )
    op.create_table(
        "audit_checkpoints",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("tree_size", sa.BigInteger(), nullable=False),
        sa.Column("root_hash", sa.LargeBinary(length=32), nullable=False),
        sa.Column("chain_hash", sa.LargeBinary(length=32), nullable=False),
        sa.Column("ts_us", sa.BigInteger(), nullable=False),
        sa.Column("key_id", sa.String(length=16), nullable=False),
        sa.Column("signature", sa.LargeBinary(length=64), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_checkpoints")),
        sa.UniqueConstraint("tree_size", name=op.f("uq_audit_checkpoints_tree_size")),
    )
    op.bulk_insert(head, [{"id": 1, "last_seq": 0, "last_hash": b"\x00" * 32}])
    op.bulk_insert(index_state, [{"id": 1, "indexed_upto": 0}])

    # Append-only in the database itself: UPDATE and DELETE of entries and checkpoints are refused
    # for every role the application uses. Verification catches what bypasses this (file edits).
    if op.get_bind().dialect.name == "postgresql":
        op.execute(PG_GUARD)
        for table in ("audit_entries", "audit_checkpoints"):
            op.execute(
                f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
                "FOR EACH ROW EXECUTE FUNCTION mamoru_audit_append_only()"
            )
            op.execute(
                f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
                "FOR EACH STATEMENT EXECUTE FUNCTION mamoru_audit_append_only()"
            )
    else:
        for table in ("audit_entries", "audit_checkpoints"):
            for op_name in ("UPDATE", "DELETE"):
                op.execute(
                    f"CREATE TRIGGER {table}_no_{op_name.lower()} BEFORE {op_name} ON {table} "
                    f"BEGIN SELECT RAISE(ABORT, 'the audit log is append-only: {op_name} on {table} refused'); END"
                )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for table in ("audit_entries", "audit_checkpoints"):
            op.execute(f"DROP TRIGGER IF EXISTS {table}_append_only ON {table}")
            op.execute(f"DROP TRIGGER IF EXISTS {table}_no_truncate ON {table}")
        op.execute("DROP FUNCTION IF EXISTS mamoru_audit_append_only()")
    op.drop_table("audit_checkpoints")
    op.drop_table("audit_head")
    op.drop_table("audit_index_state")
    op.drop_table("audit_refs")
    op.drop_table("audit_entries")
