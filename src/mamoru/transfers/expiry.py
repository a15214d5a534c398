"""The retention sweep as one service: persons and acquisitions past retention (APPI-22), and provision
and receipt records past their keeping period (APPI-29r, APPI-30r), each with a disposal record.

The ledger knows nothing of the transfer records (they sit above it), so the one sweep the console, the
API, the CLI and the scheduler call is here.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import cast

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from mamoru.audit.chain import append
from mamoru.audit.entry import AuditEvent
from mamoru.ledger.retention import SweepReport
from mamoru.ledger.retention import sweep as sweep_ledger
from mamoru.ledger.tables import DisposalRecord
from mamoru.policy.model import Policy
from mamoru.store.db import Database
from mamoru.transfers.tables import ProvisionRecord, ReceiptRecord, ReferableConfirmation
from mamoru.vault.service import Vault

KeptRecord = ProvisionRecord | ReceiptRecord | ReferableConfirmation
#: What each kind of record is called in references and disposal reasons.
RECORD_TABLES: tuple[tuple[str, type[KeptRecord]], ...] = (
    ("provision_record", ProvisionRecord),
    ("receipt_record", ReceiptRecord),
    ("referable_confirmation", ReferableConfirmation),
)


def records_due(session: Session, today: date) -> list[str]:
    """References of the records whose keeping period ended before ``today`` (``purge_after`` is the last
    day a record must be kept)."""
    found: list[str] = []
    for name, table in RECORD_TABLES:
        ids = session.scalars(select(table.id).where(table.purge_after < today).order_by(table.id))
        found.extend(f"{name}:{i}" for i in ids)
    return found


def purge_record(
    session: Session, ref: str, *, actor: str, today: date, now: datetime
) -> DisposalRecord | None:
    """Delete one record past its date and keep a disposal record of it (no personal value: references,
    categories, dates). Refused silently (None) before the date or when it is already gone."""
    name, _, raw = ref.partition(":")
    tables: dict[str, type[KeptRecord]] = dict(RECORD_TABLES)
    table = tables[name]
    row = cast("KeptRecord | None", session.get(table, int(raw)))
    if row is None or row.purge_after >= today:
        return None  # purging before the date is blocked (APPI-29r)
    categories = sorted(getattr(row, "categories", []) or [])
    record = DisposalRecord(
        subject_id=row.subject_id,
        ledger_entries=[],
        categories=categories,
        method="delete",
        reason=f"{name}_expired",
        performed_by=actor,
        performed_at=now,
        details={"record": ref, "kept_until": row.purge_after.isoformat()},
    )
    session.add(record)
    session.execute(delete(table).where(table.id == row.id))
    session.flush()
    append(
        session,
        [
            AuditEvent(
                actor=actor,
                action="transfer.record_purged",
                subjects=(row.subject_id,),
                objects=(ref, f"disposal:{record.id}"),
                reasons=(f"{name}_expired",),
            )
        ],
    )
    return record


def sweep(
    db: Database,
    vault: Vault,
    policy: Policy,
    *,
    actor: str,
    today: date,
    now: datetime,
    dry_run: bool = False,
) -> SweepReport:
    """The whole retention sweep: persons, single acquisitions, then transfer records, one transaction
    each, so a sweep stopped half-way finishes when run again."""
    report = sweep_ledger(db, vault, policy, actor=actor, today=today, now=now, dry_run=dry_run)
    with db.session() as session:
        report.records = records_due(session, today)
    if dry_run:
        return report
    for ref in report.records:
        with db.session() as session:
            record = purge_record(session, ref, actor=actor, today=today, now=now)
            if record is not None:
                report.disposed.append(record.id)
    return report
