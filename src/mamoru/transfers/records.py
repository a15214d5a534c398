"""Provision and receipt records: validated on the way in, kept as long as the Rules say (APPI-29r/30r).

The transfer gate (APPI-27) that creates provision records for each transfer is the transfers issue's
work; this module is the record keeping it and the disclosure of records (APPI-33(5)) stand on.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from enum import StrEnum

from sqlalchemy import select
from sqlalchemy.orm import Session

from mamoru.audit.chain import append
from mamoru.audit.entry import AuditEvent
from mamoru.errors import Invalid, Problem, problem
from mamoru.law.periods import period_end
from mamoru.store.listing import Filter, ListQuery, ListSpec, list_page
from mamoru.store.paging import Page
from mamoru.transfers.tables import ProvisionRecord, ReceiptRecord


class Basis(StrEnum):
    CONSENT = "consent"
    OPT_OUT = "opt_out"


class RecordMode(StrEnum):
    """How the record is kept (Rules Arts. 19, 23)."""

    EACH = "each"  # one record each time
    BULK = "bulk"  # one record for continuous or repeated provision over a period
    CONTRACT_SUBSTITUTE = "contract_substitute"  # the contract or another document is the record


def purge_after(mode: RecordMode, created_on: date, last_transfer: date | None = None) -> date:
    """The last day a record must be kept; it is purged from the next day (Rules Arts. 21, 25; PPC Q&A
    13-35), counted by the Civil Code (the day of creation or transfer not counted).

    One year from the last transfer where a contract substitutes the record; three years from the last
    transfer for a bulk record; three years from the record's creation otherwise.
    """
    if mode is RecordMode.CONTRACT_SUBSTITUTE:
        return period_end(last_transfer or created_on, years=1)
    if mode is RecordMode.BULK:
        return period_end(last_transfer or created_on, years=3)
    return period_end(created_on, years=3)


@dataclass(frozen=True)
class ProvisionIn:
    subject_id: str
    recipient: str
    basis: Basis
    categories: Sequence[str]
    mode: RecordMode = RecordMode.EACH
    consent_id: int | None = None
    provided_on: date | None = None
    period_first: date | None = None
    period_last: date | None = None


def record_provision(session: Session, record: ProvisionIn, *, actor: str, today: date) -> ProvisionRecord:
    """Keep a provision record with the fields its basis needs (APPI Art. 29); refuse an incomplete one."""
    problems: list[tuple[str, str]] = []
    if not record.categories:
        problems.append(("categories", "name the data items provided"))
    if record.basis is Basis.CONSENT and record.consent_id is None:
        problems.append(("consent_id", "a consent-based provision records the consent it relied on"))
    if record.basis is Basis.OPT_OUT and record.provided_on is None:
        problems.append(("provided_on", "an opt-out provision records the date it was provided"))
    if record.mode is RecordMode.BULK and (record.period_first is None or record.period_last is None):
        problems.append(("period_first", "a bulk record states the first and last dates of the period"))
    if problems:
        raise Invalid(problems)
    last = record.period_last or record.provided_on
    row = ProvisionRecord(
        subject_id=record.subject_id,
        recipient=record.recipient,
        basis=record.basis.value,
        mode=record.mode.value,
        categories=sorted(record.categories),
        consent_id=record.consent_id,
        provided_on=record.provided_on,
        period_first=record.period_first,
        period_last=record.period_last,
        purge_after=purge_after(record.mode, today, last),
    )
    session.add(row)
    session.flush()
    append(
        session,
        [
            AuditEvent(
                actor=actor,
                action="transfer.provision_recorded",
                subjects=(record.subject_id,),
                objects=(f"provision_record:{row.id}", f"recipient:{record.recipient}"),
            )
        ],
    )
    return row


@dataclass(frozen=True)
class ReceiptIn:
    subject_id: str
    basis: Basis
    categories: Sequence[str]
    provider_name: str
    provider_address: str
    acquisition_history: str
    evidence_ref: str
    provider_representative: str | None = None
    #: A corporation names its representative (APPI Art. 30(1)(i)); an individual provider has none.
    provider_is_corporation: bool = True
    mode: RecordMode = RecordMode.EACH
    received_on: date | None = None
    ppc_publication_ref: str | None = None


def record_receipt(session: Session, record: ReceiptIn, *, actor: str, today: date) -> ReceiptRecord:
    """Confirm and record data received from a third party (APPI Art. 30); an unconfirmed one is refused."""
    problems: list[Problem] = []
    for name in ("provider_name", "provider_address", "acquisition_history", "evidence_ref"):
        if not str(getattr(record, name)).strip():
            problems.append(
                problem(
                    name, "required: the recipient must confirm it before the data is taken in", "missing"
                )
            )
    if record.provider_is_corporation and not (record.provider_representative or "").strip():
        problems.append(
            problem(
                "provider_representative",
                "a corporate provider's representative must be confirmed (APPI Art. 30(1)(i))",
                "representative_needed",
            )
        )
    if not record.categories:
        problems.append(problem("categories", "name the data items received", "missing"))
    if record.basis is Basis.OPT_OUT:
        if not (record.ppc_publication_ref or "").strip():
            problems.append(
                problem(
                    "ppc_publication_ref", "opt-out data needs the PPC's publication of the filing", "missing"
                )
            )
        if record.received_on is None:
            problems.append(
                problem("received_on", "an opt-out receipt records the date it was received", "missing")
            )
    if problems:
        raise Invalid(problems)
    row = ReceiptRecord(
        subject_id=record.subject_id,
        basis=record.basis.value,
        mode=record.mode.value,
        categories=sorted(record.categories),
        provider_name=record.provider_name.strip(),
        provider_address=record.provider_address.strip(),
        provider_representative=(record.provider_representative or "").strip() or None,
        acquisition_history=record.acquisition_history.strip(),
        evidence_ref=record.evidence_ref,
        consent_obtained=record.basis is Basis.CONSENT,
        received_on=record.received_on,
        ppc_publication_ref=record.ppc_publication_ref,
        purge_after=purge_after(record.mode, today, record.received_on),
    )
    session.add(row)
    session.flush()
    append(
        session,
        [
            AuditEvent(
                actor=actor,
                action="transfer.receipt_recorded",
                subjects=(record.subject_id,),
                objects=(f"receipt_record:{row.id}",),
            )
        ],
    )
    return row


def records_for(
    session: Session, subject_ids: Sequence[str]
) -> tuple[list[ProvisionRecord], list[ReceiptRecord]]:
    """Every provision and receipt record about these subjects, oldest first (APPI Art. 33(5))."""
    ids = list(subject_ids)
    provisions = list(
        session.scalars(
            select(ProvisionRecord).where(ProvisionRecord.subject_id.in_(ids)).order_by(ProvisionRecord.id)
        )
    )
    receipts = list(
        session.scalars(
            select(ReceiptRecord).where(ReceiptRecord.subject_id.in_(ids)).order_by(ReceiptRecord.id)
        )
    )
    return provisions, receipts


#: What the list of provision records may be sorted and filtered by; ``subject`` is a subject's
#: reference (its ID), never a personal value.
PROVISIONS = ListSpec(
    sorts={
        # records are numbered as they are written: the newest first by default, read from the primary key
        "recorded": (ProvisionRecord.id,),
        "date": (ProvisionRecord.provided_on, ProvisionRecord.created_at),
        "keep_until": (ProvisionRecord.purge_after,),
        "recipient": (ProvisionRecord.recipient,),
        "basis": (ProvisionRecord.basis,),
    },
    default="-recorded",
    tiebreak=ProvisionRecord.id,
    filters={
        "recipient": Filter(ProvisionRecord.recipient),
        "basis": Filter(ProvisionRecord.basis, {"consent", "opt_out"}),
        "subject": Filter(ProvisionRecord.subject_id),
    },
)


def provision_page(session: Session, asked: ListQuery) -> Page[ProvisionRecord]:
    """One page of the provision records as ``asked`` (see :data:`PROVISIONS`)."""
    return list_page(session, select(ProvisionRecord), PROVISIONS, asked)


def records_json(
    provisions: Sequence[ProvisionRecord], receipts: Sequence[ReceiptRecord]
) -> dict[str, list[dict[str, object]]]:
    """The records about a subject as plain data for the API and the CLI (references and codes only)."""
    return {
        "provision_records": [
            {
                "id": p.id,
                "recipient": p.recipient,
                "basis": p.basis,
                "mode": p.mode,
                "categories": p.categories,
                "provided_on": p.provided_on,
                "created_at": p.created_at,
                "purge_after": p.purge_after,
            }
            for p in provisions
        ],
        "receipt_records": [
            {
                "id": r.id,
                "basis": r.basis,
                "mode": r.mode,
                "categories": r.categories,
                "received_on": r.received_on,
                "created_at": r.created_at,
                "purge_after": r.purge_after,
            }
            for r in receipts
        ],
    }
