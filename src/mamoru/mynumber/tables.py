"""Filings, the vault's entries and deletion records. The number itself is only ever a ciphertext in
``mn_entries.sealed``, under a key of the My Number vault's own key store; no column anywhere holds it
in the clear, and nothing is indexed or joined on it."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import JSON, Date, ForeignKey, Integer, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from mamoru.store.db import Base, utcnow


class MnFiling(Base):
    """A statutory filing the numbers are collected for (MN-2: no collection without one pending)."""

    __tablename__ = "mn_filings"

    id: Mapped[int] = mapped_column(primary_key=True)
    affair: Mapped[str] = mapped_column(String(32))
    document: Mapped[str] = mapped_column(String(32))
    year: Mapped[int] = mapped_column(Integer)
    due_on: Mapped[date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(16), default="pending")  # pending | filed
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class MnEntry(Base):
    """One collected number: whose (by subject id), for which filing, verified how, kept until when."""

    __tablename__ = "mn_entries"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)  # also the key holder in the MN key store
    subject_id: Mapped[str] = mapped_column(String(36), index=True)
    dependent_of: Mapped[str | None] = mapped_column(String(36), default=None)  # a dependant's employee
    filing_id: Mapped[int] = mapped_column(ForeignKey("mn_filings.id"))
    document: Mapped[str] = mapped_column(String(32))
    sealed: Mapped[bytes | None] = mapped_column(LargeBinary, default=None)
    number_check_doc: Mapped[str] = mapped_column(String(40))
    identity_docs: Mapped[list[str]] = mapped_column(JSON)
    by_agent: Mapped[bool] = mapped_column(default=False)
    verified_by: Mapped[str] = mapped_column(String(64))
    verified_at: Mapped[datetime] = mapped_column(default=utcnow)
    purge_after: Mapped[date] = mapped_column(Date, index=True)
    deleted_at: Mapped[datetime | None] = mapped_column(default=None)


class MnDeletionRecord(Base):
    """What was deleted, when, how and by whom (MN-5). Never the number."""

    __tablename__ = "mn_deletion_records"

    id: Mapped[int] = mapped_column(primary_key=True)
    entry_id: Mapped[str] = mapped_column(String(36), index=True)
    subject_id: Mapped[str] = mapped_column(String(36))
    document: Mapped[str] = mapped_column(String(32))
    deleted_on: Mapped[date] = mapped_column(Date)
    method: Mapped[str] = mapped_column(String(32))
    responsible: Mapped[str] = mapped_column(String(64))
