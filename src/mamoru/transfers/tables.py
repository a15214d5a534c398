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
