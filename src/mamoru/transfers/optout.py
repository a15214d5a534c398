"""Provision by opt-out (APPI Art. 27(2)-(4)): off by default (``transfer_opt_out_enabled``). When on, a
recipient may get data by opt-out only while its notice items are declared in the policy, the notice in
force publishes them, provision has started, and the PPC filing of exactly those items is on record with
the PPC's publication of it. Special care-required data and data itself received by opt-out never go
(the policy check and the guard refuse them); a person's stop request is a cessation the guard honours.
"""

from __future__ import annotations

import hashlib
from datetime import date

import orjson
from sqlalchemy import select
from sqlalchemy.orm import Session

from mamoru.audit.chain import append
from mamoru.audit.entry import AuditEvent
from mamoru.errors import Invalid, NotFound, Problem, problem
from mamoru.policy.model import Policy, Recipient
from mamoru.transfers.tables import OptOutFiling


def opt_out_recipients(policy: Policy) -> list[Recipient]:
    """The recipients the policy declares for provision by opt-out."""
    return [r for r in policy.recipients if r.basis == "opt_out"]


def _recipient(policy: Policy, recipient_id: str) -> Recipient:
    recipient = next((r for r in opt_out_recipients(policy) if r.id == recipient_id), None)
    if recipient is None:
        raise Invalid(
            [
                problem(
                    "recipient", f"'{recipient_id}' is not an opt-out recipient of the policy", "not_opt_out"
                )
            ]
        )
    return recipient


def items_digest(policy: Policy, recipient: Recipient) -> str:
    """The digest of the nine items as the policy states them: a filing covers exactly these (a change of
    any of them needs a new filing, APPI Art. 27(3))."""
    org = policy.organization
    items = {
        "organization": [org.name.model_dump(), org.address.model_dump(), org.representative.model_dump()],
        "purposes": sorted(recipient.purposes),
        "categories": sorted(recipient.categories),
        "notice": recipient.opt_out.model_dump(mode="json") if recipient.opt_out else None,
    }
    return hashlib.sha256(orjson.dumps(items, option=orjson.OPT_SORT_KEYS)).hexdigest()


def record_filing(
    session: Session, policy: Policy, recipient_id: str, *, filed_on: date, filing_ref: str, actor: str
) -> OptOutFiling:
    """Record that the notice items of ``recipient_id`` as the policy now states them were filed with the PPC."""
    recipient = _recipient(policy, recipient_id)
    if not filing_ref.strip():
        raise Invalid(
            [problem("filing_ref", "give the reference of the filing (its receipt or document)", "missing")]
        )
    row = OptOutFiling(
        recipient=recipient.id,
        items_sha256=items_digest(policy, recipient),
        filed_on=filed_on,
        filing_ref=filing_ref.strip(),
        recorded_by=actor,
    )
    session.add(row)
    session.flush()
    append(
        session,
        [
            AuditEvent(
                actor=actor,
                action="transfer.opt_out_filed",
                objects=(f"opt_out_filing:{row.id}", f"recipient:{recipient.id}"),
            )
        ],
    )
    return row


def record_publication(
    session: Session, filing_id: int, *, ppc_publication_ref: str, published_on: date, actor: str
) -> OptOutFiling:
    """Record the PPC's publication of a filing (APPI Art. 27(4)); provision may start only after it."""
    row = session.get(OptOutFiling, filing_id)
    if row is None:
        raise NotFound(f"no opt-out filing {filing_id}")
    problems: list[Problem] = []
    if not ppc_publication_ref.strip():
        problems.append(problem("ppc_publication_ref", "give where the PPC published the filing", "missing"))
    if published_on < row.filed_on:
        problems.append(
            problem("published_on", "the PPC cannot publish a filing before it was filed", "before_filing")
        )
    if problems:
        raise Invalid(problems)
    row.ppc_publication_ref = ppc_publication_ref.strip()
    row.published_on = published_on
    append(
        session,
        [
            AuditEvent(
                actor=actor,
                action="transfer.opt_out_published",
                objects=(f"opt_out_filing:{row.id}", f"recipient:{row.recipient}"),
            )
        ],
    )
    return row


def filings(session: Session) -> list[OptOutFiling]:
    """Every opt-out filing, newest first."""
    return list(session.scalars(select(OptOutFiling).order_by(OptOutFiling.id.desc())))


def opt_out_problems(session: Session, policy: Policy, recipient_id: str, today: date) -> list[str]:
    """Why provision by opt-out to this recipient may not go on today (codes; empty when it may)."""
    recipient = next((r for r in opt_out_recipients(policy) if r.id == recipient_id), None)
    if recipient is None or recipient.opt_out is None:
        return ["opt_out_not_declared"]
    problems: list[str] = []
    if recipient.opt_out.starts_on is None or recipient.opt_out.starts_on > today:
        problems.append("opt_out_not_started")
    digest = items_digest(policy, recipient)
    latest = session.scalar(
        select(OptOutFiling)
        .where(OptOutFiling.recipient == recipient_id, OptOutFiling.withdrawn_on.is_(None))
        .order_by(OptOutFiling.id.desc())
        .limit(1)
    )
    if latest is None:
        problems.append("opt_out_not_filed")
    elif latest.items_sha256 != digest:
        problems.append("opt_out_items_changed")
    elif latest.published_on is None or latest.published_on > today:
        problems.append("opt_out_not_published")
    return problems
