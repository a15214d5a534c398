"""Records of the PMS cycle."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Date, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from mamoru.store.db import Base, utcnow


class LegalItem(Base):
    """One law, order, guideline or norm the organization follows (JIS-2), with when it was last read."""

    __tablename__ = "legal_register"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    title_ja: Mapped[str] = mapped_column(String(200))
    title_en: Mapped[str] = mapped_column(String(200))
    articles: Mapped[str] = mapped_column(String(200))
    applicability: Mapped[str] = mapped_column(String(400))
    reference: Mapped[str] = mapped_column(String(400))  # where to read it (e-Gov, PPC page, JIS)
    owner: Mapped[str] = mapped_column(String(64))
    last_checked: Mapped[date] = mapped_column(Date)
    next_review: Mapped[date] = mapped_column(Date)


class RiskItem(Base):
    """The risk of one ledger entry at one lifecycle stage (JIS-3), and what remains after the controls."""

    __tablename__ = "risk_items"
    __table_args__ = (UniqueConstraint("ledger_entry_id", "stage", "threat"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    ledger_entry_id: Mapped[int] = mapped_column(
        ForeignKey("ledger_entries.id", ondelete="CASCADE"), index=True
    )
    stage: Mapped[str] = mapped_column(String(16))
    threat: Mapped[str] = mapped_column(String(32))
    likelihood: Mapped[int] = mapped_column()  # 1..3
    impact: Mapped[int] = mapped_column()  # 1..3
    controls: Mapped[list[str]] = mapped_column(JSON, default=list)  # control catalogue ids
    residual: Mapped[str] = mapped_column(String(8))  # low, medium, high
    accepted_by: Mapped[str | None] = mapped_column(String(64), default=None)
    reviewed_on: Mapped[date] = mapped_column(Date)


class ControlRecord(Base):
    """Who owns a control of the catalogue, when it was last reviewed and where its evidence is."""

    __tablename__ = "control_records"

    control_id: Mapped[str] = mapped_column(String(16), primary_key=True)
    owner: Mapped[str] = mapped_column(String(64))
    reviewed_on: Mapped[date] = mapped_column(Date)
    evidence: Mapped[str] = mapped_column(String(400))


class IntegrityBaseline(Base):
    """The digest of every file a collection page is built from (web-skimming check, APPI-23)."""

    __tablename__ = "integrity_baselines"

    path: Mapped[str] = mapped_column(String(200), primary_key=True)
    sha256: Mapped[str] = mapped_column(String(64))
    recorded_at: Mapped[datetime] = mapped_column(default=utcnow)
    recorded_by: Mapped[str] = mapped_column(String(64))


class InternalAudit(Base):
    """An internal audit of one department (JIS-10); its auditor is from another department (JIS-4)."""

    __tablename__ = "internal_audits"

    id: Mapped[int] = mapped_column(primary_key=True)
    ref: Mapped[str] = mapped_column(String(32), unique=True)
    year: Mapped[int] = mapped_column(index=True)
    department: Mapped[str] = mapped_column(String(64))
    scope: Mapped[str] = mapped_column(String(400))
    auditor_id: Mapped[int] = mapped_column(ForeignKey("staff.id"))
    planned_on: Mapped[date] = mapped_column(Date)
    done_on: Mapped[date | None] = mapped_column(Date, default=None)
    planned_by: Mapped[str] = mapped_column(String(64))
    findings: Mapped[list[AuditFinding]] = relationship(
        back_populates="audit", cascade="all, delete-orphan", lazy="selectin", order_by="AuditFinding.id"
    )


class AuditFinding(Base):
    __tablename__ = "audit_findings"

    id: Mapped[int] = mapped_column(primary_key=True)
    audit_id: Mapped[int] = mapped_column(ForeignKey("internal_audits.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(16))  # nonconformity, observation
    clause: Mapped[str] = mapped_column(String(32))  # the requirement it concerns, e.g. JIS-7
    summary: Mapped[str] = mapped_column(String(400))
    raised_on: Mapped[date] = mapped_column(Date)
    audit: Mapped[InternalAudit] = relationship(back_populates="findings")
    actions: Mapped[list[CorrectiveAction]] = relationship(
        back_populates="finding", cascade="all, delete-orphan", lazy="selectin"
    )


class CorrectiveAction(Base):
    __tablename__ = "corrective_actions"

    id: Mapped[int] = mapped_column(primary_key=True)
    finding_id: Mapped[int] = mapped_column(ForeignKey("audit_findings.id", ondelete="CASCADE"), index=True)
    root_cause: Mapped[str] = mapped_column(String(400))
    action: Mapped[str] = mapped_column(String(400))
    due: Mapped[date] = mapped_column(Date)
    owner: Mapped[str] = mapped_column(String(64))
    done_on: Mapped[date | None] = mapped_column(Date, default=None)
    verified_by: Mapped[str | None] = mapped_column(String(64), default=None)
    finding: Mapped[AuditFinding] = relationship(back_populates="actions")


class ManagementReview(Base):
    """Top management's review of the PMS for a period (JIS-10): inputs drafted from the records, then
    the decisions and who approved them."""

    __tablename__ = "management_reviews"

    id: Mapped[int] = mapped_column(primary_key=True)
    period_from: Mapped[date] = mapped_column(Date)
    period_to: Mapped[date] = mapped_column(Date)
    inputs: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    decisions: Mapped[list[str]] = mapped_column(JSON, default=list)
    drafted_by: Mapped[str] = mapped_column(String(64))
    drafted_at: Mapped[datetime] = mapped_column(default=utcnow)
    approved_by: Mapped[str | None] = mapped_column(String(64), default=None)
    approved_at: Mapped[datetime | None] = mapped_column(default=None)
