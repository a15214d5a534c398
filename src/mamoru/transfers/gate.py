"""The provision gate (APPI Arts. 27-31): every transfer of personal data out of the organization.

A transfer names its type, its party and its subjects. The guard decides each subject (consent or a
statutory exception, supervision of the processor, the foreign checks); the gate adds what only a
transfer knows (opt-out off by default, joint use only while its notice is published, confirmation
for personally referable information), refuses the whole job or leaves the refused subjects out (the
``transfer_partial`` setting), keeps a provision record for each subject where the law asks for one,
and hands over the data as a package read through the guard. All of it in one transaction.
"""

from __future__ import annotations

import io
import uuid
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum

import orjson
from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from mamoru.audit.chain import append
from mamoru.audit.entry import AuditEvent, digest_ref
from mamoru.errors import Invalid, problem
from mamoru.files import csv_text
from mamoru.guard.decision import Action, Decision
from mamoru.guard.engine import StatutoryException
from mamoru.guard.service import decide_and_record
from mamoru.law.periods import period_end
from mamoru.ledger.consent import ConsentScope
from mamoru.ledger.tables import Consent
from mamoru.policy.model import Policy, Recipient
from mamoru.policy.service import is_current
from mamoru.transfers.foreign import foreign_information as foreign_information
from mamoru.transfers.foreign import give_foreign_consent as give_foreign_consent
from mamoru.transfers.optout import opt_out_problems
from mamoru.transfers.records import Basis, ProvisionIn, RecordMode, record_provision
from mamoru.transfers.tables import ReferableConfirmation
from mamoru.workspace import Workspace


class TransferType(StrEnum):
    """APPI Art. 27: provision to a third party (consent, exception, opt-out), or not a third party at all
    (entrustment, succession, joint use)."""

    CONSENT = "consent"
    EXCEPTION = "exception"
    OPT_OUT = "opt_out"
    ENTRUSTMENT = "entrustment"
    SUCCESSION = "succession"
    JOINT_USE = "joint_use"


#: Transfers that need a provision record (APPI Art. 29(1) and its proviso: not for Art. 27(1)
#: exceptions, entrustment, succession or joint use).
RECORDED = {TransferType.CONSENT: Basis.CONSENT, TransferType.OPT_OUT: Basis.OPT_OUT}
_BASIS_FOR = {
    TransferType.CONSENT: {"consent"},
    TransferType.EXCEPTION: {"consent", "law"},
    TransferType.OPT_OUT: {"opt_out"},
    TransferType.SUCCESSION: {"succession"},
    TransferType.JOINT_USE: {"joint_use"},
}
REFERABLE_RECORD_YEARS = 3


@dataclass(frozen=True)
class TransferIn:
    type: TransferType
    party: str
    purpose: str
    subjects: Sequence[str]
    categories: Sequence[str]
    exception: StatutoryException | None = None
    justification: str | None = None
    mode: RecordMode = RecordMode.EACH
    period_first: date | None = None
    period_last: date | None = None


@dataclass
class TransferResult:
    transfer_id: str
    provided: list[str] = field(default_factory=list)
    refused: dict[str, list[str]] = field(default_factory=dict)
    records: list[int] = field(default_factory=list)
    refused_whole: bool = False
    package: bytes | None = None


class TransferRefused(Invalid):
    """The transfer as a whole cannot go ahead; nothing was provided."""


#: What each reason an opt-out provision cannot go on says (``optout.opt_out_problems``).
_OPT_OUT_WHY = {
    "opt_out_not_declared": "the policy states no opt-out notice items for this recipient",
    "opt_out_not_started": "the start date of provision by opt-out in the notice has not come",
    "opt_out_not_filed": "the notice items were not filed with the PPC",
    "opt_out_items_changed": "the notice items changed since they were filed; file them again (Art. 27(3))",
    "opt_out_not_published": "the PPC has not published the filing yet (Art. 27(4))",
}


def _check_party(session: Session, ws: Workspace, data: TransferIn, today: date) -> Recipient | None:
    policy = ws.policy.policy
    if data.type is TransferType.ENTRUSTMENT:
        if data.party not in {p.id for p in policy.processors}:
            raise TransferRefused([("party", f"'{data.party}' is not a processor of the policy")])
        return None
    recipient = next((r for r in policy.recipients if r.id == data.party), None)
    if recipient is None:
        raise TransferRefused([("party", f"'{data.party}' is not a recipient of the policy")])
    if data.type is TransferType.OPT_OUT and not ws.settings.transfer_opt_out_enabled:
        raise TransferRefused(
            [("type", "opt-out provision is turned off (APPI Art. 27(2); transfer_opt_out_enabled)")]
        )
    if recipient.basis not in _BASIS_FOR[data.type]:
        raise TransferRefused(
            [
                (
                    "type",
                    f"a {data.type.value} transfer cannot go to '{data.party}', declared as {recipient.basis}",
                )
            ]
        )
    if data.type is TransferType.OPT_OUT:
        problems = opt_out_problems(session, policy, data.party, today)
        if not problems and not is_current(session, ws.policy):
            problems = ["opt_out_notice_not_published"]
        if problems:
            raise TransferRefused(
                [
                    problem(
                        "party",
                        f"opt-out provision to '{data.party}': "
                        + _OPT_OUT_WHY.get(p, "the notice in force does not publish its items"),
                        p,
                    )
                    for p in problems
                ]
            )
    if data.type is TransferType.EXCEPTION and (
        data.exception is None or not (data.justification or "").strip()
    ):
        raise TransferRefused(
            [("exception", "an exception transfer names its statutory ground and justification")]
        )
    if data.type is TransferType.JOINT_USE and (
        recipient.joint_use is None or not is_current(session, ws.policy)
    ):
        raise TransferRefused(
            [
                (
                    "type",
                    "joint use needs its five items published in the notice in force (APPI Art. 27(5)(iii))",
                )
            ]
        )
    return recipient


def _consent_ids(
    session: Session, subjects: Sequence[str], data: TransferIn, now: datetime
) -> dict[str, int]:
    """For each subject, the first consent in force that covers this recipient, purpose and every item."""
    rows = session.scalars(
        select(Consent)
        .where(
            Consent.subject_id.in_(list(subjects)),
            Consent.recipient == data.party,
            Consent.scope.in_([ConsentScope.THIRD_PARTY.value, ConsentScope.FOREIGN_THIRD_PARTY.value]),
            Consent.given_at <= now,
            or_(Consent.withdrawn_at.is_(None), Consent.withdrawn_at > now),
            or_(Consent.purpose.is_(None), Consent.purpose == data.purpose),
        )
        .order_by(Consent.id)
    )
    found: dict[str, int] = {}
    for consent in rows:
        if consent.subject_id not in found and set(data.categories) <= set(consent.categories or ()):
            found[consent.subject_id] = consent.id
    return found


def _package(
    ws: Workspace, session: Session, decisions: Sequence[Decision], categories: Sequence[str]
) -> bytes:
    policy = ws.policy.policy
    rows: list[dict[str, str]] = []
    for decision in decisions:
        subject = decision.subjects[0]
        fields = [f for f in ws.vault.field_names(session, subject) if policy.fields.get(f) in categories]
        values = ws.vault.read(session, decision, subject, fields, categories_of=policy.fields)
        rows.extend({"subject_id": subject, "field": f, "value": v} for f, v in sorted(values.items()))
    table = [["subject_id", "field", "value"], *([r["subject_id"], r["field"], r["value"]] for r in rows)]
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("data.json", orjson.dumps(rows, option=orjson.OPT_INDENT_2))
        archive.writestr("data.csv", csv_text(table).encode("utf-8"))  # formulas neutralized
    return buffer.getvalue()


def transfer(
    session: Session, ws: Workspace, data: TransferIn, *, actor: str, now: datetime, deliver: bool = True
) -> TransferResult:
    """Decide, record and package one transfer, in the caller's transaction."""
    _check_party(session, ws, data, now.date())
    result = TransferResult(transfer_id=str(uuid.uuid4()))
    action = Action.ENTRUST if data.type is TransferType.ENTRUSTMENT else Action.PROVIDE
    decisions = decide_and_record(
        session,
        ws.policy,
        actor=actor,
        purpose=data.purpose,
        subjects=list(data.subjects),
        categories=list(data.categories),
        action=action,
        now=now,
        recipient=data.party,
        exception=data.exception if data.type is TransferType.EXCEPTION else None,
        justification=data.justification,
        opt_out_enabled=ws.settings.transfer_opt_out_enabled,
    )
    allowed = [d for d in decisions if d.allow]
    for d in decisions:
        if not d.allow:
            result.refused[d.subjects[0]] = [str(r) for r in d.reasons]
    objects = (f"transfer:{result.transfer_id}", f"party:{data.party}", f"type:{data.type.value}")
    if result.refused and ws.settings.transfer_partial == "refuse":
        result.refused_whole = True
        append(
            session,
            [
                AuditEvent(
                    actor=actor,
                    action="transfer.refused",
                    purpose=data.purpose,
                    subjects=tuple(result.refused),
                    objects=objects,
                    reasons=("partial_refused_whole",),
                    counts={"refused": len(result.refused), "requested": len(decisions)},
                )
            ],
        )
        return result
    result.provided = [d.subjects[0] for d in allowed]
    basis = RECORDED.get(data.type)
    if basis is not None:
        consents = _consent_ids(session, result.provided, data, now) if basis is Basis.CONSENT else {}
        for subject in result.provided:
            row = record_provision(
                session,
                ProvisionIn(
                    subject_id=subject,
                    recipient=data.party,
                    basis=basis,
                    categories=list(data.categories),
                    mode=data.mode,
                    consent_id=consents.get(subject),
                    provided_on=now.date() if basis is Basis.OPT_OUT else None,
                    period_first=data.period_first,
                    period_last=data.period_last,
                ),
                actor=actor,
                today=now.date(),
            )
            result.records.append(row.id)
    package = _package(ws, session, allowed, data.categories) if deliver and allowed else None
    result.package = package
    append(
        session,
        [
            AuditEvent(
                actor=actor,
                action="transfer.completed",
                purpose=data.purpose,
                subjects=tuple(result.provided),
                objects=objects,
                reasons=(digest_ref(package),) if package else (),
                counts={
                    "provided": len(result.provided),
                    "left_out": len(result.refused),
                    "records": len(result.records),
                },
            )
        ],
    )
    return result


def confirm_referable(
    session: Session,
    policy: Policy,
    *,
    recipient: str,
    subject_ids: Sequence[str],
    method: str,
    evidence_ref: str,
    actor: str,
    now: datetime,
) -> list[ReferableConfirmation]:
    """Record that the recipient obtained each person's consent to receive referable data (APPI Art. 31)."""
    party = next((r for r in policy.recipients if r.id == recipient), None)
    if party is None or not party.links_referable:
        raise Invalid(
            [
                problem(
                    "recipient",
                    f"'{recipient}' is not declared as linking referable information",
                    "not_linking",
                )
            ]
        )
    if not method.strip() or not evidence_ref.strip():
        raise Invalid([problem("evidence_ref", "say how it was confirmed and keep the evidence", "missing")])
    rows = [
        ReferableConfirmation(
            recipient=recipient,
            subject_id=subject,
            method=method,
            evidence_ref=evidence_ref,
            confirmed_by=actor,
            confirmed_at=now,
            purge_after=period_end(now.date(), years=REFERABLE_RECORD_YEARS),
        )
        for subject in subject_ids
    ]
    session.add_all(rows)
    append(
        session,
        [
            AuditEvent(
                actor=actor,
                action="transfer.referable_confirmed",
                subjects=tuple(subject_ids),
                objects=(f"recipient:{recipient}",),
            )
        ],
    )
    return rows
