"""The My Number vault's operations: filings, collection with identity verification, reads and statutory
outputs by handlers only, disposal at the end of retention.

Every read goes through the guard with a My Number purpose of the policy (closed affairs, handler role);
a refused attempt is audited by the guard and, here, opens an incident draft at once (MN-6).
"""

from __future__ import annotations

import csv
import io
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime

from sqlalchemy import ColumnElement, and_, select, true
from sqlalchemy.orm import Session

from mamoru.audit.chain import append
from mamoru.audit.entry import AuditEvent
from mamoru.errors import Invalid, MamoruError, Refusal
from mamoru.files import safe_cell
from mamoru.guard.decision import Action, Decision
from mamoru.guard.service import decide_and_record
from mamoru.incidents import signals
from mamoru.law.mynumber import (
    IdentityDoc,
    NumberCheckDoc,
    NumberDocument,
    StatutoryAffair,
    identity_problems,
    is_valid,
    normalize,
    purge_after,
)
from mamoru.ledger.tables import Acquisition, Channel, LedgerEntry
from mamoru.mynumber.tables import MnDeletionRecord, MnEntry, MnFiling
from mamoru.store.listing import Filter, ListQuery, ListSpec, list_page
from mamoru.store.paging import Page
from mamoru.vault.service import flush_after_commit
from mamoru.workspace import Workspace

NUMBER_FIELD = "number"
MY_NUMBER_CATEGORY = "my_number"


class MyNumberDenied(Refusal):
    """The guard refused a use of the Individual Number; the attempt is audited and signalled."""


class ExportRefused(MamoruError):
    """The Individual Number leaves the vault only in a statutory output, to a handler."""

    http_status = 403


#: The statutory outputs the vault can produce, with the affair and documents each serves.
OUTPUTS: dict[str, tuple[StatutoryAffair, frozenset[NumberDocument]]] = {
    "withholding_slips": (
        StatutoryAffair.WITHHOLDING_SLIP,
        frozenset({NumberDocument.DEPENDENTS_DECLARATION, NumberDocument.WITHHOLDING_SLIP}),
    ),
    "payment_reports": (StatutoryAffair.PAYMENT_REPORT, frozenset({NumberDocument.PAYMENT_REPORT})),
    "social_insurance": (StatutoryAffair.HEALTH_INSURANCE, frozenset({NumberDocument.SOCIAL_INSURANCE})),
    "employment_insurance": (
        StatutoryAffair.EMPLOYMENT_INSURANCE,
        frozenset({NumberDocument.EMPLOYMENT_INSURANCE}),
    ),
}


def filings(session: Session) -> list[MnFiling]:
    """Every statutory filing, newest year first."""
    return list(session.scalars(select(MnFiling).order_by(MnFiling.year.desc(), MnFiling.id)))


def entries(session: Session) -> list[MnEntry]:
    """Every entry of the vault (numbers never leave it here), the first to be disposed of first."""
    return list(session.scalars(select(MnEntry).order_by(MnEntry.purge_after)))


#: What the list of entries held may be sorted and filtered by (never by the number: it stays sealed).
#: ``state`` is read against the day by :func:`entry_page`.
ENTRIES = ListSpec(
    sorts={
        "keep_until": (MnEntry.purge_after,),
        "verified": (MnEntry.verified_at,),
        "document": (MnEntry.document,),
    },
    default="keep_until",
    tiebreak=MnEntry.id,
    filters={
        "document": Filter(MnEntry.document, {d.value for d in NumberDocument}),
        "state": Filter(values={"held", "due", "deleted"}, where=lambda _: true()),
    },
)


def entry_page(session: Session, asked: ListQuery, today: date) -> Page[MnEntry]:
    """One page of the vault's entries as ``asked`` (see :data:`ENTRIES`): ``due`` are those held past
    the day they must be disposed of."""

    def state(value: str) -> ColumnElement[bool]:
        if value == "deleted":
            return MnEntry.deleted_at.is_not(None)
        held = MnEntry.deleted_at.is_(None)
        return and_(held, MnEntry.purge_after < today) if value == "due" else held

    spec = replace(
        ENTRIES, filters={**ENTRIES.filters, "state": replace(ENTRIES.filters["state"], where=state)}
    )
    return list_page(session, select(MnEntry), spec, asked)


def deletions(session: Session, limit: int = 20) -> list[MnDeletionRecord]:
    """The latest records of disposal (MN-5), newest first."""
    return list(session.scalars(select(MnDeletionRecord).order_by(MnDeletionRecord.id.desc()).limit(limit)))


def purpose_for(ws: Workspace, affair: StatutoryAffair) -> str:
    """The policy purpose whose statutory affairs include ``affair`` (MN-1: only those)."""
    for purpose in ws.policy.policy.my_number_purposes():
        if purpose.my_number is not None and affair.value in purpose.my_number.affairs:
            return purpose.id
    raise ExportRefused(f"the policy has no My Number purpose for the affair '{affair.value}'")


def create_filing(
    session: Session,
    *,
    affair: StatutoryAffair,
    document: NumberDocument,
    year: int,
    due_on: date,
    actor: str,
) -> MnFiling:
    filing = MnFiling(
        affair=affair.value, document=document.value, year=year, due_on=due_on, created_by=actor
    )
    session.add(filing)
    session.flush()
    append(
        session,
        [
            AuditEvent(
                actor=actor,
                action="mynumber.filing_created",
                objects=(f"mn_filing:{filing.id}", f"affair:{affair.value}"),
            )
        ],
    )
    return filing


@dataclass(frozen=True)
class CollectIn:
    subject_id: str
    number: str
    filing_id: int
    number_check: NumberCheckDoc
    identity: Sequence[IdentityDoc]
    by_agent: bool = False
    authority_doc: bool = False
    agent_identity: Sequence[IdentityDoc] = ()
    dependent_of: str | None = None
    completed_on: date | None = None


def _deny(session: Session, ws: Workspace, decision: Decision) -> MyNumberDenied:
    """The refusal to raise. Its decision is in the audit log of ``session``, and the signal scan opens the
    security draft from it now; both stay, since the session commits a :class:`Refusal`."""
    signals.scan(session, ws.vault)
    return MyNumberDenied(
        f"the Individual Number is not available to {decision.actor}: {', '.join(decision.reasons)}"
    )


def _decide(
    session: Session,
    ws: Workspace,
    *,
    actor: str,
    purpose: str,
    subjects: list[str],
    action: Action,
    now: datetime,
) -> list[Decision]:
    return decide_and_record(
        session,
        ws.policy,
        actor=actor,
        purpose=purpose,
        subjects=subjects,
        categories=[MY_NUMBER_CATEGORY],
        action=action,
        now=now,
    )


def collect(session: Session, ws: Workspace, data: CollectIn, *, actor: str, now: datetime) -> MnEntry:
    """Take in a number for a pending filing, after the documents verify the number and the person.

    Bad input is refused with every problem named; the number never appears in an error message.
    """
    problems: list[tuple[str, str]] = []
    filing = session.get(MnFiling, data.filing_id)
    if filing is None or filing.status != "pending":
        problems.append(("filing_id", "a number is collected only for a pending statutory filing (MN-2)"))
    number = normalize(data.number)
    if not is_valid(number):
        problems.append(
            ("number", "not a valid Individual Number: 12 digits with a matching check digit (MN-4)")
        )
    for why in identity_problems(
        data.number_check,
        list(data.identity),
        by_agent=data.by_agent,
        authority_doc=data.authority_doc,
        agent_identity=list(data.agent_identity),
    ):
        problems.append(("documents", why))
    if problems:
        raise Invalid(problems)
    assert filing is not None
    affair = StatutoryAffair(filing.affair)
    purpose = purpose_for(ws, affair)
    (decision,) = _decide(
        session, ws, actor=actor, purpose=purpose, subjects=[data.subject_id], action=Action.READ, now=now
    )
    # Collection comes before the subject holds a number, so only the actor's side must pass here.
    if not decision.allow and decision.rule != "subject.purpose":
        raise _deny(session, ws, decision)
    channel = next(
        (
            c
            for c, purposes in session.execute(
                select(Channel, LedgerEntry.purposes)
                .join(LedgerEntry, LedgerEntry.id == Channel.ledger_entry_id)
                .where(Channel.active.is_(True))
                .order_by(Channel.id)
            )
            if purpose in purposes
        ),
        None,
    )
    if channel is None:
        raise Invalid([("filing_id", f"the ledger has no live channel for the purpose '{purpose}' (JIS-1)")])
    entry_id = str(uuid.uuid4())
    document = NumberDocument(filing.document)
    entry = MnEntry(
        id=entry_id,
        subject_id=data.subject_id,
        dependent_of=data.dependent_of,
        filing_id=filing.id,
        document=document.value,
        sealed=ws.mynumber_vault.seal_private(entry_id, NUMBER_FIELD, number.encode()),
        number_check_doc=data.number_check.value,
        identity_docs=[d.value for d in data.identity],
        by_agent=data.by_agent,
        verified_by=actor,
        verified_at=now,
        purge_after=purge_after(document, filing.year, data.completed_on),
    )
    session.add(entry)
    session.add(
        Acquisition(
            subject_id=data.subject_id,
            channel_id=channel.id,
            ledger_entry_id=channel.ledger_entry_id,
            source_type="direct_written",
            categories=[MY_NUMBER_CATEGORY],
            purposes_notified=[purpose],
            acquired_at=now,
            retain_until=entry.purge_after,
        )
    )
    session.flush()
    append(
        session,
        [
            AuditEvent(
                actor=actor,
                action="mynumber.collected",
                purpose=purpose,
                subjects=(data.subject_id,),
                objects=(
                    f"mn_entry:{entry_id}",
                    f"mn_filing:{filing.id}",
                    f"check:{data.number_check.value}",
                ),
            )
        ],
    )
    return entry


def read_number(
    session: Session, ws: Workspace, entry_id: str, *, actor: str, affair: StatutoryAffair, now: datetime
) -> str:
    """The number of one entry, for a handler working on ``affair``; everyone else is refused and signalled."""
    entry = session.get(MnEntry, entry_id)
    if entry is None or entry.sealed is None:
        raise MamoruError(f"no Individual Number is held in entry {entry_id}")
    purpose = purpose_for(ws, affair)
    (decision,) = _decide(
        session, ws, actor=actor, purpose=purpose, subjects=[entry.subject_id], action=Action.READ, now=now
    )
    if not decision.allow:
        raise _deny(session, ws, decision)
    append(
        session,
        [
            AuditEvent(
                actor=actor,
                action="mynumber.read",
                purpose=purpose,
                subjects=(entry.subject_id,),
                objects=(f"mn_entry:{entry.id}",),
            )
        ],
    )
    return ws.mynumber_vault.open_private(entry.id, NUMBER_FIELD, entry.sealed).decode()


def statutory_output(
    session: Session, ws: Workspace, form: str, year: int, *, actor: str, now: datetime
) -> bytes:
    """The CSV a handler feeds into the statutory form (withholding slips, payment reports, …) for ``year``.

    There is no other way out of the vault: any other destination or form is refused (MN-2).
    """
    if form not in OUTPUTS:
        raise ExportRefused(
            f"'{form}' is not a statutory output; the vault exports only {', '.join(sorted(OUTPUTS))}"
        )
    affair, documents = OUTPUTS[form]
    purpose = purpose_for(ws, affair)
    entries = list(
        session.scalars(
            select(MnEntry)
            .join(MnFiling, MnFiling.id == MnEntry.filing_id)
            .where(
                MnFiling.year == year,
                MnEntry.document.in_([d.value for d in documents]),
                MnEntry.deleted_at.is_(None),
            )
            .order_by(MnEntry.verified_at)
        )
    )
    subjects = sorted({e.subject_id for e in entries})
    decisions = {
        d.subjects[0]: d
        for d in _decide(
            session, ws, actor=actor, purpose=purpose, subjects=subjects, action=Action.EXPORT, now=now
        )
    }
    refused = [d for d in decisions.values() if not d.allow]
    if refused:
        raise _deny(session, ws, refused[0])
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["subject_id", "dependent_of", "document", "individual_number"])
    for entry in entries:
        assert entry.sealed is not None
        number = ws.mynumber_vault.open_private(entry.id, NUMBER_FIELD, entry.sealed).decode()
        writer.writerow(
            [safe_cell(v) for v in (entry.subject_id, entry.dependent_of or "", entry.document, number)]
        )
    append(
        session,
        [
            AuditEvent(
                actor=actor,
                action="mynumber.output",
                purpose=purpose,
                subjects=tuple(subjects),
                objects=(f"form:{form}", f"year:{year}"),
                counts={"entries": len(entries)},
            )
        ],
    )
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def export(destination: str) -> bytes:
    """There is no general export of the vault. Kept as an explicit refusal so a caller learns why."""
    raise ExportRefused(
        f"the Individual Number cannot be exported to '{destination[:40]}'; only statutory outputs exist (MN-2)"
    )


def dispose_due(session: Session, ws: Workspace, *, today: date, actor: str) -> list[MnDeletionRecord]:
    """Crypto-erase every entry whose retention ended before ``today`` and keep a record without the number
    (MN-5). Run it at fiscal year end (or any day: it is idempotent)."""
    records = []
    for entry in session.scalars(
        select(MnEntry).where(MnEntry.purge_after < today, MnEntry.deleted_at.is_(None))
    ):
        ws.mynumber_vault.keystore.destroy_subject_key(entry.id)
        entry.sealed = None
        flush_after_commit(session)
        entry.deleted_at = datetime.combine(today, datetime.min.time()).astimezone()
        record = MnDeletionRecord(
            entry_id=entry.id,
            subject_id=entry.subject_id,
            document=entry.document,
            deleted_on=today,
            method="crypto_erase",
            responsible=actor,
        )
        session.add(record)
        records.append(record)
    session.flush()
    if records:
        append(
            session,
            [
                AuditEvent(
                    actor=actor,
                    action="mynumber.disposed",
                    subjects=tuple(sorted({r.subject_id for r in records})),
                    objects=tuple(f"mn_deletion:{r.id}" for r in records[:50]),
                    counts={"entries": len(records)},
                )
            ],
        )
    return records
