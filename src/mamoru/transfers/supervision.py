"""Supervision of processors (APPI Art. 25, JIS-9, MN-8) and of foreign parties (APPI Art. 28): the
records of assessments, contracts, monitoring, re-entrustment, foreign checks and breach notices.
What they add up to today is ``transfers.status``."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime, timedelta

from sqlalchemy.orm import Session

from mamoru.audit.chain import append
from mamoru.audit.entry import AuditEvent
from mamoru.errors import Invalid, Problem, problem, require
from mamoru.policy.model import Policy
from mamoru.transfers.status import CONTRACT_CLAUSES, MY_NUMBER_CLAUSES, every_party
from mamoru.transfers.tables import (
    ForeignCheck,
    ProcessorAssessment,
    ProcessorBreachNotice,
    ProcessorContract,
    ProcessorMonitoring,
    ReEntrustmentApproval,
)

PASS_SCORE = 70


#: APPI-26g: a processor should tell us of a breach within this many days of becoming aware of it
#: (a design choice after the PPC's "promptly", 3-5 days; configurable per call).
BREACH_NOTICE_DAYS = 3


def _audit(session: Session, actor: str, action: str, party: str, detail: str) -> None:
    append(session, [AuditEvent(actor=actor, action=action, objects=(party, detail))])


def record_assessment(
    session: Session,
    policy: Policy,
    processor: str,
    *,
    score: int,
    on: date,
    valid_days: int,
    evidence_ref: str,
    actor: str,
) -> ProcessorAssessment:
    if processor not in {p.id for p in policy.processors}:
        raise Invalid([("processor", f"'{processor}' is not a processor of the policy")])
    if not 0 <= score <= 100:
        raise Invalid([("score", "a score from 0 to 100")])
    row = ProcessorAssessment(
        processor=processor,
        assessed_on=on,
        assessed_by=actor,
        score=score,
        passed=score >= PASS_SCORE,
        valid_until=on + timedelta(days=valid_days),
        evidence_ref=evidence_ref,
    )
    session.add(row)
    _audit(session, actor, "processor.assessed", f"processor:{processor}", f"score:{score}")
    return row


def record_contract(
    session: Session,
    policy: Policy,
    processor: str,
    *,
    signed_on: date,
    clauses: list[str],
    evidence_ref: str,
    actor: str,
    ends_on: date | None = None,
) -> ProcessorContract:
    """Keep a contract; a contract lacking a required clause is refused with the clauses named (JIS-9)."""
    known = {p.id: p for p in policy.processors}
    if processor not in known:
        raise Invalid([("processor", f"'{processor}' is not a processor of the policy")])
    handles_number = any(policy.category(c).my_number for c in known[processor].categories)
    required = CONTRACT_CLAUSES + (MY_NUMBER_CLAUSES if handles_number else ())
    missing = [c for c in required if c not in clauses]
    if missing:
        raise Invalid([("clauses", f"the contract lacks required clauses: {', '.join(missing)}")])
    row = ProcessorContract(
        processor=processor,
        signed_on=signed_on,
        ends_on=ends_on,
        clauses=sorted(set(clauses)),
        evidence_ref=evidence_ref,
        recorded_by=actor,
    )
    session.add(row)
    _audit(session, actor, "processor.contract_recorded", f"processor:{processor}", f"clauses:{len(clauses)}")
    return row


def record_monitoring(
    session: Session,
    policy: Policy,
    processor: str,
    *,
    on: date,
    satisfactory: bool,
    evidence_ref: str,
    actor: str,
) -> ProcessorMonitoring:
    known = {p.id: p for p in policy.processors}
    if processor not in known:
        raise Invalid([("processor", f"'{processor}' is not a processor of the policy")])
    row = ProcessorMonitoring(
        processor=processor,
        performed_on=on,
        performed_by=actor,
        satisfactory=satisfactory,
        next_due=on + timedelta(days=known[processor].monitoring_days),
        evidence_ref=evidence_ref,
    )
    session.add(row)
    _audit(
        session, actor, "processor.monitored", f"processor:{processor}", "ok" if satisfactory else "not_ok"
    )
    return row


def approve_reentrustment(
    session: Session, policy: Policy, processor: str, *, actor: str
) -> ReEntrustmentApproval:
    """The original entrusting party (this organization) permits a processor's re-entrustment."""
    known = {p.id: p for p in policy.processors}
    if processor not in known or known[processor].entrusted_by is None:
        raise Invalid([("processor", f"'{processor}' is not a re-entrusted processor of the policy")])
    row = ReEntrustmentApproval(processor=processor, approved_by=actor)
    session.add(row)
    _audit(session, actor, "processor.reentrustment_approved", f"processor:{processor}", "approved")
    return row


def record_foreign_check(
    session: Session,
    policy: Policy,
    party: str,
    *,
    on: date,
    conforming: bool,
    evidence_ref: str,
    actor: str,
) -> ForeignCheck:
    kind = party.partition(":")[0]
    parties = {f"recipient:{r.id}": r.foreign for r in policy.recipients} | {
        f"processor:{p.id}": p.foreign for p in policy.processors
    }
    foreign = parties.get(party)
    if kind not in ("recipient", "processor") or foreign is None:
        raise Invalid([("party", f"'{party}' is not a foreign recipient or processor of the policy")])
    row = ForeignCheck(
        party=party,
        checked_on=on,
        checked_by=actor,
        conforming=conforming,
        next_due=on + timedelta(days=foreign.check_interval_days),
        evidence_ref=evidence_ref,
    )
    session.add(row)
    _audit(
        session, actor, "transfer.foreign_checked", party, "conforming" if conforming else "not_conforming"
    )
    return row


def record_breach_notice(
    session: Session,
    policy: Policy,
    processor: str,
    *,
    aware_at: datetime,
    notified_at: datetime,
    actor: str,
    incident_ref: str | None = None,
    allowed_days: int = BREACH_NOTICE_DAYS,
) -> ProcessorBreachNotice:
    """Record when a processor told us of a breach; later than ``allowed_days`` after its awareness is
    flagged on the processor (APPI-26g: the processor is exempt from reporting only if it tells us promptly)."""
    if processor not in {p.id for p in policy.processors}:
        raise Invalid([("processor", f"'{processor}' is not a processor of the policy")])
    if notified_at < aware_at:
        raise Invalid([("notified_at", "the notice cannot come before the processor became aware")])
    late = notified_at - aware_at > timedelta(days=allowed_days)
    row = ProcessorBreachNotice(
        processor=processor,
        aware_at=aware_at,
        notified_at=notified_at,
        late=late,
        incident_ref=incident_ref,
        recorded_by=actor,
    )
    session.add(row)
    _audit(session, actor, "processor.breach_notice", f"processor:{processor}", "late" if late else "on_time")
    return row


def remind(session: Session, policy: Policy, today: date, *, actor: str) -> list[str]:
    """Put every processor or recipient that is not cleared today in the audit log as a reminder (the
    periodic task's job); the parties, or none."""
    flagged = [s.party for s in every_party(session, policy, today) if not s.cleared]
    if flagged:
        append(
            session,
            [
                AuditEvent(
                    actor=actor, action="supervision.reminder", objects=tuple(f"party:{p}" for p in flagged)
                )
            ],
        )
    return flagged


#: How long an assessment stays valid, in days, when the form does not say (and the bounds it may say).
ASSESSMENT_VALID_DAYS = (365, 30, 1095)
MAX_EVIDENCE = 400


def _day(value: str, field: str, today: date) -> date | Problem:
    try:
        day = date.fromisoformat(value.strip())
    except ValueError:
        return problem(field, "a date, e.g. 2026-12-02", "date")
    return problem(field, "this day is in the future", "future") if day > today else day


def _whole(value: str, field: str, low: int, high: int) -> int | Problem:
    text = value.strip()
    if text.isascii() and text.isdigit() and len(text) < 6 and low <= int(text) <= high:
        return int(text)
    return problem(field, f"a whole number from {low} to {high}", f"range_{low}_{high}")


def record_check(
    session: Session, policy: Policy, form: Mapping[str, str], *, actor: str, today: date
) -> ProcessorAssessment | ProcessorMonitoring:
    """Record, as a form sends it, a processor's assessment (``check=assessment``: a score out of 100 and
    how long it holds) or a monitoring of its handling (``check=monitoring``: satisfactory or not).

    Every value is checked first; nothing is kept when any is wrong, and each problem names its field.
    """
    problems: list[Problem] = []
    check = str(form.get("check", ""))
    if check not in ("assessment", "monitoring"):
        problems.append(problem("check", "assessment or monitoring", "choice"))
    processor = str(form.get("processor", ""))
    if processor not in {p.id for p in policy.processors}:
        problems.append(problem("processor", "a processor of the policy", "choice"))
    on = _day(str(form.get("on", "")), "on", today)
    evidence = str(form.get("evidence_ref", "")).strip()
    if not evidence or len(evidence) > MAX_EVIDENCE:
        problems.append(problem("evidence_ref", "a document reference, 1–400 characters", "evidence"))
    score: int | Problem = 0
    valid: int | Problem = ASSESSMENT_VALID_DAYS[0]
    if check == "assessment":
        score = _whole(str(form.get("score", "")), "score", 0, 100)
        valid = _whole(
            str(form.get("valid_days", "")) or str(ASSESSMENT_VALID_DAYS[0]),
            "valid_days",
            *ASSESSMENT_VALID_DAYS[1:],
        )
    satisfactory = str(form.get("satisfactory", ""))
    if check == "monitoring" and satisfactory not in ("yes", "no"):
        problems.append(problem("satisfactory", "say whether the handling was satisfactory", "choice"))
    problems += [v for v in (on, score, valid) if isinstance(v, Problem)]
    require(problems)
    assert isinstance(on, date) and isinstance(score, int) and isinstance(valid, int)
    if check == "assessment":
        return record_assessment(
            session,
            policy,
            processor,
            score=score,
            on=on,
            valid_days=valid,
            evidence_ref=evidence,
            actor=actor,
        )
    return record_monitoring(
        session,
        policy,
        processor,
        on=on,
        satisfactory=satisfactory == "yes",
        evidence_ref=evidence,
        actor=actor,
    )
