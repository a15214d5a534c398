"""Retention events read from the organization's own datastores (APPI-22: retention that runs).

A dataset map may name, per table, the date columns that record an event a retention rule starts at
(``events: {end_of_contract: contract_ended_on}``). :func:`record_from_datastore` reads them, finds each
row's person among those mamoru holds by the table's identities (blind indexes of the vault: nothing is
decrypted), and records the events through :func:`mamoru.ledger.retention.record_events`, all or none,
with the datastore as their source. Rows of persons mamoru does not hold, and dates still to come, are
counted and left alone.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from mamoru.connectors.registry import connectors
from mamoru.errors import NotFound
from mamoru.ledger import retention
from mamoru.ledger.tables import DataSubject, RetentionEvent
from mamoru.workspace import Workspace

#: The identities a row's person is found by: each names one person (a name alone, or a date of birth,
#: could name another).
IDENTIFYING = ("email", "phone", "employee_number", "customer_number")


@dataclass(frozen=True)
class FromDatastore:
    recorded: int  # events recorded (one per person, kind and date)
    started: int  # acquisitions whose retention now runs
    not_held: int  # rows of persons mamoru does not hold
    not_yet: int  # rows whose date is still to come


def record_from_datastore(
    session: Session, ws: Workspace, name: str, *, actor: str, now: datetime
) -> FromDatastore:
    """Record the retention events datastore ``name`` holds for the persons mamoru holds."""
    found = connectors(ws).get(name)
    if found is None:
        raise NotFound(f"no datastore '{name}' in <home>/datasets")
    now_due: list[tuple[dict[str, str], str, date]] = []
    not_yet = 0
    for identities, kind, day in found.events():
        if day > now.date():
            not_yet += 1
        else:
            now_due.append((identities, kind, day))
    # each identity kind looked up once for all rows, by blind index (one query per 500 values)
    people = {
        field: ws.vault.find_many(session, field, {ids[field] for ids, _, _ in now_due if field in ids})
        for field in IDENTIFYING
    }
    rows: dict[tuple[str, str], retention.EventRow] = {}
    not_held = 0
    for identities, kind, day in now_due:
        subjects = {
            s for field, value in identities.items() if field in people for s in people[field].get(value, ())
        }
        if not subjects:
            not_held += 1
        for subject in subjects:
            # the latest date of one kind is the one that counts; an earlier one adds nothing
            kept = rows.get((subject, kind))
            if kept is None or kept.occurred_on < day:
                rows[(subject, kind)] = retention.EventRow(subject, kind, day, None)
    # a second run records nothing again: an event already recorded (same person, kind and day) is known,
    # and a person whose data was erased has nothing left to keep
    subjects_seen = sorted({row.subject_id for row in rows.values()})
    known: set[tuple[str, str, date]] = set()
    erased: set[str] = set()
    for batch in (subjects_seen[i : i + 500] for i in range(0, len(subjects_seen), 500)):
        known.update(
            (str(s), str(k), d)
            for s, k, d in session.execute(
                select(RetentionEvent.subject_id, RetentionEvent.kind, RetentionEvent.occurred_on).where(
                    RetentionEvent.subject_id.in_(batch)
                )
            )
        )
        erased.update(
            session.scalars(
                select(DataSubject.id).where(DataSubject.id.in_(batch), DataSubject.erased_at.is_not(None))
            )
        )
    fresh = [
        row
        for row in rows.values()
        if (row.subject_id, row.kind, row.occurred_on) not in known and row.subject_id not in erased
    ]
    results = retention.record_events(
        session, ws.policy.policy, fresh, actor=actor, source=f"connector:{name}", now=now
    )
    return FromDatastore(
        recorded=len(results),
        started=sum(len(r.started) for r in results),
        not_held=not_held,
        not_yet=not_yet,
    )
