"""Internal audit (JIS-10) with findings and corrective actions; independence of auditors (JIS-4).

At least one audit is completed in every PMS year (which starts on the anniversary of the policy's
enactment); a nonconformity without a corrective action 30 days after it was raised is escalated.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from mamoru.audit.chain import append
from mamoru.audit.entry import AuditEvent
from mamoru.errors import NotFound, require
from mamoru.people.staff import get as get_staff
from mamoru.people.tables import Role
from mamoru.pms.tables import AuditFinding, CorrectiveAction, InternalAudit
from mamoru.store.listing import Filter, ListQuery, ListSpec, list_page
from mamoru.store.paging import Page

AUDITOR_ROLES = frozenset({Role.AUDITOR.value, Role.AUDIT_MANAGER.value})
FINDING_KINDS = ("nonconformity", "observation")
ACTION_GRACE_DAYS = 30


def _audit(session: Session, actor: str, action: str, *objects: str) -> None:
    append(session, [AuditEvent(actor=actor, action=action, objects=objects)])


def plan(
    session: Session,
    *,
    year: int,
    department: str,
    scope: str,
    auditor: str,
    planned_on: date,
    actor: str,
) -> InternalAudit:
    """Plan an audit of one department. The auditor holds an audit role and is not of that department."""
    person = get_staff(session, auditor)
    problems = []
    if AUDITOR_ROLES.isdisjoint(person.role_names):
        problems.append(("auditor", "needs the auditor or audit manager role"))
    if person.department == department:
        problems.append(("auditor", "an auditor does not audit their own department (JIS Q 15001)"))
    if person.revoked_at is not None:
        problems.append(("auditor", "this person has left"))
    if not scope.strip() or len(scope) > 400:
        problems.append(("scope", "what is audited, 1–400 characters"))
    require(problems)
    count = session.scalar(select(func.count()).select_from(InternalAudit)) or 0
    row = InternalAudit(
        ref=f"IA-{year}-{count + 1:03d}",
        year=year,
        department=department,
        scope=scope.strip(),
        auditor_id=person.id,
        planned_on=planned_on,
        planned_by=actor,
    )
    session.add(row)
    session.flush()
    _audit(session, actor, "internal_audit.planned", f"internal_audit:{row.ref}", f"staff:{person.login}")
    return row


def get(session: Session, ref: str) -> InternalAudit:
    found = session.scalar(select(InternalAudit).where(InternalAudit.ref == ref))
    if found is None:
        raise NotFound(f"no internal audit {ref}")
    return found


def complete(session: Session, audit: InternalAudit, *, done_on: date, actor: str) -> None:
    require([("done_on", "cannot be before the plan")] if done_on < audit.planned_on else [])
    audit.done_on = done_on
    _audit(session, actor, "internal_audit.completed", f"internal_audit:{audit.ref}")


def add_finding(
    session: Session,
    audit: InternalAudit,
    *,
    kind: str,
    clause: str,
    summary: str,
    raised_on: date,
    actor: str,
) -> AuditFinding:
    problems = []
    if kind not in FINDING_KINDS:
        problems.append(("kind", "nonconformity or observation"))
    if not clause.strip() or len(clause) > 32:
        problems.append(("clause", "the requirement concerned, e.g. JIS-7"))
    if not summary.strip() or len(summary) > 400:
        problems.append(("summary", "1–400 characters"))
    require(problems)
    finding = AuditFinding(kind=kind, clause=clause.strip(), summary=summary.strip(), raised_on=raised_on)
    audit.findings.append(finding)
    session.flush()
    _audit(session, actor, "internal_audit.finding", f"internal_audit:{audit.ref}", f"finding:{finding.id}")
    return finding


def add_action(
    session: Session, finding_id: int, *, root_cause: str, action: str, due: date, owner: str, actor: str
) -> CorrectiveAction:
    finding = session.get(AuditFinding, finding_id)
    if finding is None:
        raise NotFound(f"no finding {finding_id}")
    problems = []
    for name, value in (("root_cause", root_cause), ("action", action)):
        if not value.strip() or len(value) > 400:
            problems.append((name, "1–400 characters"))
    require(problems)
    person = get_staff(session, owner)
    row = CorrectiveAction(
        root_cause=root_cause.strip(), action=action.strip(), due=due, owner=f"staff:{person.login}"
    )
    finding.actions.append(row)
    session.flush()
    _audit(
        session, actor, "corrective_action.planned", f"finding:{finding.id}", f"corrective_action:{row.id}"
    )
    return row


def verify(session: Session, action_id: int, *, done_on: date, actor: str) -> CorrectiveAction:
    """Record a corrective action as done and verified; the verifier is not its owner."""
    row = session.get(CorrectiveAction, action_id)
    if row is None:
        raise NotFound(f"no corrective action {action_id}")
    require([("actor", "the owner of an action does not verify it")] if actor == row.owner else [])
    row.done_on, row.verified_by = done_on, actor
    _audit(session, actor, "corrective_action.verified", f"corrective_action:{row.id}")
    return row


def pms_year(enacted_on: date, today: date) -> tuple[date, date]:
    """The PMS year containing ``today``: from the enactment anniversary to the next one."""

    def anniversary(year: int) -> date:
        try:
            return enacted_on.replace(year=year)
        except ValueError:  # 29 February
            return date(year, 2, 28)

    start = anniversary(today.year)
    if start > today:
        start = anniversary(today.year - 1)
    return start, anniversary(start.year + 1)


@dataclass(frozen=True)
class AuditGap:
    ref: str
    problem: str


def gaps(session: Session, *, enacted_on: date, today: date) -> list[AuditGap]:
    """Non-conformities: no completed audit in the last full PMS year; nonconformities without an
    action after 30 days; actions past their due day."""
    found = []
    start, _ = pms_year(enacted_on, today)
    last_start, _ = pms_year(enacted_on, start - timedelta(days=1))
    if last_start >= enacted_on:
        done = session.scalar(
            select(func.count())
            .select_from(InternalAudit)
            .where(InternalAudit.done_on >= last_start, InternalAudit.done_on < start)
        )
        if not done:
            found.append(AuditGap(f"{last_start}..{start}", "no_internal_audit_in_year"))
    for finding in session.scalars(select(AuditFinding)):
        if (
            finding.kind == "nonconformity"
            and not finding.actions
            and today - finding.raised_on > timedelta(days=ACTION_GRACE_DAYS)
        ):
            found.append(AuditGap(f"finding:{finding.id}", "no_corrective_action_escalated"))
        for action in finding.actions:
            if action.verified_by is None and action.due < today:
                found.append(AuditGap(f"corrective_action:{action.id}", "corrective_action_overdue"))
    return found


def audits(session: Session) -> list[InternalAudit]:
    return list(session.scalars(select(InternalAudit).order_by(InternalAudit.planned_on.desc())))


#: What the list of internal audits (with their findings) may be sorted and filtered by.
AUDITS = ListSpec(
    sorts={
        "planned": (InternalAudit.planned_on,),
        "done": (InternalAudit.done_on,),
        "ref": (InternalAudit.ref,),
        "department": (InternalAudit.department,),
    },
    default="-planned",
    tiebreak=InternalAudit.id,
    filters={
        "department": Filter(InternalAudit.department),
        "state": Filter(
            values={"planned", "done"},
            where=lambda v: (
                InternalAudit.done_on.is_(None) if v == "planned" else InternalAudit.done_on.is_not(None)
            ),
        ),
    },
    search=(InternalAudit.ref,),
    prefix="audit_",
)


def audit_page(session: Session, asked: ListQuery) -> Page[InternalAudit]:
    """One page of the internal audits as ``asked`` (see :data:`AUDITS`)."""
    return list_page(session, select(InternalAudit), AUDITS, asked)
