"""pseudonymized and anonymized information: plans, datasets, runs, mappings, publications, provisions, disposals

Revision ID: 0024
Revises: 0027
Create Date: 2026-12-03 09:24:51.652347
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0024"
down_revision = "0027"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "deid_datasets",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("plan_id", sa.String(length=64), nullable=True),
        sa.Column("plan_version", sa.Integer(), nullable=True),
        sa.Column("title", sa.JSON(), nullable=False),
        sa.Column("purpose", sa.String(length=64), nullable=True),
        sa.Column("items", sa.JSON(), nullable=False),
        sa.Column("safety_measures", sa.JSON(), nullable=True),
        sa.Column("complaint_contact", sa.JSON(), nullable=True),
        sa.Column("received_from", sa.String(length=200), nullable=True),
        sa.Column("mapping_key", sa.String(length=36), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("registered_by", sa.String(length=64), nullable=False),
        sa.Column("registered_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("retired_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_deid_datasets")),
    )
    with op.batch_alter_table("deid_datasets", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_deid_datasets_kind"), ["kind"], unique=False)

    op.create_table(
        "deid_disposals",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("dataset_id", sa.String(length=36), nullable=False),
        sa.Column("disposed_on", sa.Date(), nullable=False),
        sa.Column("method", sa.String(length=32), nullable=False),
        sa.Column("files", sa.Integer(), nullable=False),
        sa.Column("mappings", sa.Integer(), nullable=False),
        sa.Column("responsible", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_deid_disposals")),
    )
    with op.batch_alter_table("deid_disposals", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_deid_disposals_dataset_id"), ["dataset_id"], unique=False)

    op.create_table(
        "deid_mappings",
        sa.Column("dataset_id", sa.String(length=36), nullable=False),
        sa.Column("field", sa.String(length=64), nullable=False),
        sa.Column("value_hash", sa.String(length=64), nullable=False),
        sa.Column("token", sa.String(length=32), nullable=False),
        sa.Column("sealed", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("dataset_id", "field", "value_hash", name=op.f("pk_deid_mappings")),
    )
    op.create_table(
        "deid_plans",
        sa.Column("plan_id", sa.String(length=64), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("spec", sa.JSON(), nullable=False),
        sa.Column("stored_by", sa.String(length=64), nullable=False),
        sa.Column("stored_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("plan_id", "version", name=op.f("pk_deid_plans")),
    )
    op.create_table(
        "deid_publications",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("dataset_id", sa.String(length=36), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("items", sa.JSON(), nullable=False),
        sa.Column("method", sa.JSON(), nullable=True),
        sa.Column("purpose", sa.String(length=64), nullable=True),
        sa.Column("published_by", sa.String(length=64), nullable=False),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["dataset_id"], ["deid_datasets.id"], name=op.f("fk_deid_publications_dataset_id_deid_datasets")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_deid_publications")),
    )
    with op.batch_alter_table("deid_publications", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_deid_publications_dataset_id"), ["dataset_id"], unique=False)

    op.create_table(
        "deid_runs",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("dataset_id", sa.String(length=36), nullable=False),
        sa.Column("plan_id", sa.String(length=64), nullable=False),
        sa.Column("plan_version", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("actor", sa.String(length=64), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("rows", sa.Integer(), nullable=False),
        sa.Column("suppressed", sa.Integer(), nullable=False),
        sa.Column("smallest_class", sa.Integer(), nullable=True),
        sa.Column("sha256", sa.String(length=64), nullable=True),
        sa.Column("folder", sa.String(length=500), nullable=True),
        sa.ForeignKeyConstraint(
            ["dataset_id"], ["deid_datasets.id"], name=op.f("fk_deid_runs_dataset_id_deid_datasets")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_deid_runs")),
    )
    with op.batch_alter_table("deid_runs", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_deid_runs_dataset_id"), ["dataset_id"], unique=False)

    op.create_table(
        "deid_provisions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("dataset_id", sa.String(length=36), nullable=False),
        sa.Column("recipient", sa.String(length=200), nullable=False),
        sa.Column("basis", sa.String(length=16), nullable=False),
        sa.Column("publication_id", sa.Integer(), nullable=True),
        sa.Column("statement", sa.Text(), nullable=True),
        sa.Column("provided_by", sa.String(length=64), nullable=False),
        sa.Column("provided_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["dataset_id"], ["deid_datasets.id"], name=op.f("fk_deid_provisions_dataset_id_deid_datasets")
        ),
        sa.ForeignKeyConstraint(
            ["publication_id"],
            ["deid_publications.id"],
            name=op.f("fk_deid_provisions_publication_id_deid_publications"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_deid_provisions")),
    )
    with op.batch_alter_table("deid_provisions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_deid_provisions_dataset_id"), ["dataset_id"], unique=False)

    op.create_table(
        "deid_run_steps",
        sa.Column("run_id", sa.String(length=36), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=32), nullable=False),
        sa.Column("done_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("result", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["run_id"], ["deid_runs.id"], name=op.f("fk_deid_run_steps_run_id_deid_runs"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("run_id", "position", name=op.f("pk_deid_run_steps")),
    )


def downgrade() -> None:
    op.drop_table("deid_run_steps")
    with op.batch_alter_table("deid_provisions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_deid_provisions_dataset_id"))

    op.drop_table("deid_provisions")
    with op.batch_alter_table("deid_runs", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_deid_runs_dataset_id"))

    op.drop_table("deid_runs")
    with op.batch_alter_table("deid_publications", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_deid_publications_dataset_id"))

    op.drop_table("deid_publications")
    op.drop_table("deid_plans")
    op.drop_table("deid_mappings")
    with op.batch_alter_table("deid_disposals", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_deid_disposals_dataset_id"))

    op.drop_table("deid_disposals")
    with op.batch_alter_table("deid_datasets", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_deid_datasets_kind"))

    op.drop_table("deid_datasets")
