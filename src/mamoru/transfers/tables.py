"""Provision and receipt records. References and codes only: the subject by its id, the data by category."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import JSON, Date, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from mamoru.store.db import Base, utcnow


class ProvisionRecord(Base):
    """What the provider must keep of a provision to a third party (APPI Art. 29, Rules Art. 20)."""

    __tablename__ = "provision_records"

    id: Mapped[int] = mapped_column(primary_key=True)
    subject_id: Mapped[str] = mapped_column(String(36), index=True)
    recipient: Mapped[str] = mapped_column(String(64))
    basis: Mapped[str] = mapped_column(String(16))  # consent | opt_out
    mode: Mapped[str] = mapped_column(String(24))  # each | bulk | contract_substitute
    categories: Mapped[list[str]] = mapped_column(JSON)
    consent_id: Mapped[int | None] = mapped_column(default=None)
    provided_on: Mapped[date | None] = mapped_column(Date, default=None)
    period_first: Mapped[date | None] = mapped_column(Date, default=None)
    period_last: Mapped[date | None] = mapped_column(Date, default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    purge_after: Mapped[date] = mapped_column(Date, index=True)


class ReceiptRecord(Base):
    """What the recipient must confirm and keep when it receives data (APPI Art. 30, Rules Arts. 22-24)."""

    __tablename__ = "receipt_records"

    id: Mapped[int] = mapped_column(primary_key=True)
    subject_id: Mapped[str] = mapped_column(String(36), index=True)
    basis: Mapped[str] = mapped_column(String(16))  # consent | opt_out
    mode: Mapped[str] = mapped_column(String(24))
    categories: Mapped[list[str]] = mapped_column(JSON)
    provider_name: Mapped[str] = mapped_column(String(200))
    provider_address: Mapped[str] = mapped_column(String(300))
    provider_representative: Mapped[str | None] = mapped_column(String(200), default=None)
    acquisition_history: Mapped[str] = mapped_column(Text)
    evidence_ref: Mapped[str] = mapped_column(String(200))
    consent_obtained: Mapped[bool] = mapped_column(default=False)
    received_on: Mapped[date | None] = mapped_column(Date, default=None)
    ppc_publication_ref: Mapped[str | None] = mapped_column(String(200), default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    purge_after: Mapped[date] = mapped_column(Date, index=True)


class ProcessorAssessment(Base):
    """The selection assessment of a processor's management system before entrusting (APPI Art. 25, JIS-9)."""

    __tablename__ = "processor_assessments"

    id: Mapped[int] = mapped_column(primary_key=True)
    processor: Mapped[str] = mapped_column(String(64), index=True)
    assessed_on: Mapped[date] = mapped_column(Date)
    assessed_by: Mapped[str] = mapped_column(String(64))
    score: Mapped[int] = mapped_column()
    passed: Mapped[bool] = mapped_column()
    valid_until: Mapped[date] = mapped_column(Date)
    evidence_ref: Mapped[str] = mapped_column(String(200))


class ProcessorContract(Base):
    """The entrustment contract and which of the required clauses it contains (JIS-9, MN-8)."""

    __tablename__ = "processor_contracts"

    id: Mapped[int] = mapped_column(primary_key=True)
    processor: Mapped[str] = mapped_column(String(64), index=True)
    signed_on: Mapped[date] = mapped_column(Date)
    ends_on: Mapped[date | None] = mapped_column(Date, default=None)
    clauses: Mapped[list[str]] = mapped_column(JSON)
    evidence_ref: Mapped[str] = mapped_column(String(200))
    recorded_by: Mapped[str] = mapped_column(String(64))


class ProcessorMonitoring(Base):
    """A check of how a processor handles the data, at the contracted frequency (APPI Art. 25)."""

    __tablename__ = "processor_monitoring"

    id: Mapped[int] = mapped_column(primary_key=True)
    processor: Mapped[str] = mapped_column(String(64), index=True)
    performed_on: Mapped[date] = mapped_column(Date)
    performed_by: Mapped[str] = mapped_column(String(64))
    satisfactory: Mapped[bool] = mapped_column()
    next_due: Mapped[date] = mapped_column(Date)
    evidence_ref: Mapped[str] = mapped_column(String(200))


class ReEntrustmentApproval(Base):
    """The original entrusting party's permission for a processor to re-entrust (MN-8: mandatory)."""

    __tablename__ = "reentrustment_approvals"

    id: Mapped[int] = mapped_column(primary_key=True)
    processor: Mapped[str] = mapped_column(String(64), index=True)
    approved_by: Mapped[str] = mapped_column(String(64))
    approved_at: Mapped[datetime] = mapped_column(default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(default=None)


class ForeignCheck(Base):
    """The periodic check of a foreign party relying on a conforming system (APPI Art. 28(3), Rules Art. 18)."""

    __tablename__ = "foreign_checks"

    id: Mapped[int] = mapped_column(primary_key=True)
    party: Mapped[str] = mapped_column(String(80), index=True)  # recipient:<id> | processor:<id>
    checked_on: Mapped[date] = mapped_column(Date)
    checked_by: Mapped[str] = mapped_column(String(64))
    conforming: Mapped[bool] = mapped_column()
    next_due: Mapped[date] = mapped_column(Date)
    evidence_ref: Mapped[str] = mapped_column(String(200))


class ReferableConfirmation(Base):
    """The confirmation that a recipient obtained the person's consent before receiving personally
    referable information it will link to them (APPI Art. 31, Rules Arts. 26-28)."""

    __tablename__ = "referable_confirmations"

    id: Mapped[int] = mapped_column(primary_key=True)
    recipient: Mapped[str] = mapped_column(String(64), index=True)
    subject_id: Mapped[str] = mapped_column(String(36), index=True)
    method: Mapped[str] = mapped_column(String(64))
    evidence_ref: Mapped[str] = mapped_column(String(200))
    confirmed_by: Mapped[str] = mapped_column(String(64))
    confirmed_at: Mapped[datetime] = mapped_column(default=utcnow)
    purge_after: Mapped[date] = mapped_column(Date)


class ProcessorBreachNotice(Base):
    """A processor's notice of a breach to us: when it became aware, when it told us (APPI-26g)."""

    __tablename__ = "processor_breach_notices"

    id: Mapped[int] = mapped_column(primary_key=True)
    processor: Mapped[str] = mapped_column(String(64), index=True)
    aware_at: Mapped[datetime] = mapped_column()
    notified_at: Mapped[datetime] = mapped_column()
    late: Mapped[bool] = mapped_column()
    incident_ref: Mapped[str | None] = mapped_column(String(64), default=None)
    recorded_by: Mapped[str] = mapped_column(String(64))


class OptOutFiling(Base):
    """The filing with the PPC that provision by opt-out needs (APPI Art. 27(2)-(4)): which recipient, the
    notice items as filed (their digest: a change of them needs a new filing, Art. 27(3)), when it was
    filed, and the PPC's publication of it, without which nothing is provided."""

    __tablename__ = "opt_out_filings"

    id: Mapped[int] = mapped_column(primary_key=True)
    recipient: Mapped[str] = mapped_column(String(64), index=True)
    items_sha256: Mapped[str] = mapped_column(String(64))
    filed_on: Mapped[date] = mapped_column(Date)
    filing_ref: Mapped[str] = mapped_column(String(200))
    ppc_publication_ref: Mapped[str | None] = mapped_column(String(200), default=None)
    published_on: Mapped[date | None] = mapped_column(Date, default=None)
    withdrawn_on: Mapped[date | None] = mapped_column(Date, default=None)
    recorded_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class ForeignConsentInvitation(Base):
    """A link the office sends a person so that they read the APPI Art. 28 information about a foreign
    recipient on the portal and, if they agree, consent there. Only the token's digest is kept."""

    __tablename__ = "foreign_consent_invitations"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_sha256: Mapped[str] = mapped_column(String(64), unique=True)
    subject_id: Mapped[str] = mapped_column(String(36), index=True)
    recipient: Mapped[str] = mapped_column(String(64))
    purpose: Mapped[str] = mapped_column(String(64))
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime] = mapped_column()
    answered_at: Mapped[datetime | None] = mapped_column(default=None)
    consent_id: Mapped[int | None] = mapped_column(default=None)
    version_shown: Mapped[int | None] = mapped_column(default=None)
