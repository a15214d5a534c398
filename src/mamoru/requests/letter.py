"""The words of the answer letter: the data held, grouped by category with each item in words; the
access history as sentences in Japan's time; the fee; whether an Individual Number is held.

Everything here is for a person to read: no field name, code or UTC time reaches the letter. The
machine-readable package (``data.json``, the CSV files) keeps the codes and UTC.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from mamoru.mynumber.tables import MnEntry
from mamoru.people.tables import Staff
from mamoru.policy.model import Policy
from mamoru.requests.tables import SubjectRequest
from mamoru.words import when, word, yen


@dataclass(frozen=True)
class FieldGroup:
    """The items of one category the organization holds about the person, in words."""

    category: str
    items: list[tuple[str, Any]]


def field_label(policy: Policy, field: str, lang: str) -> str:
    """An item of data in words (``field_bank_account`` in the catalog), else its category's name."""
    category = policy.fields.get(field)
    fallback = policy.category(category).name.in_(lang) if category else word("field_other", lang)
    return word(f"field_{field}", lang, default=fallback)


def purpose_label(policy: Policy, purpose: str, lang: str) -> str:
    """A purpose by its short name in the catalog (``purpose_my_number_staff``), else the policy's text."""
    known = {p.id: p for p in policy.purposes}
    fallback = known[purpose].text.in_(lang) if purpose in known else word("hist_purpose_other", lang)
    return word(f"purpose_{purpose}", lang, default=fallback)


def field_groups(policy: Policy, fields: list[dict[str, Any]], lang: str) -> list[FieldGroup]:
    """The disclosed fields grouped by category (the policy's order), each item by its label."""
    order = {c.id: i for i, c in enumerate(policy.categories)}
    groups: dict[str, list[tuple[str, Any]]] = {}
    for f in fields:
        groups.setdefault(f["category"] or "", []).append((field_label(policy, f["field"], lang), f["value"]))
    return [
        FieldGroup(
            policy.category(c).name.in_(lang) if c in order else word("field_other", lang),
            sorted(items, key=lambda item: str(item[0])),
        )
        for c, items in sorted(groups.items(), key=lambda kv: order.get(kv[0], len(order)))
    ]


def _departments(session: Session, entries: list[dict[str, Any]]) -> dict[str, str]:
    logins = {e["actor"].split(":", 1)[1] for e in entries if e["actor"].startswith("staff:")}
    if not logins:
        return {}
    rows = session.execute(select(Staff.login, Staff.department).where(Staff.login.in_(logins)))
    return {login: department for login, department in rows}


def _who(actor: str, departments: dict[str, str], lang: str) -> str:
    kind, _, name = actor.partition(":")
    if kind == "staff":
        department = departments.get(name)
        label = word(f"dept_{department}", lang, default="") if department else ""
        return word("hist_staff_of", lang).format(department=label) if label else word("hist_staff", lang)
    if kind == "subject":
        return word("hist_you", lang)
    return word("hist_system", lang)


def history_sentence(policy: Policy, entry: dict[str, Any], departments: dict[str, str], lang: str) -> str:
    """One entry of the access history as a sentence: when (JST), who (by department, never a login),
    what for, and whether it was allowed."""
    at = datetime.fromisoformat(entry["at"])
    who = _who(entry["actor"], departments, lang)
    action = entry["action"]
    if action.startswith("decision."):
        verb = word(
            f"hist_verb_{action.removeprefix('decision.')}", lang, default=word("hist_verb_use", lang)
        )
        outcome = word("hist_allowed" if entry.get("decision") == "allow" else "hist_denied", lang)
        if entry.get("purpose"):
            text = word("hist_decision_for", lang).format(
                who=who, purpose=purpose_label(policy, entry["purpose"], lang), verb=verb, outcome=outcome
            )
        else:
            text = word("hist_decision", lang).format(who=who, verb=verb, outcome=outcome)
    else:
        text = word(f"hist_action_{action.replace('.', '_')}", lang, default=word("hist_action_other", lang))
        text = text.format(who=who)
    return word("hist_line", lang).format(at=when(at, lang), text=text)


def history_sentences(
    session: Session, policy: Policy, entries: list[dict[str, Any]], lang: str
) -> list[str]:
    departments = _departments(session, entries)
    return [history_sentence(policy, e, departments, lang) for e in entries]


def fee_line(request: SubjectRequest, lang: str) -> str:
    """The fee in words: how much and whether it was received; empty when there is none."""
    if not request.fee_yen:
        return ""
    key = "letter_fee_received" if request.fee_status == "received" else "letter_fee_due"
    return word(key, lang).format(amount=yen(request.fee_yen, lang))


def holds_individual_number(session: Session, subject_ids: list[str]) -> bool:
    """Whether the My Number vault keeps an Individual Number (not yet disposed of) for any of them."""
    if not subject_ids:
        return False
    found = session.scalar(
        select(MnEntry.id).where(MnEntry.subject_id.in_(subject_ids), MnEntry.deleted_at.is_(None)).limit(1)
    )
    return found is not None
