"""The PMS at a glance: the figures the console's dashboard shows, computed here so that the page only
draws them (requests, incidents, the ledger, notices owed, training, processors, the audit log)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from statistics import median

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from mamoru.audit.chain import head
from mamoru.audit.proofs import Checkpoint, latest_checkpoint
from mamoru.audit.verification import VerificationStatus, verification_status
from mamoru.incidents.service import ClockView, open_clocks
from mamoru.incidents.tables import Incident
from mamoru.ledger import entries as ledger
from mamoru.ledger.acquisition import is_overdue, notifications_due
from mamoru.ledger.tables import DataSubject
from mamoru.people import training
from mamoru.policy.model import Policy
from mamoru.requests.service import queue as request_queue
from mamoru.requests.tables import SubjectRequest
from mamoru.transfers.status import processor_status

#: How many months the dashboard's charts go back, this one included.
MONTHS = 6


def month_keys(today: date, count: int = MONTHS) -> list[str]:
    """The last ``count`` months as ``YYYY-MM``, oldest first, this month last."""
    keys = []
    year, month = today.year, today.month
    for _ in range(count):
        keys.append(f"{year:04d}-{month:02d}")
        year, month = (year, month - 1) if month > 1 else (year - 1, 12)
    return keys[::-1]


@dataclass(frozen=True)
class Dashboard:
    requests_open: int
    requests_escalated: int
    requests_late: int
    #: The open requests that come due first.
    requests_next: list[SubjectRequest]
    #: (month, count) oldest first.
    received_by_month: list[tuple[str, int]]
    #: (month, median days from receipt to answer) for the requests answered that month; 0 when none.
    answer_days_by_month: list[tuple[str, float]]
    incidents_by_month: list[tuple[str, int]]
    incident_clocks: list[ClockView]
    #: Logins of current staff whose training has lapsed.
    training_lapsed: list[str]
    #: Processors (``processor:ID``) not cleared today.
    processors_flagged: list[str]
    ledger_total: int
    review_overdue: int
    notifications_due: int
    notifications_overdue: int
    subjects: int
    audit_entries: int
    #: The latest verification result, shown only if its signature checks.
    verification: VerificationStatus
    checkpoint: Checkpoint | None


def figures(
    session: Session, policy: Policy, now: datetime, *, public: Ed25519PublicKey | None = None
) -> Dashboard:
    """Every figure of the dashboard at ``now``; ``public`` checks the verification result's signature."""
    today = now.date()
    rows = ledger.list_entries(session)
    due = notifications_due(session, today)
    open_requests = request_queue(session)
    months = month_keys(today)
    received = dict.fromkeys(months, 0)
    answer_days: dict[str, list[float]] = {m: [] for m in months}
    for r in request_queue(session, include_closed=True):
        if f"{r.received_at:%Y-%m}" in received:
            received[f"{r.received_at:%Y-%m}"] += 1
        if r.completed_at is not None and f"{r.completed_at:%Y-%m}" in answer_days:
            answer_days[f"{r.completed_at:%Y-%m}"].append(
                (r.completed_at - r.received_at).total_seconds() / 86400
            )
    opened = dict.fromkeys(months, 0)
    for (aware_at,) in session.execute(select(Incident.aware_at)):
        if f"{aware_at:%Y-%m}" in opened:
            opened[f"{aware_at:%Y-%m}"] += 1
    return Dashboard(
        requests_open=len(open_requests),
        requests_escalated=sum(r.escalated_at is not None for r in open_requests),
        requests_late=sum(r.breached_at is not None for r in open_requests),
        requests_next=open_requests[:5],
        received_by_month=list(received.items()),
        answer_days_by_month=[(m, round(median(v), 1) if v else 0) for m, v in answer_days.items()],
        incidents_by_month=list(opened.items()),
        incident_clocks=open_clocks(session, today),
        training_lapsed=training.overdue(session, today=today, valid_days=policy.staff.training_valid_days),
        processors_flagged=[
            p.id for p in policy.processors if not processor_status(session, policy, p.id, today).cleared
        ],
        ledger_total=len(rows),
        review_overdue=sum(ledger.status(r, policy, now).review_overdue for r in rows),
        notifications_due=len(due),
        notifications_overdue=sum(is_overdue(a, today) for a in due),
        subjects=int(
            session.scalar(
                select(func.count()).select_from(DataSubject).where(DataSubject.erased_at.is_(None))
            )
            or 0
        ),
        audit_entries=head(session)[0],
        verification=verification_status(session, public, now=now),
        checkpoint=latest_checkpoint(session),
    )
