"""Uses of a dataset that the law restricts (APPI Arts. 41, 43-45): provision, joins, contact, reading the
processing method, matching. Each is decided by :func:`mamoru.deid.rules.decide_use` and audited here,
allowed or refused; a refusal raises :class:`DeidRefused` with the reason and its article, and its
audit entry stays (a :class:`~mamoru.errors.Refusal` commits the transaction it is raised in).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from mamoru.audit.chain import append
from mamoru.audit.entry import AuditEvent
from mamoru.deid.plan import Kind
from mamoru.deid.register import dataset, load_stored_plan
from mamoru.deid.rules import Basis, Use, UseRequest, UseVerdict, decide_use
from mamoru.deid.tables import DeidDataset, DeidProvision, DeidPublication
from mamoru.errors import Invalid, Refusal, problem
from mamoru.guard.decision import Reason
from mamoru.people.permissions import OFFICE
from mamoru.people.tables import Staff
from mamoru.policy.model import Policy
from mamoru.workspace import Workspace

#: The explicit statement a recipient of anonymized information must be given (APPI Art. 43(4)).
STATEMENT = {
    "ja": "この情報は個人情報の保護に関する法律に定める匿名加工情報です。",
    "en": "This information is anonymously processed information under the Act on the Protection of "
    "Personal Information.",
}


class DeidRefused(Refusal):
    """A use the law forbids for this kind of dataset; audited with its reason and article."""

    def __init__(self, verdict: UseVerdict) -> None:
        self.verdict = verdict
        super().__init__(f"{verdict.reason.value} ({verdict.article}): refused by rule {verdict.rule}")


def _office(session: Session, actor: str, now: datetime) -> bool:
    """The actor is a current member of the privacy office (people.permissions.OFFICE)."""
    staff = session.scalar(select(Staff).where(Staff.login == actor.removeprefix("staff:")))
    if staff is None or (staff.left_on is not None and staff.left_on <= now.date()):
        return False
    return not OFFICE.isdisjoint(staff.role_names)


def identifying_categories(policy: Policy, categories: Sequence[str]) -> bool:
    """Whether data of these categories identifies people (identifying or an identification code)."""
    flagged = {c.id for c in policy.categories if c.identifying or c.identification_code or c.my_number}
    return not flagged.isdisjoint(categories)


def _audit(
    session: Session, row: DeidDataset, use: Use, verdict: UseVerdict, actor: str, extra: Sequence[str] = ()
) -> None:
    reasons: tuple[str, ...] = (verdict.reason.value,)
    if verdict.article:
        reasons += (verdict.article,)
    append(
        session,
        [
            AuditEvent(
                actor=actor,
                action=f"deid.{use.value}",
                objects=(f"deid_dataset:{row.id}", f"kind:{row.kind}", *extra),
                decision="allow" if verdict.allow else "deny",
                reasons=reasons,
            )
        ],
    )


def decide(
    session: Session,
    dataset_id: str,
    use: Use,
    *,
    actor: str,
    now: datetime,
    basis: Basis | None = None,
    with_identifying: bool = False,
    provision_published: bool = False,
    statement: bool = False,
    extra: Sequence[str] = (),
) -> UseVerdict:
    """Decide one use and audit it; raises :class:`DeidRefused` on a refusal (its entry is kept)."""
    row = dataset(session, dataset_id)
    verdict = decide_use(
        UseRequest(
            kind=Kind(row.kind),
            use=use,
            basis=basis,
            received=row.received_from is not None,
            provision_published=provision_published,
            statement=statement,
            with_identifying=with_identifying,
            office=_office(session, actor, now) if use is Use.READ_METHOD else False,
        )
    )
    _audit(session, row, use, verdict, actor, extra)
    if not verdict.allow:
        raise DeidRefused(verdict)
    return verdict


def join(
    session: Session,
    ws: Workspace,
    dataset_id: str,
    *,
    other_categories: Sequence[str],
    actor: str,
    now: datetime,
) -> UseVerdict:
    """May the dataset be joined with data of ``other_categories``? Never with identifying data."""
    unknown = sorted(set(other_categories) - {c.id for c in ws.policy.policy.categories})
    if unknown:
        raise Invalid([problem("other_categories", f"not categories of the policy: {', '.join(unknown)}")])
    return decide(
        session,
        dataset_id,
        Use.JOIN,
        actor=actor,
        now=now,
        with_identifying=identifying_categories(ws.policy.policy, other_categories),
    )


def contact(session: Session, dataset_id: str, *, actor: str, now: datetime) -> UseVerdict:
    return decide(session, dataset_id, Use.CONTACT, actor=actor, now=now)


def match(session: Session, dataset_id: str, *, actor: str, now: datetime) -> UseVerdict:
    return decide(session, dataset_id, Use.MATCH, actor=actor, now=now)


def read_method(session: Session, dataset_id: str, *, actor: str, now: datetime) -> dict[str, object]:
    """The processing method (the plan): to the privacy office of the creator only (APPI Arts. 43(2), 45)."""
    decide(session, dataset_id, Use.READ_METHOD, actor=actor, now=now)
    row = dataset(session, dataset_id)
    assert row.plan_id is not None
    return load_stored_plan(session, row.plan_id, row.plan_version).model_dump(mode="json", by_alias=True)


def ask(
    session: Session,
    ws: Workspace,
    dataset_id: str,
    use: Use,
    *,
    other_categories: Sequence[str] = (),
    actor: str,
    now: datetime | None = None,
) -> UseVerdict:
    """Decide a restricted use (join, contact, match, reading the method) and audit it; a refusal comes
    back as a verdict here, with its audit entry kept, rather than as an error."""
    if use is Use.PROVIDE:
        raise Invalid([problem("use", "a provision is made with provide(), which records it")])
    when = now or datetime.now(UTC)
    try:
        if use is Use.JOIN:
            return join(session, ws, dataset_id, other_categories=other_categories, actor=actor, now=when)
        return decide(session, dataset_id, use, actor=actor, now=when)
    except DeidRefused as refused:
        return refused.verdict


def provide(
    session: Session,
    dataset_id: str,
    *,
    recipient: str,
    basis: Basis,
    actor: str,
    now: datetime,
    publication_id: int | None = None,
    statement: bool = False,
) -> DeidProvision:
    """Provide a dataset to another business and record it. Pseudonymized: only by entrustment, joint use
    or law (APPI Art. 41(6)). Anonymized: only after the items and method of this provision are published
    and with the explicit statement to the recipient (APPI Arts. 43(4), 44)."""
    if not recipient.strip():
        raise Invalid([problem("recipient", "name the recipient", "missing")])
    row = dataset(session, dataset_id)
    if row.status != "created":
        raise Invalid([problem("dataset", "the dataset is not created yet, or retired")])
    publication = None
    if publication_id is not None:
        publication = session.scalars(
            select(DeidPublication).where(
                DeidPublication.id == publication_id,
                DeidPublication.dataset_id == row.id,
                DeidPublication.kind == "provision",
            )
        ).first()
    decide(
        session,
        dataset_id,
        Use.PROVIDE,
        actor=actor,
        now=now,
        basis=basis,
        provision_published=publication is not None and publication.published_at <= now,
        statement=statement,
    )
    record = DeidProvision(
        dataset_id=row.id,
        recipient=recipient.strip(),
        basis=basis.value,
        publication_id=publication.id if publication else None,
        statement=STATEMENT["ja"] + " / " + STATEMENT["en"] if row.kind == Kind.ANONYMIZED.value else None,
        provided_by=actor,
        provided_at=now,
    )
    session.add(record)
    session.flush()
    return record


def provisions(session: Session, dataset_id: str | None = None) -> list[DeidProvision]:
    query = select(DeidProvision).order_by(DeidProvision.provided_at.desc())
    if dataset_id is not None:
        query = query.where(DeidProvision.dataset_id == dataset_id)
    return list(session.scalars(query))


__all__ = ["STATEMENT", "Basis", "DeidRefused", "Reason", "Use", "contact", "join", "match", "provide"]
