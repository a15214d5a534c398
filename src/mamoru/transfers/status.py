"""Whether a processor or a recipient is cleared today (APPI Art. 25, Art. 28(3), JIS-9, MN-8): the one
place the guard, the API, the console, the CLI and the reminders read supervision status from.

A party is *cleared* when every check holds today; the guard refuses entrustment to a processor that is
not, and provision to a foreign recipient whose periodic check is overdue. Each problem is a code.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

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


def recipient_status(session: Session, policy: Policy, recipient_id: str, today: date) -> PartyStatus:
    """Whether provision to this recipient may go on today (the periodic check of APPI Art. 28(3))."""
    recipient = next((r for r in policy.recipients if r.id == recipient_id), None)
    party = f"recipient:{recipient_id}"
    if recipient is None:
        return PartyStatus(party, ("not_declared",))
    return PartyStatus(party, tuple(_foreign_problems(session, party, recipient.foreign, today)))


def every_party(session: Session, policy: Policy, today: date) -> list[PartyStatus]:
    """Every processor, then every recipient of the policy, with its status today."""
    return [processor_status(session, policy, p.id, today) for p in policy.processors] + [
        recipient_status(session, policy, r.id, today) for r in policy.recipients
    ]


def party_cleared(session: Session, policy: Policy, *, entrust: bool, party: str, today: date) -> bool:
    """For the guard: entrusting to a processor, or providing to a recipient, may go on today."""
    status = processor_status if entrust else recipient_status
    return status(session, policy, party, today).cleared
