"""Entry and exit (APPI-23-phys, MN-7 physical): zones, who may enter each, badges, and door events.

Events come from a door controller over the API or from a CSV export. Each is matched to a badge (only
a keyed hash of the badge number is kept) and checked: an entry that was not authenticated, by an
unknown or revoked badge, by someone who has left or who is not allowed in the zone raises an alert;
the alerts of one batch open one incident draft for the office to look at.
"""

from __future__ import annotations

import csv
import io
import re
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from mamoru.audit.chain import append
from mamoru.audit.entry import AuditEvent
from mamoru.errors import NotFound, require
from mamoru.people.staff import get
from mamoru.people.tables import Badge, DoorEvent, Staff, Zone, ZoneGrant
from mamoru.vault.service import Vault

_CODE = re.compile(r"^[a-z][a-z0-9_]{0,31}$")
_EVENT_ID = re.compile(r"^[A-Za-z0-9_.:-]{1,64}$")
_BADGE = re.compile(r"^[A-Za-z0-9-]{4,64}$")
OK = "ok"
#: The audit action of an ingested batch: the entry incidents.signals reads its door alerts from.
INGESTED = "door_events.ingested"
CSV_COLUMNS = ("event_id", "zone", "badge", "at", "direction", "authenticated")


def _badge_hash(vault: Vault, number: str) -> str:
    return vault.keyed_hash("badge", number.strip().upper())


def add_zone(session: Session, code: str, *, name_ja: str, name_en: str, my_number: bool, actor: str) -> Zone:
    problems = []
    if not _CODE.match(code):
        problems.append(("code", "a zone code: lower-case letters, digits and _"))
    elif session.scalar(select(Zone.id).where(Zone.code == code)):
        problems.append(("code", f"zone '{code}' exists"))
    if not name_ja.strip() or not name_en.strip():
        problems.append(("name", "a name in Japanese and in English"))
    require(problems)
    zone = Zone(code=code, name_ja=name_ja.strip(), name_en=name_en.strip(), my_number=my_number)
    session.add(zone)
    session.flush()
    append(session, [AuditEvent(actor=actor, action="zone.added", objects=(f"zone:{code}",))])
    return zone


def zone(session: Session, code: str) -> Zone:
    found = session.scalar(select(Zone).where(Zone.code == code))
    if found is None:
        raise NotFound(f"no zone '{code}'")
    return found


def allow(session: Session, code: str, login: str, *, actor: str) -> None:
    """Let a staff member into a zone. A My Number zone takes only My Number handlers."""
    z, staff = zone(session, code), get(session, login)
    problems = []
    if staff.revoked_at is not None or (
        staff.left_on is not None and staff.left_on <= datetime.now(UTC).date()
    ):
        problems.append(("login", "this person has left"))
    if z.my_number and "my_number_handler" not in staff.role_names:
        problems.append(("login", "a My Number zone admits My Number handlers only (MN-7)"))
    require(problems)
    if session.get(ZoneGrant, (z.id, staff.id)) is None:
        session.add(ZoneGrant(zone_id=z.id, staff_id=staff.id, granted_by=actor))
        append(
            session,
            [
                AuditEvent(
                    actor=actor, action="zone.allowed", objects=(f"zone:{code}", f"staff:{staff.login}")
                )
            ],
        )


def issue_badge(session: Session, vault: Vault, login: str, number: str, *, actor: str) -> None:
    staff = get(session, login)
    problems = []
    if not _BADGE.match(number.strip()):
        problems.append(("badge", "4–64 letters, digits and -"))
    elif session.scalar(select(Badge.id).where(Badge.badge_hash == _badge_hash(vault, number))):
        problems.append(("badge", "this badge is already issued"))
    if staff.revoked_at is not None:
        problems.append(("login", "this person has left"))
    require(problems)
    session.add(Badge(badge_hash=_badge_hash(vault, number), staff_id=staff.id))
    append(session, [AuditEvent(actor=actor, action="badge.issued", objects=(f"staff:{staff.login}",))])


@dataclass(frozen=True)
class DoorEventIn:
    event_id: str
    zone: str
    badge: str  # may be empty: the door was opened without a badge
    at: datetime
    direction: str
    authenticated: bool


@dataclass
class IngestResult:
    received: int
    duplicates: int
    outcomes: Counter[str]
    incident_ref: str | None


def link_alerts(session: Session, source: str, incident_ref: str) -> int:
    """Link the alerts of ``source`` that have no incident yet to ``incident_ref``; how many."""
    rows = list(
        session.scalars(
            select(DoorEvent).where(
                DoorEvent.source == source, DoorEvent.outcome != OK, DoorEvent.incident_ref.is_(None)
            )
        )
    )
    for row in rows:
        row.incident_ref = incident_ref
    return len(rows)


def _check(events: list[DoorEventIn], zones: dict[str, Zone]) -> None:
    problems = []
    for n, e in enumerate(events, 1):
        where = f"event {n}"
        if not _EVENT_ID.match(e.event_id):
            problems.append((f"{where}.event_id", "1–64 letters, digits and _.:-"))
        if e.zone not in zones:
            problems.append((f"{where}.zone", "not a known zone"))
        if e.direction not in ("in", "out"):
            problems.append((f"{where}.direction", "in or out"))
        if e.badge and not _BADGE.match(e.badge.strip()):
            problems.append((f"{where}.badge", "4–64 letters, digits and -"))
        if e.at.tzinfo is None:
            problems.append((f"{where}.at", "a time with its offset, e.g. 2026-11-25T09:00:00+09:00"))
    require(problems)


def ingest(
    session: Session, vault: Vault, events: list[DoorEventIn], *, source: str, actor: str, now: datetime
) -> IngestResult:
    """Record door events (a resent event id is skipped) and audit the batch with its alerts counted.

    The audit entry is the signal: ``incidents.signals`` opens one draft for a batch with alerts and
    links the alerts to it (:func:`link_alerts`)."""
    zones = {z.code: z for z in session.scalars(select(Zone))}
    _check(events, zones)
    require([("source", "1–64 letters, digits and _.:-")] if not _EVENT_ID.match(source) else [])
    seen = set(
        session.scalars(
            select(DoorEvent.event_id).where(
                DoorEvent.source == source, DoorEvent.event_id.in_([e.event_id for e in events])
            )
        )
    )
    badges = {b.badge_hash: b for b in session.scalars(select(Badge).where(Badge.revoked_at.is_(None)))}
    grants = {(g.zone_id, g.staff_id) for g in session.scalars(select(ZoneGrant))}
    outcomes: Counter[str] = Counter()
    added: list[DoorEvent] = []
    duplicates = 0
    for e in events:
        if e.event_id in seen:
            duplicates += 1
            continue
        seen.add(e.event_id)
        z = zones[e.zone]
        badge = badges.get(_badge_hash(vault, e.badge)) if e.badge else None
        staff = session.get(Staff, badge.staff_id) if badge else None
        if not e.authenticated:
            outcome = "unauthenticated"
        elif staff is None:
            outcome = "unknown_badge"
        elif staff.revoked_at is not None or (staff.left_on is not None and staff.left_on <= e.at.date()):
            outcome = "left"
        elif (z.id, staff.id) not in grants:
            outcome = "unauthorized"
        else:
            outcome = OK
        outcomes[outcome] += 1
        row = DoorEvent(
            source=source,
            event_id=e.event_id,
            zone_id=z.id,
            at=e.at.astimezone(UTC),
            direction=e.direction,
            authenticated=e.authenticated,
            staff_id=staff.id if staff else None,
            outcome=outcome,
        )
        session.add(row)
        added.append(row)
    alerts = [r for r in added if r.outcome != OK]
    session.flush()
    zones_hit = sorted({z.code for z in zones.values() if any(r.zone_id == z.id for r in alerts)})
    append(
        session,
        [
            AuditEvent(
                actor=actor,
                action=INGESTED,
                objects=(f"door_source:{source}", *(f"zone:{code}" for code in zones_hit)),
                counts={
                    "events": len(added),
                    "duplicates": duplicates,
                    "alerts": len(alerts),
                    **{f"alert.{kind}": n for kind, n in sorted(Counter(r.outcome for r in alerts).items())},
                },
            )
        ],
    )
    return IngestResult(len(events), duplicates, outcomes, None)


def parse_csv(text: str) -> list[DoorEventIn]:
    """Door events from a controller's CSV export (columns: event_id, zone, badge, at, direction,
    authenticated). A bad line is reported with its line number and nothing is read."""
    reader = csv.DictReader(io.StringIO(text))
    missing = sorted(set(CSV_COLUMNS) - set(reader.fieldnames or ()))
    require([("header", f"missing column(s): {', '.join(missing)}")] if missing else [])
    events, problems = [], []
    for row in reader:
        line = reader.line_num
        try:
            at = datetime.fromisoformat(row["at"].strip())
        except ValueError:
            problems.append((f"line {line}.at", "an ISO 8601 time with offset"))
            continue
        flag = row["authenticated"].strip().lower()
        if flag not in ("true", "false", "1", "0", "yes", "no"):
            problems.append((f"line {line}.authenticated", "true or false"))
            continue
        events.append(
            DoorEventIn(
                event_id=row["event_id"].strip(),
                zone=row["zone"].strip(),
                badge=row["badge"].strip(),
                at=at,
                direction=row["direction"].strip(),
                authenticated=flag in ("true", "1", "yes"),
            )
        )
    require(problems)
    return events


@dataclass(frozen=True)
class ReportLine:
    at: datetime
    zone: str
    direction: str
    who: str  # the authenticated staff login, or "—" when the badge was not known
    authenticated: bool
    outcome: str
    incident_ref: str | None


def report(
    session: Session,
    *,
    since: datetime,
    until: datetime,
    zone_code: str | None = None,
    exceptions_only: bool = False,
) -> list[ReportLine]:
    """Every entry and exit in the period, with the identity each was authenticated as; with
    ``exceptions_only``, only those whose outcome was not ``ok``."""
    zones = {z.id: z.code for z in session.scalars(select(Zone))}
    query = (
        select(DoorEvent, Staff.login)
        .outerjoin(Staff, Staff.id == DoorEvent.staff_id)
        .where(DoorEvent.at >= since, DoorEvent.at < until)
        .order_by(DoorEvent.at, DoorEvent.id)
    )
    if zone_code is not None:
        query = query.where(DoorEvent.zone_id == zone(session, zone_code).id)
    if exceptions_only:
        query = query.where(DoorEvent.outcome != "ok")
    return [
        ReportLine(
            e.at,
            zones[e.zone_id],
            e.direction,
            login or "—",
            e.authenticated,
            e.outcome,
            e.incident_ref,
        )
        for e, login in session.execute(query)
    ]
