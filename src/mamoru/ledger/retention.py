"""Retention and disposal (APPI Art. 22): what has expired is erased and a disposal record kept.

Retention runs per acquisition. A rule that starts at acquisition is dated when the data comes in; a rule
that starts at an event (a contract, an employment, a use ending) is dated when that event is recorded
(:func:`record_event`), counted by the Civil Code (:func:`mamoru.law.periods.period_end`). When every live
acquisition of a person has expired, the person is crypto-erased; when only some have, the fields that
no live acquisition still needs are deleted and the rest kept (one ledger entry, single fields).

Each subject is disposed of in its own transaction, key first: a sweep stopped half-way leaves every
subject either untouched or unreadable, and running it again finishes the rest.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from mamoru.audit.chain import append
from mamoru.audit.entry import AuditEvent
from mamoru.errors import Invalid, NotFound, Problem, problem
from mamoru.law.periods import period_end
from mamoru.ledger.tables import Acquisition, DataSubject, DisposalRecord, LedgerEntry, RetentionEvent
from mamoru.policy.model import Policy, RetentionStart
from mamoru.store.db import Database
from mamoru.vault.service import Vault

METHOD = "crypto_erase"
#: Deleting some fields of a person whose other data is still kept (the key stays for the rest).
METHOD_FIELDS = "field_delete"


class EventKind(StrEnum):
    """The events a retention rule can start at, other than the acquisition itself."""

    END_OF_CONTRACT = RetentionStart.END_OF_CONTRACT.value  # contract, membership or transaction ended
    END_OF_EMPLOYMENT = RetentionStart.END_OF_EMPLOYMENT.value  # employment or engagement ended
    END_OF_USE = RetentionStart.END_OF_USE.value  # the matter the data was for is completed


SOURCES = ("console", "api", "cli", "demo")


@dataclass
class EventResult:
    event: RetentionEvent
    #: acquisition id -> the last day it is kept, for each acquisition the event started.
    started: dict[int, date] = field(default_factory=dict)


def _rules(policy: Policy) -> dict[str, tuple[RetentionStart, int, int, int]]:
    return {r.id: (r.starting, r.years, r.months, r.days) for r in policy.retention}


def record_event(
    session: Session,
    policy: Policy,
    subject_id: str,
    kind: EventKind | str,
    occurred_on: date,
    *,
    actor: str,
    source: str,
    now: datetime,
    ledger_code: str | None = None,
) -> EventResult:
    """Record that an event happened to a person and start every retention rule that waits for it.

    Each acquisition made on or before the event, under a ledger entry whose rule starts at this kind of
    event, is then kept until the rule's period from the event ends (the day of the event not counted); a
    later event of the same kind moves the date later, never earlier. ``ledger_code`` limits it to one
    ledger entry. Refused, changing nothing: an unknown person or kind, a date in the future, a source
    that is not one of ours.
    """
    problems: list[Problem] = []
    try:
        kind = EventKind(kind)
    except ValueError:
        problems.append(problem("kind", f"one of {', '.join(k.value for k in EventKind)}", "enum"))
    if occurred_on > now.date():
        problems.append(
            problem("occurred_on", "an event is recorded once it has happened, not before", "event_in_future")
        )
    if source not in SOURCES and not (source.startswith("connector:") and 10 < len(source) <= 64):
        problems.append(problem("source", "console, api, cli, demo or connector:<name>"))
    entry: LedgerEntry | None = None
    if ledger_code:
        entry = session.scalar(select(LedgerEntry).where(LedgerEntry.code == ledger_code))
        if entry is None:
            problems.append(
                problem("ledger_code", "no such ledger entry; choose one from the ledger", "unknown")
            )
    if problems:
        raise Invalid(problems)
    kind = EventKind(kind)
    subject = session.get(DataSubject, subject_id)
    if subject is None:
        raise NotFound(f"no subject {subject_id}")
    if subject.erased_at is not None:
        raise Invalid([problem("subject_id", "this person's data was already erased", "subject_erased")])
    event = RetentionEvent(
        subject_id=subject_id,
        kind=kind.value,
        occurred_on=occurred_on,
        ledger_entry_id=entry.id if entry else None,
        source=source,
        recorded_by=actor,
        recorded_at=now,
    )
    session.add(event)
    session.flush()
    result = EventResult(event)
    rules = _rules(policy)
    query = select(Acquisition, LedgerEntry).join(LedgerEntry, LedgerEntry.id == Acquisition.ledger_entry_id)
    query = query.where(Acquisition.subject_id == subject_id, Acquisition.disposed_at.is_(None))
    if entry is not None:
        query = query.where(Acquisition.ledger_entry_id == entry.id)
    codes: set[str] = set()
    for acquisition, ledger in session.execute(query.order_by(Acquisition.id)):
        rule = rules.get(ledger.retention_rule or "")
        if ledger.retention_until is not None or rule is None or rule[0].value != kind.value:
            continue
        if acquisition.acquired_at.date() > occurred_on:
            continue  # came in after the event: it waits for the next one
        _, years, months, days = rule
        until = period_end(occurred_on, years=years, months=months, days=days)
        if acquisition.retain_until is None or acquisition.retain_until < until:
            acquisition.retain_until = until
        result.started[acquisition.id] = acquisition.retain_until
        codes.add(ledger.code)
    append(
        session,
        [
            AuditEvent(
                actor=actor,
                action="retention.event_recorded",
                subjects=(subject_id,),
                objects=(f"retention_event:{event.id}", *(f"ledger:{c}" for c in sorted(codes))),
                reasons=(f"kind:{kind.value}", f"source:{source}"),
                counts={"started": len(result.started)},
                policy_version=policy.version,
            )
        ],
    )
    return result


@dataclass(frozen=True)
class EventRow:
    """One event as a connector or a file reports it."""

    subject_id: str
    kind: str
    occurred_on: date
    ledger_code: str | None = None


def record_events(
    session: Session, policy: Policy, rows: list[EventRow], *, actor: str, source: str, now: datetime
) -> list[EventResult]:
    """Record many events at once, all or none: a row refused (unknown person, kind or ledger entry, a
    future date) refuses the batch with every problem named by its row number, and nothing is kept."""
    problems: list[Problem] = []
    results: list[EventResult] = []
    with session.begin_nested():
        for i, row in enumerate(rows, start=1):
            try:
                with session.begin_nested():
                    results.append(
                        record_event(
                            session,
                            policy,
                            row.subject_id,
                            row.kind,
                            row.occurred_on,
                            actor=actor,
                            source=source,
                            now=now,
                            ledger_code=row.ledger_code,
                        )
                    )
            except Invalid as exc:
                problems.extend(problem(("rows", i, *p.loc), p.msg, p.type) for p in exc.problems)
            except NotFound as exc:
                problems.append(problem(("rows", i, "subject_id"), str(exc), "unknown"))
        if problems:
            raise Invalid(problems)
    return results


def events_of(session: Session, subject_id: str) -> list[RetentionEvent]:
    """A person's recorded events, the latest first."""
    return list(
        session.scalars(
            select(RetentionEvent)
            .where(RetentionEvent.subject_id == subject_id)
            .order_by(RetentionEvent.occurred_on.desc(), RetentionEvent.id.desc())
        )
    )


@dataclass(frozen=True)
class Held:
    """One acquisition of a person as retention sees it (references, codes and dates only)."""

    acquisition_id: int
    ledger_code: str
    ledger_name: str
    categories: tuple[str, ...]
    acquired_on: date
    kept_until: date | None
    #: The event still to come that starts its rule (None: dated, or no rule starts at an event).
    waiting_for: str | None
    disposed_at: datetime | None


def held(session: Session, policy: Policy, subject_id: str) -> list[Held]:
    """What is kept of a person, acquisition by acquisition, with until when or the event it waits for."""
    rules = _rules(policy)
    events = {k.value for k in EventKind}
    rows = session.execute(
        select(Acquisition, LedgerEntry)
        .join(LedgerEntry, LedgerEntry.id == Acquisition.ledger_entry_id)
        .where(Acquisition.subject_id == subject_id)
        .order_by(Acquisition.acquired_at, Acquisition.id)
    )
    out = []
    for acquisition, entry in rows:
        rule = rules.get(entry.retention_rule or "")
        waiting = (
            rule[0].value
            if acquisition.retain_until is None and rule is not None and rule[0].value in events
            else None
        )
        out.append(
            Held(
                acquisition.id,
                entry.code,
                entry.name,
                tuple(acquisition.categories),
                acquisition.acquired_at.date(),
                acquisition.retain_until,
                waiting,
                acquisition.disposed_at,
            )
        )
    return out


def due_for_disposal(session: Session, today: date) -> list[str]:
    """Subjects not yet erased whose every live acquisition has a retention date before ``today``."""
    live = (
        select(
            Acquisition.subject_id,
            func.count().label("all"),
            func.count(Acquisition.retain_until).label("dated"),
            func.max(Acquisition.retain_until).label("until"),
        )
        .where(Acquisition.disposed_at.is_(None))
        .group_by(Acquisition.subject_id)
        .subquery()
    )
    rows = session.execute(
        select(live.c.subject_id)
        .join(DataSubject, DataSubject.id == live.c.subject_id)
        .where(DataSubject.erased_at.is_(None), live.c.all == live.c.dated, live.c.until < today)
        .order_by(live.c.subject_id)
    )
    return [subject_id for (subject_id,) in rows]


def partly_due(session: Session, today: date) -> dict[str, list[int]]:
    """Subjects kept on other grounds, with the acquisitions of theirs whose retention ended before
    ``today``: those end alone (their ledger entry, their fields), the person stays."""
    whole = set(due_for_disposal(session, today))
    found: dict[str, list[int]] = defaultdict(list)
    rows = session.execute(
        select(Acquisition.subject_id, Acquisition.id)
        .join(DataSubject, DataSubject.id == Acquisition.subject_id)
        .where(
            DataSubject.erased_at.is_(None),
            Acquisition.disposed_at.is_(None),
            Acquisition.retain_until.is_not(None),
            Acquisition.retain_until < today,
        )
        .order_by(Acquisition.subject_id, Acquisition.id)
    )
    for subject_id, acquisition_id in rows:
        if subject_id not in whole:
            found[subject_id].append(acquisition_id)
    return dict(found)


def end_acquisitions(
    session: Session,
    vault: Vault,
    policy: Policy,
    subject_id: str,
    acquisition_ids: list[int],
    *,
    actor: str,
    now: datetime,
    reason: str = "retention_expired",
) -> DisposalRecord | None:
    """End some acquisitions of a person whose other data is kept: delete the fields whose category no
    live acquisition still holds, mark the acquisitions disposed and record it. None if nothing was live."""
    subject = session.get(DataSubject, subject_id)
    if subject is None or subject.erased_at is not None:
        return None
    acquisitions = list(
        session.scalars(
            select(Acquisition).where(Acquisition.subject_id == subject_id, Acquisition.disposed_at.is_(None))
        )
    )
    ending = [a for a in acquisitions if a.id in set(acquisition_ids)]
    if not ending:
        return None
    kept = {c for a in acquisitions if a not in ending for c in a.categories}
    ended = {c for a in ending for c in a.categories} - kept
    fields = sorted(f for f in vault.field_names(session, subject_id) if policy.fields.get(f) in ended)
    vault.drop_fields(session, subject_id, fields)
    for acquisition in ending:
        acquisition.disposed_at = now
    ledger_ids = sorted({a.ledger_entry_id for a in ending})
    codes = list(session.scalars(select(LedgerEntry.code).where(LedgerEntry.id.in_(ledger_ids))))
    record = DisposalRecord(
        subject_id=subject_id,
        ledger_entries=sorted(codes),
        categories=sorted(ended),
        method=METHOD_FIELDS,
        reason=reason,
        performed_by=actor,
        performed_at=now,
        details={"acquisitions": sorted(a.id for a in ending), "fields": fields},
    )
    session.add(record)
    session.flush()
    append(
        session,
        [
            AuditEvent(
                actor=actor,
                action="subject.dispose_part",
                subjects=(subject_id,),
                objects=(
                    f"disposal:{record.id}",
                    *(f"acquisition:{a.id}" for a in ending),
                    *(f"ledger:{c}" for c in sorted(codes)),
                ),
                reasons=(reason, METHOD_FIELDS),
                counts={"fields": len(fields)},
            )
        ],
    )
    return record


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
    #: Disposal records written (whole persons, parts of persons, purged provision and receipt records).
    disposed: list[int] = field(default_factory=list)
    #: Persons crypto-erased as a whole.
    subjects: list[str] = field(default_factory=list)
    #: Persons of whom some acquisitions (ledger entries, fields) ended while the rest is kept.
    partial: list[str] = field(default_factory=list)
    #: Provision and receipt records purged on their date (APPI-29r, APPI-30r): "provision_record:<id>".
    records: list[str] = field(default_factory=list)


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
    """Dispose of every person past retention and end every acquisition past its own, one transaction
    per person."""
    with db.session() as session:
        due = due_for_disposal(session, today)
        parts = partly_due(session, today)
    report = SweepReport(today=today, subjects=due, partial=sorted(parts))
    if dry_run:
        return report
    for subject_id in due:
        with db.session() as session:
            record = dispose_subject(
                session, vault, subject_id, actor=actor, now=now, reason="retention_expired"
            )
            if record is not None:
                report.disposed.append(record.id)
    for subject_id, acquisition_ids in sorted(parts.items()):
        with db.session() as session:
            record = end_acquisitions(
                session, vault, policy, subject_id, acquisition_ids, actor=actor, now=now
            )
            if record is not None:
                report.disposed.append(record.id)
    return report
