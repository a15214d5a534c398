"""One check of the whole PMS: every open non-conformity, by area."""

from __future__ import annotations

from datetime import date

from sqlalchemy.orm import Session

from mamoru.people import rules as rule_docs
from mamoru.people import training
from mamoru.pms import audits, controls, legal, risk
from mamoru.policy.model import Policy


class Findings(list[str]):
    """The findings of one area: every one, or the first of them when the check was limited, with
    ``total`` saying how many there are in all."""

    def __init__(self, items: list[str], total: int | None = None) -> None:
        super().__init__(items)
        self.total = len(items) if total is None else total


def nonconformities(
    s: Session, policy: Policy, today: date, *, limit: int | None = None
) -> dict[str, Findings]:
    """Every open non-conformity of the PMS, by area (what `mamoru pms check` and the console show);
    with ``limit``, the areas that grow with the staff list only their first ``limit`` findings (counted
    in the database, so the page stays fast at any size)."""
    rules_status = rule_docs.status(s, limit=limit)
    valid_days = policy.staff.training_valid_days
    return {
        "legal": Findings([f"{i.code}: review overdue" for i in legal.overdue(s, today)]),
        "risks": Findings([f"{g.entry}: {g.problem}" for g in risk.gaps(s, today)]),
        "controls": Findings(
            [f"{v.control.id}: {v.problem}" for v in controls.catalogue(s, today) if v.problem]
        ),
        "collection_pages": Findings(controls.integrity_check(s)),
        "audits": Findings(
            [f"{g.ref}: {g.problem}" for g in audits.gaps(s, enacted_on=policy.enacted_on, today=today)]
        ),
        "rules": Findings(
            [f"topic missing: {t}" for t in rules_status.missing_topics]
            + [
                f"{login}: not acknowledged {', '.join(codes)}"
                for login, codes in rules_status.unacknowledged.items()
            ],
            len(rules_status.missing_topics) + rules_status.unacknowledged_count,
        ),
        "training": Findings(
            [
                f"{login}: training lapsed"
                for login in training.overdue(s, today=today, valid_days=valid_days, limit=limit)
            ],
            training.overdue_count(s, today=today, valid_days=valid_days),
        ),
    }
