"""guard state versions: a stamp per area (actors, subjects) that changes with every committed write to
the tables the guard and the token check read, so that processes can cache that state safely; an index that
answers the dashboard's open-request counts alone

Revision ID: 0028
Revises: 0023
Create Date: 2026-12-03 00:00:00

The stamps are changed by triggers, so a write from any process or any statement (ORM, bulk, raw SQL)
changes them. On SQLite, row triggers. On PostgreSQL, deferred constraint triggers that change the stamp
once per transaction at commit, after every other lock the transaction took (no new lock order, so no
deadlock with the audit head row). A stamp is random, so a rolled-back change never reappears.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0028"
down_revision = "0023"
branch_labels = None
depends_on = None

#: area -> table -> the columns whose change matters on update (None: any column)
WATCHED: dict[str, dict[str, tuple[str, ...] | None]] = {
    "actors": {
        "staff": ("login", "left_on", "revoked_at", "pledge_signed_at", "training_completed_at"),
        "staff_roles": None,
        "api_clients": ("token_sha256", "kind", "staff_id", "scopes", "expires_at", "revoked_at"),
    },
    "subjects": {
        "data_subjects": ("erased_at",),
        "acquisitions": None,
        "consents": None,
        "cessations": None,
    },
}


def upgrade() -> None:
    op.create_index(
        "ix_subject_requests_status_clock",
        "subject_requests",
        ["status", "escalated_at", "breached_at"],
        unique=False,
    )
    op.create_table(
        "guard_versions",
        sa.Column("area", sa.String(length=16), nullable=False),
        sa.Column("stamp", sa.String(length=40), nullable=False),
        sa.PrimaryKeyConstraint("area", name=op.f("pk_guard_versions")),
    )
    postgres = op.get_bind().dialect.name == "postgresql"
    for area in WATCHED:
        op.execute(f"INSERT INTO guard_versions (area, stamp) VALUES ('{area}', 'initial')")
    if postgres:
        op.execute(
            """
            CREATE FUNCTION mamoru_guard_version_bump() RETURNS trigger AS $$
            DECLARE
              marker text := 'mamoru.guard_version_' || TG_ARGV[0];
            BEGIN
              IF current_setting(marker, true) = txid_current()::text THEN
                RETURN NULL;
              END IF;
              PERFORM set_config(marker, txid_current()::text, true);
              UPDATE guard_versions SET stamp = md5(random()::text || clock_timestamp()::text)
               WHERE area = TG_ARGV[0];
              RETURN NULL;
            END
            $$ LANGUAGE plpgsql
            """
        )
    for area, tables in WATCHED.items():
        for table, columns in tables.items():
            for event in ("INSERT", "UPDATE", "DELETE"):
                name = f"gv_{table}_{event.lower()}"
                on = f"UPDATE OF {', '.join(columns)}" if event == "UPDATE" and columns else event
                if postgres:
                    op.execute(
                        f"CREATE CONSTRAINT TRIGGER {name} AFTER {on} ON {table} DEFERRABLE INITIALLY DEFERRED "
                        f"FOR EACH ROW EXECUTE FUNCTION mamoru_guard_version_bump('{area}')"
                    )
                else:
                    op.execute(
                        f"CREATE TRIGGER {name} AFTER {on} ON {table} BEGIN "
                        f"UPDATE guard_versions SET stamp = lower(hex(randomblob(16))) WHERE area = '{area}'; END"
                    )


def downgrade() -> None:
    postgres = op.get_bind().dialect.name == "postgresql"
    for tables in WATCHED.values():
        for table in tables:
            for event in ("insert", "update", "delete"):
                op.execute(
                    f"DROP TRIGGER IF EXISTS gv_{table}_{event}" + (f" ON {table}" if postgres else "")
                )
    if postgres:
        op.execute("DROP FUNCTION IF EXISTS mamoru_guard_version_bump()")
    op.drop_table("guard_versions")
    op.drop_index("ix_subject_requests_status_clock", table_name="subject_requests")
