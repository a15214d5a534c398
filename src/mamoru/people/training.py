"""Training (JIS-7): a plan per year, sessions under it, and attendance with a comprehension score.

A pass (score at or above the policy's ``staff.training_pass_score``) renews the person's training;
the guard refuses personal data to anyone whose last pass is older than ``staff.training_valid_days``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import and_, func, or_, select
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
    """Each training plan (of ``year``, or all), its sessions, and how many of its audience have passed,
    counted in the database."""
    query = select(TrainingPlan).order_by(TrainingPlan.year.desc(), TrainingPlan.id)
    if year is not None:
        query = query.where(TrainingPlan.year == year)
    views = []
    for plan in session.scalars(query):
        held = list(session.scalars(select(TrainingSession).where(TrainingSession.plan_id == plan.id)))
        audience = [Staff.revoked_at.is_(None)]
        if plan.audience:
            audience.append(Staff.kind.in_(plan.audience))
        expected = session.scalar(select(func.count()).select_from(Staff).where(*audience)) or 0
        attended = session.scalar(
            select(func.count(func.distinct(Attendance.staff_id)))
            .join(Staff, Staff.id == Attendance.staff_id)
            .where(Attendance.session_id.in_([h.id for h in held]), Attendance.passed.is_(True), *audience)
        )
        views.append(PlanView(plan, held, int(attended or 0), int(expected)))
    return views


def _lapsed(today: date, valid_days: int) -> Any:
    """Current staff whose last pass is more than ``valid_days`` ago (or who never passed), as SQL."""
    limit = datetime.combine(today, time(), tzinfo=UTC) - timedelta(days=valid_days)
    return and_(
        Staff.revoked_at.is_(None),
        or_(Staff.left_on.is_(None), Staff.left_on > today),
        or_(Staff.training_completed_at.is_(None), Staff.training_completed_at < limit),
    )


def overdue(session: Session, *, today: date, valid_days: int, limit: int | None = None) -> list[str]:
    """The logins of current staff whose last pass is more than ``valid_days`` ago (or who never passed),
    by login; the first ``limit`` of them when given."""
    query = select(Staff.login).where(_lapsed(today, valid_days)).order_by(Staff.login)
    return list(session.scalars(query if limit is None else query.limit(limit)))


def overdue_count(session: Session, *, today: date, valid_days: int) -> int:
    """How many current staff :func:`overdue` would list."""
    return int(session.scalar(select(func.count()).select_from(Staff).where(_lapsed(today, valid_days))) or 0)
