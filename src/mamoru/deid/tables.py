"""Plans, datasets (the registers), runs and their journal, token mappings, publications, provisions
and disposal records. No personal value is stored here in the clear: a mapping's original value is
sealed under the dataset's own key in the key store, and found again by a keyed hash."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Date, ForeignKey, Integer, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from mamoru.store.db import Base, utcnow


class DeidPlan(Base):
    """One version of a processing plan, as checked when it was stored."""

    __tablename__ = "deid_plans"

    plan_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    version: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))
    spec: Mapped[dict[str, Any]] = mapped_column(JSON)
    stored_by: Mapped[str] = mapped_column(String(64))
    stored_at: Mapped[datetime] = mapped_column(default=utcnow)


class DeidDataset(Base):
    """A register entry: a pseudonymized dataset (APPI-41b) or an anonymized one (APPI-43, APPI-46)."""

    __tablename__ = "deid_datasets"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    kind: Mapped[str] = mapped_column(String(16), index=True)
    plan_id: Mapped[str | None] = mapped_column(String(64), default=None)
    plan_version: Mapped[int | None] = mapped_column(Integer, default=None)
    title: Mapped[dict[str, str]] = mapped_column(JSON)
    purpose: Mapped[str | None] = mapped_column(String(64), default=None)
    items: Mapped[list[str]] = mapped_column(JSON, default=list)
    safety_measures: Mapped[dict[str, str] | None] = mapped_column(JSON, default=None)
    complaint_contact: Mapped[dict[str, str] | None] = mapped_column(JSON, default=None)
    received_from: Mapped[str | None] = mapped_column(String(200), default=None)  # APPI-44: not ours
    mapping_key: Mapped[str | None] = mapped_column(String(36), default=None)  # key store holder
    status: Mapped[str] = mapped_column(String(16), default="registered")  # registered|created|retired
    created_at: Mapped[datetime | None] = mapped_column(default=None)
    registered_by: Mapped[str] = mapped_column(String(64))
    registered_at: Mapped[datetime] = mapped_column(default=utcnow)
    retired_at: Mapped[datetime | None] = mapped_column(default=None)


class DeidRun(Base):
    __tablename__ = "deid_runs"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    dataset_id: Mapped[str] = mapped_column(ForeignKey("deid_datasets.id"), index=True)
    plan_id: Mapped[str] = mapped_column(String(64))
    plan_version: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(16), default="running")  # running|completed|refused
    actor: Mapped[str] = mapped_column(String(64))
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(default=None)
    rows: Mapped[int] = mapped_column(Integer, default=0)
    suppressed: Mapped[int] = mapped_column(Integer, default=0)
    smallest_class: Mapped[int | None] = mapped_column(Integer, default=None)
    sha256: Mapped[str | None] = mapped_column(String(64), default=None)
    folder: Mapped[str | None] = mapped_column(String(500), default=None)


class DeidRunStep(Base):
    """The run's journal: a step is marked done in the same transaction as its effects."""

    __tablename__ = "deid_run_steps"

    run_id: Mapped[str] = mapped_column(ForeignKey("deid_runs.id", ondelete="CASCADE"), primary_key=True)
    position: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(32))
    done_at: Mapped[datetime | None] = mapped_column(default=None)
    result: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class DeidMapping(Base):
    """A token and the value it replaced (sealed under the dataset's own key): the 削除情報等 that is
    kept apart (APPI-41a) and destroyed with the dataset."""

    __tablename__ = "deid_mappings"

    dataset_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    field: Mapped[str] = mapped_column(String(64), primary_key=True)
    value_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    token: Mapped[str] = mapped_column(String(32))
    sealed: Mapped[bytes] = mapped_column(LargeBinary)


class DeidPublication(Base):
    """What was published: the items of a new anonymized dataset, the items and method of a provision,
    or a pseudonymized dataset's new purpose."""

    __tablename__ = "deid_publications"

    id: Mapped[int] = mapped_column(primary_key=True)
    dataset_id: Mapped[str] = mapped_column(ForeignKey("deid_datasets.id"), index=True)
    kind: Mapped[str] = mapped_column(String(16))  # created | provision | purpose
    items: Mapped[list[str]] = mapped_column(JSON, default=list)
    method: Mapped[dict[str, str] | None] = mapped_column(JSON, default=None)
    purpose: Mapped[str | None] = mapped_column(String(64), default=None)
    published_by: Mapped[str] = mapped_column(String(64))
    published_at: Mapped[datetime] = mapped_column(default=utcnow)


class DeidProvision(Base):
    __tablename__ = "deid_provisions"

    id: Mapped[int] = mapped_column(primary_key=True)
    dataset_id: Mapped[str] = mapped_column(ForeignKey("deid_datasets.id"), index=True)
    recipient: Mapped[str] = mapped_column(String(200))
    basis: Mapped[str] = mapped_column(String(16))
    publication_id: Mapped[int | None] = mapped_column(ForeignKey("deid_publications.id"), default=None)
    statement: Mapped[str | None] = mapped_column(Text, default=None)
    provided_by: Mapped[str] = mapped_column(String(64))
    provided_at: Mapped[datetime] = mapped_column(default=utcnow)


class DeidDisposal(Base):
    """A retired dataset: what was deleted, when, how and by whom."""

    __tablename__ = "deid_disposals"

    id: Mapped[int] = mapped_column(primary_key=True)
    dataset_id: Mapped[str] = mapped_column(String(36), index=True)
    disposed_on: Mapped[date] = mapped_column(Date)
    method: Mapped[str] = mapped_column(String(32))
    files: Mapped[int] = mapped_column(Integer, default=0)
    mappings: Mapped[int] = mapped_column(Integer, default=0)
    responsible: Mapped[str] = mapped_column(String(64))
