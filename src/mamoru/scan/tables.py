"""Scan runs: what was scanned, the counts, and the sealed report (locations and gaps)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, BigInteger, Integer, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from mamoru.store.db import Base


class ScanRun(Base):
    """One run of `mamoru scan`. The report is sealed under a key of its own: file paths and masked
    samples can still say more about a person than a count does, so only counts stay in the clear."""

    __tablename__ = "scan_runs"

    id: Mapped[int] = mapped_column(primary_key=True)
    holder: Mapped[str] = mapped_column(String(36))
    target_kind: Mapped[str] = mapped_column(String(16))  # files | database
    started_at: Mapped[datetime] = mapped_column()
    finished_at: Mapped[datetime] = mapped_column()
    actor: Mapped[str] = mapped_column(String(64))
    files_scanned: Mapped[int] = mapped_column(Integer, default=0)
    bytes_scanned: Mapped[int] = mapped_column(BigInteger, default=0)
    locations: Mapped[int] = mapped_column(Integer, default=0)
    gap_count: Mapped[int] = mapped_column(Integer, default=0)
    totals: Mapped[dict[str, int]] = mapped_column(JSON, default=dict)
    sealed_report: Mapped[bytes] = mapped_column(LargeBinary)


class ScanDismissal(Base):
    """A finding the privacy office marked "not personal" (a product code that passes the My Number
    check, a company's published number): its keyed fingerprint (kind, place, value), never the value,
    so that the next scan leaves the same value at the same place out."""

    __tablename__ = "scan_dismissals"

    id: Mapped[int] = mapped_column(primary_key=True)
    fingerprint: Mapped[str] = mapped_column(String(32), unique=True, index=True)
    entity: Mapped[str] = mapped_column(String(32))
    reason: Mapped[str] = mapped_column(String(200))
    run_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    marked_by: Mapped[str] = mapped_column(String(64))
    marked_at: Mapped[datetime] = mapped_column()
