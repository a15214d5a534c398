"""Training (JIS-7): a plan per year, sessions under it, and attendance with a comprehension score.

A pass (score at or above the policy's ``staff.training_pass_score``) renews the person's training;
the guard refuses personal data to anyone whose last pass is older than ``staff.training_valid_days``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from mamoru.audit.chain import append
from mamoru.audit.entry import AuditEvent
from mamoru.errors import NotFound, require
from mamoru.people.staff import StaffKind, get
from mamoru.people.tables import Attendance, Staff, TrainingPlan, TrainingSession

METHODS = ("classroom", "e_learning", "video", "workshop")


def create_plan(
    session: Session, *, year: int, title: str, topics: list[str], audience: list[str], actor: str
) -> TrainingPlan:
    problems: list[tuple[str, str]] = []
    if not 2000 <= year <= 2100:
        problems.append(("year", "a calendar year such as 2026"))
    if not title.strip() or len(title) > 200:
        problems.append(("title", "1–200 characters"))
    if not topics:
        problems.append(("topics", "at least one topic"))
    unknown = sorted(set(audience) - set(StaffKind))
    if unknown:
        problems.append(("audience", f"not kinds of staff: {', '.join(unknown)}"))
    require(problems)
    plan = TrainingPlan(
        year=year, title=title.strip(), topics=topics, audience=sorted(audience), created_by=actor
    )
    session.add(plan)
    session.flush()
    append(
        session,
        [AuditEvent(actor=actor, action="training.plan_created", objects=(f"training_plan:{plan.id}",))],
    )
    return plan


def hold_session(
    session: Session, plan_id: int, *, held_on: date, title: str, method: str, actor: str
) -> TrainingSession:
    if session.get(TrainingPlan, plan_id) is None:
        raise NotFound(f"no training plan {plan_id}")
    require([("method", f"one of {', '.join(METHODS)}")] if method not in METHODS else [])
    row = TrainingSession(
        plan_id=plan_id, held_on=held_on, title=title.strip()[:200], method=method, created_by=actor
    )
    session.add(row)
    session.flush()
    append(
        session,
        [AuditEvent(actor=actor, action="training.session_held", objects=(f"training_session:{row.id}",))],
    )
    return row


def record_attendance(
    session: Session, session_id: int, login: str, *, score: int, pass_score: int, actor: str
) -> Attendance:
    """Record one person's attendance and score; a pass renews their training from the session's day."""
    held = session.get(TrainingSession, session_id)
    if held is None:
        raise NotFound(f"no training session {session_id}")
    staff = get(session, login)
    problems = []
    if not 0 <= score <= 100:
        problems.append(("score", "a comprehension score from 0 to 100"))
    if staff.revoked_at is not None:
        problems.append(("login", "this person has left"))
    if session.scalar(
        select(Attendance.id).where(Attendance.session_id == session_id, Attendance.staff_id == staff.id)
    ):
        problems.append(("login", "already recorded for this session"))
    require(problems)
    passed = score >= pass_score
    row = Attendance(session_id=session_id, staff_id=staff.id, score=score, passed=passed, recorded_by=actor)
    session.add(row)
    if passed:
        at = datetime.combine(held.held_on, time(), tzinfo=UTC)
        if staff.training_completed_at is None or staff.training_completed_at < at:
            staff.training_completed_at = at
    append(
        session,
        [
            AuditEvent(
                actor=actor,
                action="training.attended",
                objects=(f"staff:{staff.login}", f"training_session:{session_id}"),
                reasons=("passed" if passed else "not_passed",),
            )
        ],
    )
    return row


@dataclass(frozen=True)
class PlanView:
    plan: TrainingPlan
    sessions: list[TrainingSession]
    attended: int  # people with a pass in this plan's sessions
    expected: int  # current staff of the plan's audience


def plans(session: Session, year: int | None = None) -> list[PlanView]:
    query = select(TrainingPlan).order_by(TrainingPlan.year.desc(), TrainingPlan.id)
    if year is not None:
        query = query.where(TrainingPlan.year == year)
    current = session.scalars(select(Staff).where(Staff.revoked_at.is_(None))).all()
    views = []
    for plan in session.scalars(query):
        held = list(session.scalars(select(TrainingSession).where(TrainingSession.plan_id == plan.id)))
        passed = set(
            session.scalars(
                select(Attendance.staff_id).where(
                    Attendance.session_id.in_([h.id for h in held]), Attendance.passed.is_(True)
                )
            )
        )
        audience = [s for s in current if not plan.audience or s.kind in plan.audience]
        views.append(PlanView(plan, held, len(passed & {s.id for s in audience}), len(audience)))
    return views


def overdue(session: Session, *, today: date, valid_days: int) -> list[str]:
    """Current staff whose last pass is more than ``valid_days`` ago (or who never passed)."""
    limit = datetime.combine(today, time(), tzinfo=UTC) - timedelta(days=valid_days)
    return sorted(
        s.login
        for s in session.scalars(select(Staff).where(Staff.revoked_at.is_(None)))
        if (s.left_on is None or s.left_on > today)
        and (s.training_completed_at is None or s.training_completed_at < limit)
    )
