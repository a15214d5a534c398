"""One check of the whole PMS: every open non-conformity, by area."""

from __future__ import annotations

from datetime import date

from sqlalchemy.orm import Session

from mamoru.people import rules as rule_docs
from mamoru.people import training
from mamoru.pms import audits, controls, legal, risk
from mamoru.policy.model import Policy
from mamoru.words import day, word


class Findings(list[str]):
    """The findings of one area: every one, or the first of them when the check was limited, with
    ``total`` saying how many there are in all."""

    def __init__(self, items: list[str], total: int | None = None) -> None:
        super().__init__(items)
        self.total = len(items) if total is None else total


def _say(lang: str | None, key: str, english: str, **values: object) -> str:
    """One finding in words: ``english`` for the CLI and the API (``lang`` None), else the catalog's
    ``pms_<key>`` in ``lang``."""
    return (english if lang is None else word(f"pms_{key}", lang, default=english)).format(**values)


def _problem(lang: str | None, code: str) -> str:
    """A problem code (``missing_stage:storage``) in words: the code for machines, else its label."""
    name, _, detail = code.partition(":")
    if lang is None:
        return code
    said = word(f"pms_problem_{name}", lang, default=name)
    if name == "missing_stage" and detail:
        return f"{said}（{word(f'pms_stage_{detail}', lang, default=detail)}）"
    return said


def nonconformities(
    s: Session, policy: Policy, today: date, *, limit: int | None = None, lang: str | None = None
) -> dict[str, Findings]:
    """Every open non-conformity of the PMS, by area (what `mamoru pms check` and the console show);
    with ``limit``, the areas that grow with the staff list only their first ``limit`` findings (counted
    in the database, so the page stays fast at any size). With ``lang``, each finding is in the words
    of that language (the console); without it, in English with its codes (the CLI and the API)."""
    rules_status = rule_docs.status(s, limit=limit)
    valid_days = policy.staff.training_valid_days
    return {
        "legal": Findings(
            [
                _say(lang, "legal_overdue", "{code}: review overdue", code=i.code)
                for i in legal.overdue(s, today)
            ]
        ),
        "risks": Findings([f"{g.entry}: {_problem(lang, g.problem)}" for g in risk.gaps(s, today)]),
        "controls": Findings(
            [
                f"{v.control.id}: {_problem(lang, v.problem)}"
                for v in controls.catalogue(s, today)
                if v.problem
            ]
        ),
        "collection_pages": Findings(
            [
                _say(lang, "page_changed", "{path}: changed", path=line.rsplit(": ", 1)[0])
                for line in controls.integrity_check(s)
            ]
        ),
        "audits": Findings(
            [
                f"{_ref(lang, g.ref)}: {_problem(lang, g.problem)}"
                for g in audits.gaps(s, enacted_on=policy.enacted_on, today=today)
            ]
        ),
        "rules": Findings(
            [
                _say(
                    lang,
                    "topic_missing",
                    "topic missing: {topic}",
                    topic=t if lang is None else word(f"rule_topic_{t}", lang),
                )
                for t in rules_status.missing_topics
            ]
            + [
                _say(
                    lang,
                    "not_acknowledged",
                    "{login}: not acknowledged {codes}",
                    login=login,
                    codes=", ".join(codes),
                )
                for login, codes in rules_status.unacknowledged.items()
            ],
            len(rules_status.missing_topics) + rules_status.unacknowledged_count,
        ),
        "training": Findings(
            [
                _say(lang, "training_lapsed", "{login}: training lapsed", login=login)
                for login in training.overdue(s, today=today, valid_days=valid_days, limit=limit)
            ],
            training.overdue_count(s, today=today, valid_days=valid_days),
        ),
    }


def _ref(lang: str | None, ref: str) -> str:
    """Where an audit gap is: a PMS year (``2025-04-01..2026-04-01``), a finding or an action."""
    if lang is None:
        return ref
    if ".." in ref:
        start, _, end = ref.partition("..")
        return _say(lang, "period", "{start} – {end}", start=day(start, lang), end=day(end, lang))
    kind, _, number = ref.partition(":")
    return _say(lang, f"ref_{kind}", kind + " {n}", n=number)
