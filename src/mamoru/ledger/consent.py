"""Consents: given with scope and evidence, withdrawn at once."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from mamoru.audit.chain import append
from mamoru.audit.entry import AuditEvent
from mamoru.errors import Invalid, NotFound
from mamoru.ledger.tables import Consent, DataSubject


class ConsentScope(StrEnum):
    BEYOND_PURPOSE = "beyond_purpose"  # APPI Art. 18(1)
    THIRD_PARTY = "third_party"  # Art. 27(1)
    FOREIGN_THIRD_PARTY = "foreign_third_party"  # Art. 28(1)
    SPECIAL_CARE = "special_care"  # Art. 20(2)


def give_consent(
    session: Session,
    *,
    subject_id: str,
    scope: ConsentScope,
    channel: str,
    evidence_ref: str,
    actor: str,
    now: datetime,
    purpose: str | None = None,
    recipient: str | None = None,
    categories: list[str] | None = None,
    notice_id: int | None = None,
) -> Consent:
    """Record a consent. ``evidence_ref`` points at the evidence (a form submission, a signed paper)."""
    problems = []
    if session.get(DataSubject, subject_id) is None:
        problems.append(("subject_id", "unknown subject"))
    if not channel.strip():
        problems.append(("channel", "required"))
    if not evidence_ref.strip():
        problems.append(("evidence_ref", "a consent needs evidence"))
    if scope in (ConsentScope.THIRD_PARTY, ConsentScope.FOREIGN_THIRD_PARTY):
        if not recipient:
            problems.append(("recipient", "a provision consent names its recipient"))
        if not categories:
            # A provision carries only the items consented to (APPI Art. 27(1)): none named, none covered.
            problems.append(("categories", "a provision consent names the data items it covers"))
    if problems:
        raise Invalid(problems)
    consent = Consent(
        subject_id=subject_id,
        scope=scope.value,
        purpose=purpose,
        recipient=recipient,
        categories=categories or [],
        channel=channel,
        evidence_ref=evidence_ref,
        notice_id=notice_id,
        given_at=now,
    )
    session.add(consent)
    session.flush()
    append(
        session,
        [
            AuditEvent(
                actor=actor,
                action="consent.give",
                purpose=purpose,
                subjects=(subject_id,),
                objects=(f"consent:{consent.id}", f"scope:{scope.value}"),
            )
        ],
    )
    return consent


def withdraw_consent(
    session: Session, consent_id: int, *, channel: str, actor: str, now: datetime
) -> Consent:
    """Withdraw a consent; it stops counting from ``now`` (the very next decision sees it)."""
    consent = session.get(Consent, consent_id)
    if consent is None:
        raise NotFound(f"no consent {consent_id}")
    if consent.withdrawn_at is None:
        consent.withdrawn_at = now
        consent.withdrawal_channel = channel
        append(
            session,
            [
                AuditEvent(
                    actor=actor,
                    action="consent.withdraw",
                    purpose=consent.purpose,
                    subjects=(consent.subject_id,),
                    objects=(f"consent:{consent.id}",),
                )
            ],
        )
    return consent


def consents_in_force(
    session: Session, subject_id: str, scope: ConsentScope, at: datetime, *, purpose: str | None = None
) -> list[Consent]:
    """Consents of ``scope`` given before ``at`` and not withdrawn by then."""
    query = select(Consent).where(
        Consent.subject_id == subject_id,
        Consent.scope == scope.value,
        Consent.given_at <= at,
        or_(Consent.withdrawn_at.is_(None), Consent.withdrawn_at > at),
    )
    if purpose is not None:
        query = query.where(or_(Consent.purpose.is_(None), Consent.purpose == purpose))
    return list(session.scalars(query))
