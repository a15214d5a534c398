"""Incidents, their reports and their notices. The narrative (what happened, the cause, the measures) is
written by people and may name people, so it is sealed with the incident's own key; rows hold flags,
counts, dates and codes."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Integer, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from mamoru.store.db import Base, utcnow


class Incident(Base):
    __tablename__ = "incidents"

    id: Mapped[int] = mapped_column(primary_key=True)
    ref: Mapped[str] = mapped_column(String(24), unique=True)
    holder: Mapped[str] = mapped_column(String(36), unique=True)  # the key holder for the sealed narrative
    status: Mapped[str] = mapped_column(String(16), index=True)  # draft | open | closed
    source: Mapped[str] = mapped_column(String(64))  # manual | signal:<kind>
    opened_at: Mapped[datetime] = mapped_column(default=utcnow)
    opened_by: Mapped[str] = mapped_column(String(64))
    aware_at: Mapped[datetime] = mapped_column(index=True)
    occurred_at: Mapped[datetime | None] = mapped_column(default=None)
    affected_count: Mapped[int] = mapped_column(Integer, default=0)
    special_care: Mapped[bool] = mapped_column(default=False)
    financial_risk: Mapped[bool] = mapped_column(default=False)
    improper_purpose: Mapped[bool] = mapped_column(default=False)
    suspected_only: Mapped[bool] = mapped_column(default=False)
    encrypted: Mapped[bool] = mapped_column(default=False)
    key_compromised: Mapped[bool] = mapped_column(default=False)
    pseudonymized_only: Mapped[bool] = mapped_column(default=False)
    my_number: Mapped[str] = mapped_column(String(8), default="no")
    mn_network_system: Mapped[bool] = mapped_column(default=False)
    mn_publicly_viewable: Mapped[bool] = mapped_column(default=False)
    not_a_leak: Mapped[bool] = mapped_column(default=False)
    org_type: Mapped[str] = mapped_column(String(32), default="private_business")
    delegated_sector: Mapped[bool] = mapped_column(default=False)
    medium: Mapped[str | None] = mapped_column(String(32), default=None)
    processor: Mapped[str | None] = mapped_column(String(64), default=None)
    subjects: Mapped[list[str]] = mapped_column(JSON, default=list)
    stages: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)  # stage -> {"at": iso, "by": ref}
    sealed: Mapped[bytes] = mapped_column(LargeBinary)
    closed_at: Mapped[datetime | None] = mapped_column(default=None)
    closed_by: Mapped[str | None] = mapped_column(String(64), default=None)


class IncidentReport(Base):
    """A report as submitted: to the PPC (preliminary, final), for My Number, or to the PrivacyMark body."""

    __tablename__ = "incident_reports"

    id: Mapped[int] = mapped_column(primary_key=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(24))  # ppc_prelim | ppc_final | pmark_prelim | pmark_final
    submitted_at: Mapped[datetime] = mapped_column(default=utcnow)
    submitted_by: Mapped[str] = mapped_column(String(64))
    sealed: Mapped[bytes] = mapped_column(LargeBinary)


class IncidentNotice(Base):
    """A notice to one affected person (APPI Art. 26(2)), or the alternative measure that covers them."""

    __tablename__ = "incident_notices"

    id: Mapped[int] = mapped_column(primary_key=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id", ondelete="CASCADE"), index=True)
    subject_id: Mapped[str] = mapped_column(String(36), index=True)
    channel: Mapped[str] = mapped_column(String(16))  # email | alternative
    sent_at: Mapped[datetime] = mapped_column(default=utcnow)
    message_id: Mapped[str | None] = mapped_column(String(200), default=None)
    publication_url: Mapped[str | None] = mapped_column(String(300), default=None)


class SignalCursor(Base):
    """How far the signal scan has read the audit log."""

    __tablename__ = "incident_signal_cursor"

    id: Mapped[int] = mapped_column(primary_key=True)
    last_seq: Mapped[int] = mapped_column(default=0)
    #: Per actor, the distinct subjects read on each recent day: {actor: {"YYYY-MM-DD": n}}.
    baseline: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
