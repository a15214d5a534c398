"""The management review (JIS-10): a draft whose inputs are gathered from the records of the period
(audits, incidents, complaints and inquiries, requests, risks, the legal register, training, rules,
controls), and the decisions top management records when approving it."""

from __future__ import annotations

from collections import Counter
from dataclasses import asdict
from datetime import UTC, date, datetime, time
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from mamoru.audit.chain import append
from mamoru.audit.entry import AuditEvent
from mamoru.errors import NotFound, require
from mamoru.incidents.service import classification
from mamoru.incidents.tables import Incident
from mamoru.people import inquiries, rules, training
from mamoru.people.staff import get as get_staff
from mamoru.pms import audits, controls, legal, risk
from mamoru.pms.tables import AuditFinding, InternalAudit, ManagementReview
from mamoru.policy.model import Policy
from mamoru.requests.tables import SubjectRequest


def _dt(day: date) -> datetime:
    return datetime.combine(day, time(), tzinfo=UTC)


def gather(session: Session, policy: Policy, *, since: date, until: date, today: date) -> dict[str, Any]:
    """Every input of the review for the period ``since`` ≤ t < ``until``."""
    period = (_dt(since), _dt(until))
    done = list(
        session.scalars(
            select(InternalAudit).where(InternalAudit.done_on >= since, InternalAudit.done_on < until)
        )
    )
    findings = list(
        session.scalars(
            select(AuditFinding).where(AuditFinding.raised_on >= since, AuditFinding.raised_on < until)
        )
    )
    incidents = list(
        session.scalars(select(Incident).where(Incident.aware_at >= period[0], Incident.aware_at < period[1]))
    )
    requests = list(
        session.scalars(
            select(SubjectRequest).where(
                SubjectRequest.received_at >= period[0], SubjectRequest.received_at < period[1]
            )
        )
    )
    late = sum(1 for r in requests if (r.completed_at or _dt(today)) > r.due_at)
    months = inquiries.monthly_stats(session, since=since, until=until)
    return {
        "period": {"from": since.isoformat(), "until": until.isoformat()},
        "internal_audits": {
            "completed": len(done),
            "findings": dict(Counter(f.kind for f in findings)),
            "open_gaps": [asdict(g) for g in audits.gaps(session, enacted_on=policy.enacted_on, today=today)],
        },
        "incidents": {
            "total": len(incidents),
            "reportable": sum(1 for i in incidents if classification(i).reportable),
            "by_status": dict(Counter(i.status for i in incidents)),
        },
        "complaints": {
            "monthly": [asdict(m) for m in months],
            "complaints": sum(m.complaints for m in months),
            "inquiries": sum(m.inquiries for m in months),
            "first_response_late": sum(m.first_response_late for m in months),
        },
        "requests": {
            "total": len(requests),
            "by_kind": dict(Counter(r.kind for r in requests)),
            "late": late,
        },
        "risks": {"gaps": [asdict(g) for g in risk.gaps(session, today)]},
        "legal": {
            "overdue": [i.code for i in legal.overdue(session, today)],
            "checked_in_period": [i.code for i in legal.items(session) if since <= i.last_checked < until],
        },
        "training": {
            "overdue": training.overdue(session, today=today, valid_days=policy.staff.training_valid_days),
            "plans": [
                {"year": v.plan.year, "title": v.plan.title, "passed": v.attended, "expected": v.expected}
                for v in training.plans(session)
                if since.year <= v.plan.year <= until.year
            ],
        },
        "rules": {"missing_topics": rules.status(session).missing_topics},
        "controls": {
            "problems": [
                {"id": v.control.id, "problem": v.problem}
                for v in controls.catalogue(session, today)
                if v.problem
            ],
            "collection_pages": controls.integrity_check(session),
        },
    }


def draft(
    session: Session, policy: Policy, *, since: date, until: date, actor: str, now: datetime
) -> ManagementReview:
    require([("period", "the period must end after it starts")] if until <= since else [])
    review = ManagementReview(
        period_from=since,
        period_to=until,
        inputs=gather(session, policy, since=since, until=until, today=now.date()),
        drafted_by=actor,
        drafted_at=now,
    )
    session.add(review)
    session.flush()
    append(
        session,
        [AuditEvent(actor=actor, action="management_review.drafted", objects=(f"review:{review.id}",))],
    )
    return review


def approve(
    session: Session, review_id: int, *, decisions: list[str], actor: str, now: datetime
) -> ManagementReview:
    """Top management (a director) records its decisions; at least one is required."""
    review = session.get(ManagementReview, review_id)
    if review is None:
        raise NotFound(f"no management review {review_id}")
    person = get_staff(session, actor)
    decisions = [d.strip() for d in decisions if d.strip()]
    problems = []
    if person.kind != "director":
        problems.append(("actor", "the review is approved by top management (a director)"))
    if not decisions:
        problems.append(("decisions", "record at least one decision (improvements, resources, changes)"))
    if review.approved_at is not None:
        problems.append(("review", "already approved"))
    require(problems)
    review.decisions, review.approved_by, review.approved_at = decisions, f"staff:{person.login}", now
    append(
        session,
        [
            AuditEvent(
                actor=f"staff:{person.login}",
                action="management_review.approved",
                objects=(f"review:{review.id}",),
            )
        ],
    )
    return review


def reviews(session: Session) -> list[ManagementReview]:
    return list(session.scalars(select(ManagementReview).order_by(ManagementReview.period_to.desc())))
