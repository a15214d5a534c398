"""Supervision of processors (APPI Art. 25, JIS-9, MN-8) and of foreign parties (APPI Art. 28).

A party is *cleared* when every check holds today; the guard refuses entrustment to a processor that is
not, and provision to a foreign recipient whose periodic check is overdue. Each problem is a code.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from mamoru.audit.entry import AuditEvent
from mamoru.audit.log import append
from mamoru.errors import Invalid
from mamoru.policy.model import ForeignTransfer, Policy
from mamoru.transfers.tables import (
    ForeignCheck,
    ProcessorAssessment,
    ProcessorBreachNotice,
    ProcessorContract,
    ProcessorMonitoring,
    ReEntrustmentApproval,
)

#: JIS Q 15001 / PrivacyMark J.9.4: what every entrustment contract must say.
CONTRACT_CLAUSES = (
    "responsibilities",  # the responsibilities of both parties
    "security",  # security management of the personal data
    "reentrustment",  # the conditions of re-entrustment
    "report_frequency",  # the content and frequency of reports to the entrusting party
    "audit_rights",  # the entrusting party's right to verify compliance, periodically and as needed
    "noncompliance",  # measures when the contract is not kept
    "incident_reporting",  # reporting of incidents and accidents
    "termination",  # return or deletion of the data when the contract ends
)
#: My Number Act guideline (MN-8): further clauses when the Individual Number is entrusted.
MY_NUMBER_CLAUSES = (
    "confidentiality",
    "no_removal",  # no taking the data outside the place of work
    "no_use_beyond_purpose",
    "staff_supervision",  # supervision and training of the processor's staff
    "compliance_reporting",
)
PASS_SCORE = 70


#: APPI-26g: a processor should tell us of a breach within this many days of becoming aware of it
#: (a design choice after the PPC's "promptly", 3-5 days; configurable per call).
BREACH_NOTICE_DAYS = 3


@dataclass(frozen=True)
class PartyStatus:
    party: str
    problems: tuple[str, ...]
    next_due: date | None = None
    #: Findings that do not stop transfers but need the office's attention (a late breach notice).
    flags: tuple[str, ...] = ()

    @property
    def cleared(self) -> bool:
        return not self.problems


def _foreign_problems(
    session: Session, party: str, foreign: ForeignTransfer | None, today: date
) -> list[str]:
    if foreign is None or foreign.route != "conforming_system":
        return []
    latest = session.scalar(
        select(ForeignCheck)
        .where(ForeignCheck.party == party)
        .order_by(ForeignCheck.checked_on.desc())
        .limit(1)
    )
    if latest is None:
        return ["foreign_check_missing"]
    if not latest.conforming:
        return ["foreign_not_conforming"]
    if latest.next_due < today:
        return ["foreign_check_overdue"]
    return []


def processor_status(session: Session, policy: Policy, processor_id: str, today: date) -> PartyStatus:
    """Whether entrusting to this processor is allowed today, and why not."""
    processors = {p.id: p for p in policy.processors}
    processor = processors.get(processor_id)
    party = f"processor:{processor_id}"
    if processor is None:
        return PartyStatus(party, ("not_declared",))
    problems: list[str] = []
    assessment = session.scalar(
        select(ProcessorAssessment)
        .where(ProcessorAssessment.processor == processor_id)
        .order_by(ProcessorAssessment.assessed_on.desc())
        .limit(1)
    )
    if assessment is None or not assessment.passed:
        problems.append("assessment_missing")
    elif assessment.valid_until < today:
        problems.append("assessment_expired")
    contract = session.scalar(
        select(ProcessorContract)
        .where(ProcessorContract.processor == processor_id)
        .order_by(ProcessorContract.signed_on.desc())
        .limit(1)
    )
    handles_number = any(policy.category(c).my_number for c in processor.categories)
    if contract is None:
        problems.append("contract_missing")
    else:
        if contract.ends_on is not None and contract.ends_on < today:
            problems.append("contract_ended")
        required = CONTRACT_CLAUSES + (MY_NUMBER_CLAUSES if handles_number else ())
        if not set(required) <= set(contract.clauses):
            problems.append("contract_clauses_missing")
    monitoring = session.scalar(
        select(ProcessorMonitoring)
        .where(ProcessorMonitoring.processor == processor_id)
        .order_by(ProcessorMonitoring.performed_on.desc())
        .limit(1)
    )
    next_due: date | None
    if monitoring is not None:
        next_due = monitoring.next_due
        if not monitoring.satisfactory:
            problems.append("monitoring_unsatisfactory")
    else:
        next_due = contract.signed_on + timedelta(days=processor.monitoring_days) if contract else None
    if next_due is not None and next_due < today:
        problems.append("monitoring_overdue")
    if processor.entrusted_by is not None:
        approved = session.scalar(
            select(ReEntrustmentApproval).where(
                ReEntrustmentApproval.processor == processor_id, ReEntrustmentApproval.revoked_at.is_(None)
            )
        )
        if approved is None:
            problems.append("reentrustment_not_approved")
        parent = processor_status(session, policy, processor.entrusted_by, today)
        if not parent.cleared:
            problems.append("entrusting_processor_not_cleared")
    problems += _foreign_problems(session, party, processor.foreign, today)
    late = session.scalar(
        select(ProcessorBreachNotice.id)
        .where(ProcessorBreachNotice.processor == processor_id, ProcessorBreachNotice.late.is_(True))
        .limit(1)
    )
    return PartyStatus(party, tuple(problems), next_due, ("breach_notice_late",) if late else ())


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


def recipient_status(session: Session, policy: Policy, recipient_id: str, today: date) -> PartyStatus:
    """Whether provision to this recipient may go on today (the periodic check of APPI Art. 28(3))."""
    recipient = next((r for r in policy.recipients if r.id == recipient_id), None)
    party = f"recipient:{recipient_id}"
    if recipient is None:
        return PartyStatus(party, ("not_declared",))
    return PartyStatus(party, tuple(_foreign_problems(session, party, recipient.foreign, today)))


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
