"""The PMS at a glance: the figures the console's dashboard shows, computed here so that the page only
draws them (requests, incidents, the ledger, notices owed, training, processors, the audit log).

What needs action is counted at every view (open and late requests, the next ones due, incident clocks,
processors, notices owed, the audit log). The statistics over the whole organization (the six months'
charts, the number of people held, whose training has lapsed) are counted at most once every
:data:`STATISTICS_SECONDS` per process, behind the pages, and shown with the time they were counted: at a
million people they cost more than the rest of the page together, and a minute changes none of them in a
way that matters."""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from mamoru.audit.chain import head
from mamoru.audit.proofs import Checkpoint, latest_checkpoint
from mamoru.audit.verification import VerificationStatus, verification_status
from mamoru.incidents.service import ClockView, open_clocks
from mamoru.incidents.tables import Incident
from mamoru.ledger import entries as ledger
from mamoru.ledger.tables import Acquisition, DataSubject
from mamoru.people import training
from mamoru.policy.model import Policy
from mamoru.requests.status import OPEN_STATUSES
from mamoru.requests.tables import SubjectRequest
from mamoru.store import versions
from mamoru.store.sqlfn import days_between
from mamoru.transfers.status import processor_status

log = logging.getLogger(__name__)

#: How many months the dashboard's charts go back, this one included.
MONTHS = 6
#: How long the statistics part of the dashboard is reused before it is counted again.
STATISTICS_SECONDS = 60.0


def month_keys(today: date, count: int = MONTHS) -> list[str]:
    """The last ``count`` months as ``YYYY-MM``, oldest first, this month last."""
    keys = []
    year, month = today.year, today.month
    for _ in range(count):
        keys.append(f"{year:04d}-{month:02d}")
        year, month = (year, month - 1) if month > 1 else (year - 1, 12)
    return keys[::-1]


#: How many names a list on the dashboard shows; the count says how many there are.
SHOWN = 10
JST = ZoneInfo("Asia/Tokyo")


def _month_bounds(key: str) -> tuple[datetime, datetime]:
    """A month (``YYYY-MM``) in Japan's time, as [start, end)."""
    year, month = int(key[:4]), int(key[5:])
    start = datetime(year, month, 1, tzinfo=JST)
    end = datetime(year + month // 12, month % 12 + 1, 1, tzinfo=JST)
    return start, end


@dataclass(frozen=True)
class Dashboard:
    requests_open: int
    requests_escalated: int
    requests_late: int
    #: The open requests that come due first.
    requests_next: list[SubjectRequest]
    #: (month, count) oldest first.
    received_by_month: list[tuple[str, int]]
    #: (month, median days from receipt to answer) for the requests answered that month; None when none.
    answer_days_by_month: list[tuple[str, float | None]]
    incidents_by_month: list[tuple[str, int]]
    incident_clocks: list[ClockView]
    #: How many current staff have let their training lapse, and the first :data:`SHOWN` logins.
    training_lapsed_count: int
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
    #: When the statistics (charts, people held, training lapsed) were counted.
    statistics_at: datetime


@dataclass(frozen=True)
class _Statistics:
    received_by_month: list[tuple[str, int]]
    answer_days_by_month: list[tuple[str, float | None]]
    incidents_by_month: list[tuple[str, int]]
    training_lapsed_count: int
    training_lapsed: list[str]
    subjects: int
    counted_at: datetime
    today: date
    valid_days: int


class _Kept:
    """The statistics last counted on one database, and when (monotonic seconds); whether a count runs
    behind the pages now (one at a time, however many views ask)."""

    __slots__ = ("at", "counting", "lock", "statistics")

    def __init__(self) -> None:
        self.at = -1e18
        self.statistics: _Statistics | None = None
        self.counting = False
        self.lock = threading.Lock()


_STATISTICS: versions.PerEngine[_Kept] = versions.PerEngine(_Kept)


def _count(session: Session, table: type, *where: Any) -> int:
    return int(session.scalar(select(func.count()).select_from(table).where(*where)) or 0)


def _by_month(session: Session, column: Any, bounds: list[tuple[datetime, datetime]]) -> list[int]:
    """How many rows have ``column`` in each of the months, in one query: a count of one index range a
    month (SQLite counts a range of the index many times faster than it tests each row against every
    month)."""
    counts = [
        select(func.count()).select_from(column.class_).where(column >= start, column < end).scalar_subquery()
        for start, end in bounds
    ]
    row = session.execute(select(*counts)).one()
    return [int(n or 0) for n in row]


def _median_days(session: Session, start: datetime, end: datetime, n: int) -> float | None:
    """The median of (answered - received) in days over the ``n`` requests answered in [start, end), in SQL."""
    if not n:
        return None
    days = days_between(SubjectRequest.completed_at, SubjectRequest.received_at)
    window = (SubjectRequest.completed_at >= start, SubjectRequest.completed_at < end)
    middle = list(
        session.scalars(select(days).where(*window).order_by(days).offset((n - 1) // 2).limit(2 - n % 2))
    )
    return round(sum(middle) / len(middle), 1) if middle else None


def _statistics(session: Session, policy: Policy, now: datetime, today: date) -> _Statistics:
    months = month_keys(today)
    bounds = [_month_bounds(m) for m in months]
    answered = _by_month(session, SubjectRequest.completed_at, bounds)
    valid_days = policy.staff.training_valid_days
    return _Statistics(
        received_by_month=list(
            zip(months, _by_month(session, SubjectRequest.received_at, bounds), strict=True)
        ),
        answer_days_by_month=[
            (month, _median_days(session, start, end, n))
            for month, (start, end), n in zip(months, bounds, answered, strict=True)
        ],
        incidents_by_month=list(zip(months, _by_month(session, Incident.aware_at, bounds), strict=True)),
        training_lapsed_count=training.overdue_count(session, today=today, valid_days=valid_days),
        training_lapsed=training.overdue(session, today=today, valid_days=valid_days, limit=SHOWN),
        subjects=_count(session, DataSubject, DataSubject.erased_at.is_(None)),
        counted_at=now,
        today=today,
        valid_days=valid_days,
    )


def statistics(session: Session, policy: Policy, now: datetime, today: date) -> _Statistics:
    """The statistics part. Counted in the view when there are none of this day and training rule yet;
    when those kept are older than :data:`STATISTICS_SECONDS`, they are shown (with the time they were
    counted) while one count runs behind the pages, on a session of its own, for the next views: a view
    never waits for a count over a million people just because a minute has passed."""
    engine = versions.engine_of(session)
    kept = _STATISTICS(engine) if engine is not None else None
    last = kept.statistics if kept is not None else None
    if (
        kept is None
        or engine is None
        or last is None
        or last.today != today
        or last.valid_days != policy.staff.training_valid_days
    ):
        counted = _statistics(session, policy, now, today)
        if kept is not None:
            kept.at, kept.statistics = time.monotonic(), counted
        return counted
    if time.monotonic() - kept.at >= STATISTICS_SECONDS:
        if _in_memory(engine):  # another thread would open another, empty database
            kept.at, kept.statistics = time.monotonic(), _statistics(session, policy, now, today)
            return kept.statistics
        _count_behind(kept, engine, policy, now, today)
    return last


def _in_memory(engine: Engine) -> bool:
    return engine.url.get_backend_name() == "sqlite" and engine.url.database in (None, "", ":memory:")


def _count_behind(kept: _Kept, engine: Engine, policy: Policy, now: datetime, today: date) -> None:
    """Start one count of the statistics in a thread of its own, unless one runs already."""
    with kept.lock:
        if kept.counting:
            return
        kept.counting = True

    def count() -> None:
        try:
            with Session(engine) as session:
                counted = _statistics(session, policy, now, today)
            kept.at, kept.statistics = time.monotonic(), counted
        except Exception as exc:  # the kept figures stay; the next view past the interval tries again
            log.warning("the dashboard's statistics could not be counted: %s", type(exc).__name__)
        finally:
            kept.counting = False

    threading.Thread(target=count, name="dashboard-statistics", daemon=True).start()


def figures(
    session: Session, policy: Policy, now: datetime, *, public: Ed25519PublicKey | None = None
) -> Dashboard:
    """Every figure of the dashboard at ``now``, counted in the database (the page stays fast at any
    size); months are Japan's. ``public`` checks the verification result's signature."""
    today = now.astimezone(JST).date()
    rows = ledger.list_entries(session)
    is_open = SubjectRequest.status.in_([s.value for s in OPEN_STATUSES])
    stats = statistics(session, policy, now, today)
    open_count, escalated, late = session.execute(
        select(
            func.count(), func.count(SubjectRequest.escalated_at), func.count(SubjectRequest.breached_at)
        ).where(is_open)
    ).one()
    not_notified = (Acquisition.notification_due.is_not(None), Acquisition.notified_at.is_(None))
    return Dashboard(
        requests_open=int(open_count),
        requests_escalated=int(escalated),
        requests_late=int(late),
        requests_next=list(
            session.scalars(
                select(SubjectRequest)
                .where(is_open)
                .order_by(SubjectRequest.due_at, SubjectRequest.received_at)
                .limit(5)
            )
        ),
        received_by_month=stats.received_by_month,
        answer_days_by_month=stats.answer_days_by_month,
        incidents_by_month=stats.incidents_by_month,
        incident_clocks=open_clocks(session, today),
        training_lapsed_count=stats.training_lapsed_count,
        training_lapsed=stats.training_lapsed,
        processors_flagged=[
            p.id for p in policy.processors if not processor_status(session, policy, p.id, today).cleared
        ],
        ledger_total=len(rows),
        review_overdue=sum(ledger.status(r, policy, now).review_overdue for r in rows),
        notifications_due=_count(session, Acquisition, *not_notified),
        notifications_overdue=_count(
            session, Acquisition, *not_notified, Acquisition.notification_due < today
        ),
        subjects=stats.subjects,
        audit_entries=head(session)[0],
        verification=verification_status(session, public, now=now),
        checkpoint=latest_checkpoint(session),
        statistics_at=stats.counted_at,
    )
