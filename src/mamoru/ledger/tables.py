"""The ledger (個人情報管理台帳), data subjects, collection channels, acquisitions, consents and
disposal records. Personal values are never here: they live encrypted in the vault."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Boolean, Date, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from mamoru.store.db import Base, utcnow


class DataSubject(Base):
    """A person whose data the organization holds, known here only by an opaque reference."""

    __tablename__ = "data_subjects"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    kind: Mapped[str] = mapped_column(String(64), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    erased_at: Mapped[datetime | None] = mapped_column(default=None, index=True)


class LedgerEntry(Base):
    """One line of the personal-information management ledger (JIS Q 15001 A.3.3.1, JIS-1)."""

    __tablename__ = "ledger_entries"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    # The seven required columns.
    data_items: Mapped[list[str]] = mapped_column(JSON)
    purposes: Mapped[list[str]] = mapped_column(JSON)
    storage_location: Mapped[str] = mapped_column(String(200))
    storage_method: Mapped[str] = mapped_column(String(200))
    access_roles: Mapped[list[str]] = mapped_column(JSON)
    use_until: Mapped[str] = mapped_column(String(200))
    retention_rule: Mapped[str | None] = mapped_column(String(64), default=None)
    retention_until: Mapped[date | None] = mapped_column(Date, default=None)
    # Recommended columns.
    subject_kinds: Mapped[list[str]] = mapped_column(JSON, default=list)
    acquisition_method: Mapped[str | None] = mapped_column(String(32), default=None)
    notice_method: Mapped[str | None] = mapped_column(String(200), default=None)
    consent: Mapped[str | None] = mapped_column(String(200), default=None)
    recipients: Mapped[list[str]] = mapped_column(JSON, default=list)
    joint_use: Mapped[str | None] = mapped_column(String(200), default=None)
    processors: Mapped[list[str]] = mapped_column(JSON, default=list)
    approx_count: Mapped[int | None] = mapped_column(Integer, default=None)
    medium: Mapped[str | None] = mapped_column(String(32), default=None)
    disposal_method: Mapped[str | None] = mapped_column(String(200), default=None)
    retained: Mapped[bool] = mapped_column(Boolean, default=True)
    last_reviewed_at: Mapped[datetime | None] = mapped_column(default=None)
    reviewer: Mapped[str | None] = mapped_column(String(64), default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class Channel(Base):
    """A way personal data comes in (a web form, a paper form, a partner's file) and how (APPI-20, 21)."""

    __tablename__ = "channels"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    ledger_entry_id: Mapped[int] = mapped_column(ForeignKey("ledger_entries.id"))
    source_type: Mapped[str | None] = mapped_column(String(32), default=None)
    notice_in_advance: Mapped[bool] = mapped_column(Boolean, default=True)
    legality_attested_by: Mapped[str | None] = mapped_column(String(64), default=None)
    legality_attested_at: Mapped[datetime | None] = mapped_column(default=None)
    active: Mapped[bool] = mapped_column(Boolean, default=False)


class Acquisition(Base):
    """One acquisition of a subject's data: from where, for which purposes, under which notice."""

    __tablename__ = "acquisitions"

    id: Mapped[int] = mapped_column(primary_key=True)
    subject_id: Mapped[str] = mapped_column(ForeignKey("data_subjects.id", ondelete="CASCADE"), index=True)
    channel_id: Mapped[str] = mapped_column(ForeignKey("channels.id"))
    ledger_entry_id: Mapped[int] = mapped_column(ForeignKey("ledger_entries.id"), index=True)
    source_type: Mapped[str] = mapped_column(String(32))
    categories: Mapped[list[str]] = mapped_column(JSON)
    purposes_notified: Mapped[list[str]] = mapped_column(JSON)
    notice_id: Mapped[int | None] = mapped_column(ForeignKey("published_notices.id"), default=None)
    acquired_at: Mapped[datetime] = mapped_column(default=utcnow)
    notification_due: Mapped[date | None] = mapped_column(Date, default=None)
    notified_at: Mapped[datetime | None] = mapped_column(default=None)
    consent_id: Mapped[int | None] = mapped_column(ForeignKey("consents.id"), default=None)
    exception_code: Mapped[str | None] = mapped_column(String(32), default=None)
    exception_justification: Mapped[str | None] = mapped_column(Text, default=None)
    retain_until: Mapped[date | None] = mapped_column(Date, default=None, index=True)
    #: When retention ended this acquisition alone (its fields no other live acquisition needs deleted).
    disposed_at: Mapped[datetime | None] = mapped_column(default=None)


class Consent(Base):
    """A consent given by a subject, with its scope, evidence, and withdrawal."""

    __tablename__ = "consents"

    id: Mapped[int] = mapped_column(primary_key=True)
    subject_id: Mapped[str] = mapped_column(ForeignKey("data_subjects.id", ondelete="CASCADE"), index=True)
    scope: Mapped[str] = mapped_column(String(32))
    purpose: Mapped[str | None] = mapped_column(String(64), default=None)
    recipient: Mapped[str | None] = mapped_column(String(64), default=None)
    categories: Mapped[list[str]] = mapped_column(JSON, default=list)
    channel: Mapped[str] = mapped_column(String(64))
    evidence_ref: Mapped[str] = mapped_column(String(200))
    notice_id: Mapped[int | None] = mapped_column(ForeignKey("published_notices.id"), default=None)
    given_at: Mapped[datetime] = mapped_column(default=utcnow)
    withdrawn_at: Mapped[datetime | None] = mapped_column(default=None)
    withdrawal_channel: Mapped[str | None] = mapped_column(String(64), default=None)


class Cessation(Base):
    """A stop the subject asked for (APPI Art. 35): of use for a purpose (or all), or of provision."""

    __tablename__ = "cessations"

    id: Mapped[int] = mapped_column(primary_key=True)
    subject_id: Mapped[str] = mapped_column(ForeignKey("data_subjects.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(16))  # stop_use | stop_provision
    purpose: Mapped[str | None] = mapped_column(String(64), default=None)  # None: every purpose
    recipient: Mapped[str | None] = mapped_column(String(64), default=None)
    effective_at: Mapped[datetime] = mapped_column(default=utcnow)
    lifted_at: Mapped[datetime | None] = mapped_column(default=None)
    source_ref: Mapped[str] = mapped_column(String(128))


class DisposalRecord(Base):
    """What was disposed of, when, how and by whom (APPI-22). References only, no personal value."""

    __tablename__ = "disposal_records"

    id: Mapped[int] = mapped_column(primary_key=True)
    subject_id: Mapped[str] = mapped_column(String(36), index=True)
    ledger_entries: Mapped[list[str]] = mapped_column(JSON)
    categories: Mapped[list[str]] = mapped_column(JSON)
    method: Mapped[str] = mapped_column(String(32))
    reason: Mapped[str] = mapped_column(String(64))
    performed_by: Mapped[str] = mapped_column(String(64))
    performed_at: Mapped[datetime] = mapped_column(default=utcnow)
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class RetentionEvent(Base):
    """An event that starts retention rules (contract ended, employment ended, use ended), as recorded
    from the console, the API, the CLI or a connector. Dates and references only."""

    __tablename__ = "retention_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    subject_id: Mapped[str] = mapped_column(ForeignKey("data_subjects.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(32))  # a RetentionStart other than acquisition
    occurred_on: Mapped[date] = mapped_column(Date)
    #: The ledger entry the event concerns; None: every entry of the person whose rule starts at it.
    ledger_entry_id: Mapped[int | None] = mapped_column(ForeignKey("ledger_entries.id"), default=None)
    source: Mapped[str] = mapped_column(String(64))  # console | api | cli | connector:<name> | demo
    recorded_by: Mapped[str] = mapped_column(String(64))
    recorded_at: Mapped[datetime] = mapped_column(default=utcnow)


class PurposeNotice(Base):
    """A person to be told of a changed purpose before their data is used under it (APPI Art. 21(3)), or
    asked for consent when the change is not reasonably related (Art. 17(2)): one row per person and
    purpose version, open until it is delivered."""

    __tablename__ = "purpose_notices"
    __table_args__ = (UniqueConstraint("purpose_id", "version", "subject_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    purpose_id: Mapped[str] = mapped_column(String(64))
    version: Mapped[int] = mapped_column(Integer)
    subject_id: Mapped[str] = mapped_column(ForeignKey("data_subjects.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(16))  # notice | consent
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    delivered_at: Mapped[datetime | None] = mapped_column(default=None)
    channel: Mapped[str | None] = mapped_column(String(64), default=None)
