"""The provision gate (APPI Arts. 27-31): every transfer of personal data out of the organization.

A transfer names its type, its party and its subjects. The guard decides each subject (consent or a
statutory exception, supervision of the processor, the foreign checks); the gate adds what only a
transfer knows (opt-out off by default, joint use only while its notice is published, confirmation
for personally referable information), refuses the whole job or leaves the refused subjects out (the
``transfer_partial`` setting), keeps a provision record for each subject where the law asks for one,
and hands over the data as a package read through the guard. All of it in one transaction.
"""

from __future__ import annotations

import hashlib
import io
import uuid
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum

import orjson
from babel import Locale
from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from mamoru.audit.chain import append
from mamoru.audit.entry import AuditEvent, digest_ref
from mamoru.errors import Invalid
from mamoru.files import csv_text
from mamoru.guard.decision import Action, Decision
from mamoru.guard.engine import StatutoryException
from mamoru.guard.service import decide_and_record
from mamoru.law.periods import period_end
from mamoru.ledger.consent import ConsentScope, give_consent
from mamoru.ledger.tables import Consent
from mamoru.policy.model import Policy, Recipient
from mamoru.policy.service import is_current
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


def _check_party(session: Session, ws: Workspace, data: TransferIn) -> Recipient | None:
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
    policy = ws.policy.policy
    recipient = _check_party(session, ws, data)
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
    referable = [c for c in data.categories if policy.category(c).referable]
    if recipient is not None and recipient.links_referable and referable:
        confirmed = set(
            session.scalars(
                select(ReferableConfirmation.subject_id).where(
                    ReferableConfirmation.recipient == data.party,
                    ReferableConfirmation.subject_id.in_([d.subjects[0] for d in allowed]),
                )
            )
        )
        for d in list(allowed):
            if d.subjects[0] not in confirmed:
                allowed.remove(d)
                result.refused[d.subjects[0]] = ["referable_not_confirmed"]
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


def foreign_information(policy: Policy, recipient_id: str, lang: str) -> str:
    """What a person must be told before consenting to provision abroad (APPI Art. 28(2), Rules Art. 17)."""
    recipient = next((r for r in policy.recipients if r.id == recipient_id), None)
    if recipient is None or recipient.foreign is None:
        raise Invalid([("recipient", f"'{recipient_id}' is not a foreign recipient of the policy")])
    country = Locale(lang).territories.get(recipient.country, recipient.country)
    if lang == "ja":
        return (
            f"提供先: {recipient.name.ja}\n提供先の国: {country}\n"
            f"当該国の個人情報保護制度: {recipient.foreign.country_system.ja}\n"
            f"提供先が講ずる措置: {recipient.foreign.recipient_measures.ja}"
        )
    return (
        f"Recipient: {recipient.name.en}\nCountry: {country}\n"
        f"The country's protection system: {recipient.foreign.country_system.en}\n"
        f"The recipient's measures: {recipient.foreign.recipient_measures.en}"
    )


def give_foreign_consent(
    session: Session,
    policy: Policy,
    *,
    subject_id: str,
    recipient: str,
    shown: str,
    lang: str,
    purpose: str,
    channel: str,
    actor: str,
    now: datetime,
) -> Consent:
    """Record a consent to provision abroad, valid only if what the person was shown carried the country,
    its protection system and the recipient's measures (APPI Art. 28(2))."""
    party = next((r for r in policy.recipients if r.id == recipient), None)
    if party is None or party.foreign is None:
        raise Invalid([("recipient", f"'{recipient}' is not a foreign recipient of the policy")])
    country = Locale(lang).territories.get(party.country, party.country)
    missing = [
        name
        for name, text in (
            ("country", country),
            ("country_system", party.foreign.country_system.in_(lang)),
            ("recipient_measures", party.foreign.recipient_measures.in_(lang)),
        )
        if text not in shown
    ]
    if missing:
        raise Invalid(
            [
                (
                    "shown",
                    f"the consent is invalid: what was shown lacks {', '.join(missing)} (APPI Art. 28(2))",
                )
            ]
        )
    digest = hashlib.sha256(shown.encode("utf-8")).hexdigest()
    return give_consent(
        session,
        subject_id=subject_id,
        scope=ConsentScope.FOREIGN_THIRD_PARTY,
        channel=channel,
        evidence_ref=f"shown-sha256:{digest}",
        actor=actor,
        now=now,
        purpose=purpose,
        recipient=recipient,
        categories=list(party.categories),
    )


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
        raise Invalid([("recipient", f"'{recipient}' is not declared as linking referable information")])
    if not method.strip() or not evidence_ref.strip():
        raise Invalid([("evidence_ref", "say how it was confirmed and keep the evidence")])
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
