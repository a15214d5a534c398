"""Signals that open an incident draft for the office to look at: the audit log failing verification,
denied attempts on the Individual Number, an actor reading far more people than usual, door alerts in
a secured zone, and a processor's breach notice. A draft starts no clock of its own: its awareness
time is the signal's.

This module is the only place that opens drafts. Denials and door alerts reach it as audited events
(:func:`scan`, run by the worker and right after a door batch), so one event opens one draft."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from statistics import median
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from sqlalchemy import select
from sqlalchemy.orm import Session

from mamoru.audit.chain import lock_head
from mamoru.audit.entry import decode_leaf
from mamoru.audit.proofs import Checkpoint
from mamoru.audit.tables import AuditEntry
from mamoru.audit.verification import VerifyReport, record_verification, verify
from mamoru.incidents.service import open_incident
from mamoru.incidents.tables import Incident, SignalCursor
from mamoru.people import zones
from mamoru.vault.service import Vault
from mamoru.workspace import Workspace

ACTOR = "system:signals"
MY_NUMBER_DENIALS = frozenset({"my_number_not_handler", "my_number_outside_affairs"})
#: An actor reading more than this many times their usual daily number of people (and at least
#: READ_VOLUME_MIN) on one day is a signal.
READ_VOLUME_FACTOR = 10
READ_VOLUME_MIN = 100
BASELINE_DAYS = 30
BATCH = 20_000


def audit_failure(session: Session, vault: Vault, report: VerifyReport, *, now: datetime) -> Incident | None:
    if report.ok:
        return None
    return open_incident(
        session,
        vault,
        aware_at=now,
        actor=ACTOR,
        now=now,
        source="signal:audit_verify",
        draft=True,
        overview=f"The audit log failed verification at entry {report.first_bad_seq}: {report.reason}",
        improper_purpose=True,
        suspected_only=True,
    )


def verify_log(
    ws: Workspace,
    public: Ed25519PublicKey,
    *,
    by: str,
    now: datetime,
    witness: Sequence[Checkpoint] = (),
    deep: bool = False,
    workers: int | None = None,
) -> VerifyReport:
    """Verify the whole audit log, keep the run, and open a draft when it is not intact (a broken log is
    a suspected incident). ``public`` is the key the checkpoints are checked with (a witness may bring
    its own)."""
    report = verify(ws.db, public, witness=witness, deep=deep, workers=workers)
    with ws.db.session() as session:
        record_verification(session, report, by=by, signer=ws.signer)
        audit_failure(session, ws.vault, report, now=now)
    return report


def processor_notice(
    session: Session, vault: Vault, processor: str, *, aware_at: datetime, now: datetime
) -> Incident:
    return open_incident(
        session,
        vault,
        aware_at=aware_at,
        actor=ACTOR,
        now=now,
        source="signal:processor_notice",
        draft=True,
        overview=f"Processor {processor} notified a breach.",
        processor=processor,
    )


def _door_alert(session: Session, vault: Vault, body: dict[str, Any], now: datetime) -> Incident:
    """One draft for a batch of door events with alerts; the batch's alerts are linked to it."""
    source = next(o for o in body["objects"] if o.startswith("door_source:")).removeprefix("door_source:")
    zones_hit = [o.removeprefix("zone:") for o in body["objects"] if o.startswith("zone:")]
    kinds = {k.removeprefix("alert."): n for k, n in body["counts"].items() if k.startswith("alert.")}
    incident = open_incident(
        session,
        vault,
        aware_at=min(datetime.fromtimestamp(int(body["ts"]) / 1_000_000, UTC), now),
        actor=ACTOR,
        now=now,
        source="signal:entry_exit",
        draft=True,
        overview=(
            f"{body['counts']['alerts']} entry/exit alert(s) from {source} in zone(s) {', '.join(zones_hit)}: "
            + ", ".join(f"{k} {v}" for k, v in sorted(kinds.items()))
            + ". Check whether personal data was reachable."
        ),
        improper_purpose=True,
        suspected_only=True,
    )
    zones.link_alerts(session, source, incident.ref)
    return incident


def door_events(
    session: Session,
    vault: Vault,
    events: list[zones.DoorEventIn],
    *,
    source: str,
    actor: str,
    now: datetime,
) -> zones.IngestResult:
    """Record a door controller's batch and scan at once, so its alerts have their draft when it returns."""
    result = zones.ingest(session, vault, events, source=source, actor=actor, now=now)
    opened = scan(session, vault, now=now)
    ref = next((i.ref for i in opened if i.source == "signal:entry_exit"), None)
    return replace(result, incident_ref=ref)


def scan(session: Session, vault: Vault, *, now: datetime | None = None) -> list[Incident]:
    """Read the audit log from where the last scan stopped and open drafts for what it finds."""
    now = now or datetime.now(UTC)
    # One scan at a time reads a stretch of the log (so one event opens one draft). The head of the log
    # is locked first: an appender holds it already when it scans (a refusal, a door batch), and the
    # drafts this scan opens append too, so every path takes the two locks in the same order.
    lock_head(session)
    cursor = session.get(SignalCursor, 1, with_for_update=True)
    if cursor is None:
        cursor = SignalCursor(id=1, last_seq=0, baseline={})
        session.add(cursor)
    denied: dict[str, set[str]] = defaultdict(set)
    reads: dict[tuple[str, str], set[str]] = defaultdict(set)
    doors: list[dict[str, Any]] = []
    last = cursor.last_seq
    while True:
        rows = list(
            session.execute(
                select(AuditEntry.seq, AuditEntry.leaf, AuditEntry.entry_hash)
                .where(AuditEntry.seq > last)
                .order_by(AuditEntry.seq)
                .limit(BATCH)
            )
        )
        if not rows:
            break
        for seq, leaf, entry_hash in rows:
            last = seq
            body = decode_leaf(bytes(leaf), bytes(entry_hash)).body
            if body["action"] == zones.INGESTED and body["counts"].get("alerts"):
                doors.append(body)
                continue
            if not str(body["action"]).startswith("decision."):
                continue
            if body["decision"] == "deny" and MY_NUMBER_DENIALS.intersection(body["reasons"]):
                denied[body["actor"]].update(body["subjects"])
            elif body["decision"] == "allow" and body["action"] in ("decision.read", "decision.export"):
                day = datetime.fromtimestamp(int(body["ts"]) / 1_000_000, UTC).date().isoformat()
                reads[(body["actor"], day)].update(body["subjects"])
    cursor.last_seq = last
    opened: list[Incident] = []
    for actor, subjects in sorted(denied.items()):
        opened.append(
            open_incident(
                session,
                vault,
                aware_at=now,
                actor=ACTOR,
                now=now,
                source="signal:my_number_denied",
                draft=True,
                overview=f"{actor} was refused the Individual Number of {len(subjects)} people.",
                my_number="yes",
                suspected_only=True,
            )
        )
    opened.extend(_door_alert(session, vault, body, now) for body in doors)
    history: dict[str, dict[str, int]] = {a: dict(d) for a, d in (cursor.baseline or {}).items()}
    for (actor, day), subjects in sorted(reads.items()):
        days = history.setdefault(actor, {})
        earlier = [n for d, n in days.items() if d != day]
        usual = median(earlier) if earlier else 0
        count = len(subjects) + days.get(day, 0)
        if earlier and count >= READ_VOLUME_MIN and count > READ_VOLUME_FACTOR * max(usual, 1):
            opened.append(
                open_incident(
                    session,
                    vault,
                    aware_at=now,
                    actor=ACTOR,
                    now=now,
                    source="signal:read_volume",
                    draft=True,
                    overview=f"{actor} read {count} people on {day}; usually {usual:g} a day.",
                    improper_purpose=True,
                    suspected_only=True,
                    affected_count=count,
                    subjects=sorted(subjects),
                )
            )
        days[day] = count
        cutoff = (now - timedelta(days=BASELINE_DAYS)).date().isoformat()
        history[actor] = {d: n for d, n in days.items() if d >= cutoff}
    cursor.baseline = history
    return opened
