"""Risk assessment (JIS-3): for every ledger entry, its risks at each stage of the lifecycle, the
controls that treat them, and the residual risk, which someone must accept when it stays high."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from mamoru.audit.chain import append
from mamoru.audit.entry import AuditEvent
from mamoru.errors import NotFound, require
from mamoru.ledger.tables import LedgerEntry
from mamoru.pms.tables import RiskItem

#: The lifecycle stages JIS Q 15001 practice assesses (PrivacyMark J.3.1.3).
STAGES = ("acquisition", "transfer", "use", "storage", "disposal")
#: What each stage is usually exposed to and the catalogue controls that answer it (a draft to edit).
DEFAULTS: dict[str, tuple[str, list[str]]] = {
    "acquisition": ("legal_violation", ["GL-10-2-1", "GL-10-6-4"]),
    "transfer": ("leak", ["GL-10-6-3", "GL-10-6-4"]),
    "use": ("leak", ["GL-10-6-1", "GL-10-6-2", "GL-10-3-3"]),
    "storage": ("loss", ["GL-10-5-2", "GL-10-6-1"]),
    "disposal": ("leak", ["GL-10-5-4"]),
}
LEVELS = ("low", "medium", "high")
REVIEW_DAYS = 365


def level(likelihood: int, impact: int) -> str:
    score = likelihood * impact
    return "high" if score >= 6 else "medium" if score >= 3 else "low"


def draft_all(session: Session, *, today: date, actor: str) -> int:
    """Draft the missing risk items of every ledger entry; how many were drafted."""
    return sum(
        draft_for_entry(session, entry, today=today, actor=actor)
        for entry in session.scalars(select(LedgerEntry))
    )


def draft_for_entry(session: Session, entry: LedgerEntry, *, today: date, actor: str) -> int:
    """One risk item per lifecycle stage that has none yet; returns how many were drafted."""
    have = {r.stage for r in session.scalars(select(RiskItem).where(RiskItem.ledger_entry_id == entry.id))}
    added = 0
    for stage in STAGES:
        if stage in have:
            continue
        threat, controls = DEFAULTS[stage]
        session.add(
            RiskItem(
                ledger_entry_id=entry.id,
                stage=stage,
                threat=threat,
                likelihood=2,
                impact=2,
                controls=controls,
                residual="low",
                reviewed_on=today,
            )
        )
        added += 1
    if added:
        append(
            session,
            [
                AuditEvent(
                    actor=actor,
                    action="risk.drafted",
                    objects=(f"ledger:{entry.code}",),
                    counts={"items": added},
                )
            ],
        )
    return added


def assess(
    session: Session,
    item_id: int,
    *,
    likelihood: int,
    impact: int,
    controls: list[str],
    residual: str,
    accepted_by: str | None,
    today: date,
    actor: str,
) -> RiskItem:
    """Record an assessment. A high residual risk needs the name of whoever accepts it."""
    from mamoru.pms.controls import CATALOGUE

    item = session.get(RiskItem, item_id)
    if item is None:
        raise NotFound(f"no risk item {item_id}")
    problems = []
    for name, value in (("likelihood", likelihood), ("impact", impact)):
        if value not in (1, 2, 3):
            problems.append((name, "1 (low), 2 or 3 (high)"))
    unknown = sorted(set(controls) - {c.id for c in CATALOGUE})
    if unknown:
        problems.append(("controls", f"not in the control catalogue: {', '.join(unknown)}"))
    if residual not in LEVELS:
        problems.append(("residual", "low, medium or high"))
    elif residual == "high" and not accepted_by:
        problems.append(("accepted_by", "a high residual risk must be accepted by name (JIS Q 15001 6.1.3)"))
    require(problems)
    item.likelihood, item.impact, item.controls = likelihood, impact, sorted(set(controls))
    item.residual, item.accepted_by, item.reviewed_on = residual, accepted_by, today
    append(
        session,
        [
            AuditEvent(
                actor=actor,
                action="risk.assessed",
                objects=(f"risk:{item.id}",),
                reasons=(f"residual:{residual}",),
            )
        ],
    )
    return item


@dataclass(frozen=True)
class RiskGap:
    entry: str
    problem: str  # missing_stage:<stage>, high_not_accepted:<id>, review_overdue:<id>


def gaps(session: Session, today: date) -> list[RiskGap]:
    """Non-conformities: ledger entries without an item for every stage, high residual risks nobody
    accepted, and items not reviewed within a year."""
    found: list[RiskGap] = []
    by_entry: dict[int, list[RiskItem]] = {}
    for item in session.scalars(select(RiskItem)):
        by_entry.setdefault(item.ledger_entry_id, []).append(item)
    for entry in session.scalars(select(LedgerEntry).order_by(LedgerEntry.code)):
        items = by_entry.get(entry.id, [])
        for stage in STAGES:
            if stage not in {i.stage for i in items}:
                found.append(RiskGap(entry.code, f"missing_stage:{stage}"))
        for i in items:
            if i.residual == "high" and not i.accepted_by:
                found.append(RiskGap(entry.code, f"high_not_accepted:{i.id}"))
            if i.reviewed_on < today - timedelta(days=REVIEW_DAYS):
                found.append(RiskGap(entry.code, f"review_overdue:{i.id}"))
    return found


def register(session: Session) -> list[tuple[LedgerEntry, list[RiskItem]]]:
    items: dict[int, list[RiskItem]] = {}
    for item in session.scalars(select(RiskItem).order_by(RiskItem.id)):
        items.setdefault(item.ledger_entry_id, []).append(item)
    return [(e, items.get(e.id, [])) for e in session.scalars(select(LedgerEntry).order_by(LedgerEntry.code))]
