"""Internal rules (JIS-6): a register of rule documents with versions, approval, the topics each
covers, and each staff member's acknowledgement of the versions in force.

The text itself stays in the organization's document system; the register keeps its SHA-256, so an
auditor can tell whether the document they are shown is the approved one.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import and_, exists, false, func, or_, select
from sqlalchemy.orm import Session

from mamoru.audit.chain import append
from mamoru.audit.entry import AuditEvent
from mamoru.errors import NotFound, require
from mamoru.people.staff import get
from mamoru.people.tables import Role, RuleAcknowledgement, RuleDocument, Staff

#: The topics JIS Q 15001 internal rules must cover (PrivacyMark document review); a person reads each as
#: the catalog's ``rule_topic_<code>``.
MANDATORY_TOPICS: tuple[str, ...] = (
    "identification",
    "laws_norms",
    "risk_assessment",
    "roles_authority",
    "emergency",
    "acquisition_use_provision",
    "proper_management",
    "requests",
    "training",
    "document_control",
    "complaints",
    "checks",
    "corrective_action",
    "management_review",
    "internal_audit",
)
_CODE = re.compile(r"^[A-Z][A-Z0-9-]{1,31}$")
_SHA = re.compile(r"^[0-9a-f]{64}$")
APPROVERS = frozenset({Role.PROTECTION_MANAGER.value})


def _audit(session: Session, actor: str, action: str, doc: RuleDocument) -> None:
    append(
        session,
        [AuditEvent(actor=actor, action=action, objects=(f"rule:{doc.code}", f"rule_version:{doc.id}"))],
    )


def draft(
    session: Session,
    *,
    code: str,
    version: str,
    title_ja: str,
    title_en: str,
    topics: list[str],
    sha256: str,
    actor: str,
) -> RuleDocument:
    problems: list[tuple[str, str]] = []
    if not _CODE.match(code):
        problems.append(("code", "an upper-case document code such as PMS-R01"))
    if not version.strip() or len(version) > 32:
        problems.append(("version", "1–32 characters"))
    for name, title in (("title_ja", title_ja), ("title_en", title_en)):
        if not title.strip() or len(title) > 200:
            problems.append((name, "1–200 characters"))
    unknown = sorted(set(topics) - set(MANDATORY_TOPICS))
    if unknown:
        problems.append(("topics", f"not topics of the checklist: {', '.join(unknown)}"))
    if not _SHA.match(sha256):
        problems.append(("sha256", "the SHA-256 of the document, 64 lower-case hex digits"))
    if session.scalar(
        select(RuleDocument.id).where(RuleDocument.code == code, RuleDocument.version == version)
    ):
        problems.append(("version", f"{code} {version} is already registered"))
    require(problems)
    doc = RuleDocument(
        code=code,
        version=version.strip(),
        title_ja=title_ja.strip(),
        title_en=title_en.strip(),
        topics=sorted(set(topics)),
        sha256=sha256,
        drafted_by=actor,
    )
    session.add(doc)
    session.flush()
    _audit(session, actor, "rules.drafted", doc)
    return doc


def approve(session: Session, doc_id: int, *, actor: str, now: datetime) -> RuleDocument:
    """Approve a draft: by a protection manager who did not draft it; it supersedes the earlier version."""
    doc = session.get(RuleDocument, doc_id)
    if doc is None:
        raise NotFound(f"no rule document {doc_id}")
    approver = get(session, actor)
    problems = []
    if doc.approved_at is not None:
        problems.append(("document", "already approved"))
    if APPROVERS.isdisjoint(approver.role_names):
        problems.append(("actor", "only a protection manager approves internal rules"))
    if f"staff:{approver.login}" == doc.drafted_by:
        problems.append(("actor", "the person who drafted a rule does not approve it"))
    require(problems)
    for earlier in session.scalars(
        select(RuleDocument).where(
            RuleDocument.code == doc.code,
            RuleDocument.approved_at.is_not(None),
            RuleDocument.superseded_at.is_(None),
        )
    ):
        earlier.superseded_at = now
    doc.approved_by, doc.approved_at = f"staff:{approver.login}", now
    _audit(session, f"staff:{approver.login}", "rules.approved", doc)
    return doc


def in_force(session: Session) -> list[RuleDocument]:
    return list(
        session.scalars(
            select(RuleDocument)
            .where(RuleDocument.approved_at.is_not(None), RuleDocument.superseded_at.is_(None))
            .order_by(RuleDocument.code)
        )
    )


def acknowledge(session: Session, doc_id: int, login: str, *, now: datetime) -> None:
    doc = session.get(RuleDocument, doc_id)
    if doc is None or doc.approved_at is None or doc.superseded_at is not None:
        raise NotFound(f"no rule document {doc_id} in force")
    staff = get(session, login)
    if session.scalar(
        select(RuleAcknowledgement.id).where(
            RuleAcknowledgement.document_id == doc_id, RuleAcknowledgement.staff_id == staff.id
        )
    ):
        return
    session.add(RuleAcknowledgement(document_id=doc_id, staff_id=staff.id, acknowledged_at=now))
    append(
        session,
        [
            AuditEvent(
                actor=f"staff:{staff.login}",
                action="rules.acknowledged",
                objects=(f"rule:{doc.code}", f"rule_version:{doc.id}"),
            )
        ],
    )


@dataclass(frozen=True)
class RulesStatus:
    missing_topics: list[str]  # checklist topics no approved rule in force covers
    #: login -> codes of rules in force they have not acknowledged (the first ``limit`` staff when limited)
    unacknowledged: dict[str, list[str]]
    drafts: list[RuleDocument]
    #: how many current staff have not acknowledged every rule in force
    unacknowledged_count: int = 0

    @property
    def conforming(self) -> bool:
        return not self.missing_topics and not self.unacknowledged_count


def status(session: Session, *, limit: int | None = None) -> RulesStatus:
    """Topics no rule in force covers, and current staff who have not acknowledged a rule in force
    (found in the database; the first ``limit`` of them by login when given, with their count)."""
    docs = in_force(session)
    covered = {t for d in docs for t in d.topics}

    def acknowledged(doc: RuleDocument) -> Any:
        return exists().where(
            RuleAcknowledgement.document_id == doc.id, RuleAcknowledgement.staff_id == Staff.id
        )

    lacking = and_(Staff.revoked_at.is_(None), or_(false(), *(~acknowledged(d) for d in docs)))
    count = int(session.scalar(select(func.count()).select_from(Staff).where(lacking)) or 0)
    query = select(Staff.id, Staff.login).where(lacking).order_by(Staff.login)
    staff = list(session.execute(query if limit is None else query.limit(limit)))
    acks: set[tuple[int, int]] = set()
    ids = [row.id for row in staff]
    for batch in (ids[i : i + 500] for i in range(0, len(ids), 500)):
        acks |= {
            (a, b)
            for a, b in session.execute(
                select(RuleAcknowledgement.document_id, RuleAcknowledgement.staff_id).where(
                    RuleAcknowledgement.staff_id.in_(batch)
                )
            )
        }
    missing = {row.login: [d.code for d in docs if (d.id, row.id) not in acks] for row in staff}
    drafts = list(session.scalars(select(RuleDocument).where(RuleDocument.approved_at.is_(None))))
    return RulesStatus(sorted(set(MANDATORY_TOPICS) - covered), missing, drafts, count)
