"""One check of the whole PMS: every open non-conformity, by area."""

from __future__ import annotations

from datetime import date

from sqlalchemy.orm import Session

from mamoru.people import rules as rule_docs
from mamoru.people import training
from mamoru.pms import audits, controls, legal, risk
from mamoru.policy.model import Policy


def nonconformities(s: Session, policy: Policy, today: date) -> dict[str, list[str]]:
    """Every open non-conformity of the PMS, by area (what `mamoru pms check` and the console show)."""
    rules_status = rule_docs.status(s)
    return {
        "legal": [f"{i.code}: review overdue" for i in legal.overdue(s, today)],
        "risks": [f"{g.entry}: {g.problem}" for g in risk.gaps(s, today)],
        "controls": [f"{v.control.id}: {v.problem}" for v in controls.catalogue(s, today) if v.problem],
        "collection_pages": controls.integrity_check(s),
        "audits": [
            f"{g.ref}: {g.problem}" for g in audits.gaps(s, enacted_on=policy.enacted_on, today=today)
        ],
        "rules": [f"topic missing: {t}" for t in rules_status.missing_topics]
        + [
            f"{login}: not acknowledged {', '.join(codes)}"
            for login, codes in rules_status.unacknowledged.items()
        ],
        "training": [
            f"{login}: training lapsed"
            for login in training.overdue(s, today=today, valid_days=policy.staff.training_valid_days)
        ],
    }
