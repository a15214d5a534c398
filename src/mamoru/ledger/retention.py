"""Retention and disposal (APPI Art. 22): what has expired is crypto-erased and a disposal record kept.

Each subject is disposed of in its own transaction, key first: a sweep stopped half-way leaves every
subject either untouched or unreadable, and running it again finishes the rest.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from mamoru.audit.chain import append
from mamoru.audit.entry import AuditEvent
from mamoru.ledger.tables import Acquisition, DataSubject, DisposalRecord, LedgerEntry
from mamoru.store.db import Database
from mamoru.vault.service import Vault

METHOD = "crypto_erase"


def due_for_disposal(session: Session, today: date) -> list[str]:
    """Subjects not yet erased whose every acquisition has a retention date before ``today``."""
    latest = (
        select(
            Acquisition.subject_id,
            func.count().label("all"),
            func.count(Acquisition.retain_until).label("dated"),
            func.max(Acquisition.retain_until).label("until"),
        )
        .group_by(Acquisition.subject_id)
        .subquery()
    )
    rows = session.execute(
        select(latest.c.subject_id)
        .join(DataSubject, DataSubject.id == latest.c.subject_id)
        .where(DataSubject.erased_at.is_(None), latest.c.all == latest.c.dated, latest.c.until < today)
        .order_by(latest.c.subject_id)
    )
    return [subject_id for (subject_id,) in rows]


def dispose_subject(
    session: Session, vault: Vault, subject_id: str, *, actor: str, now: datetime, reason: str
) -> DisposalRecord | None:
    """Crypto-erase one subject and record the disposal; returns None if it was already erased."""
    subject = session.get(DataSubject, subject_id)
    if subject is None or subject.erased_at is not None:
        return None
    acquisitions = list(session.scalars(select(Acquisition).where(Acquisition.subject_id == subject_id)))
    ledger_ids = sorted({a.ledger_entry_id for a in acquisitions})
    codes = (
        list(session.scalars(select(LedgerEntry.code).where(LedgerEntry.id.in_(ledger_ids))))
        if ledger_ids
        else []
    )
    categories = sorted({c for a in acquisitions for c in a.categories})
    vault.erase(session, subject_id)
    subject.erased_at = now
    record = DisposalRecord(
        subject_id=subject_id,
        ledger_entries=codes,
        categories=categories,
        method=METHOD,
        reason=reason,
        performed_by=actor,
        performed_at=now,
    )
    session.add(record)
    session.flush()
    append(
        session,
        [
            AuditEvent(
                actor=actor,
                action="subject.dispose",
                subjects=(subject_id,),
                objects=(f"disposal:{record.id}", *(f"ledger:{c}" for c in codes)),
                reasons=(reason, METHOD),
            )
        ],
    )
    return record


@dataclass
class SweepReport:
    today: date
    disposed: list[int] = field(default_factory=list)
    subjects: list[str] = field(default_factory=list)


def sweep(
    db: Database, vault: Vault, *, actor: str, today: date, now: datetime, dry_run: bool = False
) -> SweepReport:
    """Dispose of every subject past retention, one transaction each."""
    with db.session() as session:
        due = due_for_disposal(session, today)
    report = SweepReport(today=today, subjects=due)
    if dry_run:
        return report
    for subject_id in due:
        with db.session() as session:
            record = dispose_subject(
                session, vault, subject_id, actor=actor, now=now, reason="retention_expired"
            )
            if record is not None:
                report.disposed.append(record.id)
    return report
