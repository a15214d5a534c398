"""Inquiries and complaints (APPI Art. 40): received by the portal form, e-mail, phone or letter; an
owner; actions; a first-response target and a closure target; closing without a recorded action is
refused; monthly statistics for the management review.

What the person wrote and how to reach them are sealed with a key of the inquiry's own (crypto-erasable);
the audit log sees only the reference, the kind and the channel.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import orjson
from sqlalchemy import ColumnElement, func, select, true
from sqlalchemy.orm import Session

from mamoru.audit.chain import append
from mamoru.audit.entry import AuditEvent
from mamoru.errors import NotFound, Problem, problem, require
from mamoru.law.deadlines import add_business_days
from mamoru.mail import CONTROL_IN_ADDRESS, has_control
from mamoru.people.tables import Inquiry, InquiryAction
from mamoru.policy.model import StaffRules
from mamoru.store.listing import Filter, ListQuery, ListSpec, list_page
from mamoru.store.paging import Page
from mamoru.vault.service import Vault

KINDS = ("inquiry", "complaint")
CHANNELS = ("portal", "email", "phone", "letter", "in_person")
CATEGORIES = ("notice", "handling", "request_procedure", "security", "contact", "my_number", "other")
#: What the public form offers: the Individual Number is asked about through the office, not the portal.
PORTAL_CATEGORIES = ("notice", "handling", "request_procedure", "security", "contact", "other")
ACTION_KINDS = ("response", "investigation", "correction", "escalation", "note")
OUTCOMES = ("answered", "resolved", "not_upheld", "withdrawn", "referred")
MAX_TEXT = 4000


@dataclass(frozen=True)
class InquiryIn:
    kind: str
    channel: str
    category: str
    name: str
    contact: str  # e-mail or phone, as the person gave it
    text: str


def _audit(session: Session, actor: str, action: str, inquiry: Inquiry, *reasons: str) -> None:
    append(
        session,
        [AuditEvent(actor=actor, action=action, objects=(f"inquiry:{inquiry.ref}",), reasons=reasons)],
    )


def check(data: InquiryIn) -> list[Problem]:
    problems = []
    if data.kind not in KINDS:
        problems.append(problem("kind", f"one of {', '.join(KINDS)}", "enum"))
    if data.channel not in CHANNELS:
        problems.append(problem("channel", f"one of {', '.join(CHANNELS)}", "enum"))
    if data.channel == "portal" and data.category not in PORTAL_CATEGORIES:
        problems.append(problem("category", "choose one of the listed categories", "enum"))
    elif data.category not in CATEGORIES:
        problems.append(problem("category", f"one of {', '.join(CATEGORIES)}", "enum"))
    if not data.text.strip():
        problems.append(problem("text", "say what the inquiry or complaint is about", "missing"))
    elif len(data.text) > MAX_TEXT:
        problems.append(problem("text", f"at most {MAX_TEXT} characters", "string_too_long"))
    if len(data.name) > 200:
        problems.append(problem("name", "at most 200 characters", "string_too_long"))
    if len(data.contact) > 254:
        problems.append(problem("contact", "at most 254 characters", "string_too_long"))
    elif has_control(data.contact):
        problems.append(problem("contact", CONTROL_IN_ADDRESS, "invalid"))
    return problems


def receive(
    session: Session, vault: Vault, data: InquiryIn, *, rules: StaffRules, actor: str, now: datetime
) -> Inquiry:
    require(check(data))
    count = session.scalar(select(func.count()).select_from(Inquiry)) or 0
    inquiry = Inquiry(
        ref=f"INQ-{now:%Y}-{count + 1:04d}",
        holder=str(uuid.uuid4()),
        kind=data.kind,
        channel=data.channel,
        category=data.category,
        sealed=b"",
        received_at=now,
        received_by=actor,
        first_response_due=add_business_days(now, rules.first_response_business_days),
        close_due=now + timedelta(days=rules.inquiry_close_days),
    )
    inquiry.sealed = vault.seal_private(
        inquiry.holder,
        "inquiry",
        orjson.dumps({"name": data.name.strip(), "contact": data.contact.strip(), "text": data.text.strip()}),
    )
    session.add(inquiry)
    session.flush()
    _audit(session, actor, "inquiry.received", inquiry, f"kind:{data.kind}", f"channel:{data.channel}")
    return inquiry


def contents(vault: Vault, inquiry: Inquiry) -> dict[str, str]:
    value: dict[str, str] = orjson.loads(vault.open_private(inquiry.holder, "inquiry", inquiry.sealed))
    return value


def note_text(vault: Vault, inquiry: Inquiry, action: InquiryAction) -> str:
    return vault.open_private(inquiry.holder, f"action:{action.id}", action.sealed_note).decode()


def get(session: Session, ref: str) -> Inquiry:
    found = session.scalar(select(Inquiry).where(Inquiry.ref == ref))
    if found is None:
        raise NotFound(f"no inquiry {ref}")
    return found


def assign(session: Session, inquiry: Inquiry, owner: str, *, actor: str) -> None:
    from mamoru.people.staff import get as get_staff

    staff = get_staff(session, owner)
    require([("owner", "this person has left")] if staff.revoked_at is not None else [])
    inquiry.owner = f"staff:{staff.login}"
    _audit(session, actor, "inquiry.assigned", inquiry, f"owner:{staff.login}")


def add_action(
    session: Session, vault: Vault, inquiry: Inquiry, *, kind: str, note: str, actor: str, now: datetime
) -> InquiryAction:
    problems = []
    if inquiry.closed_at is not None:
        problems.append(("inquiry", "closed; open a new inquiry"))
    if kind not in ACTION_KINDS:
        problems.append(("kind", f"one of {', '.join(ACTION_KINDS)}"))
    if not note.strip() or len(note) > MAX_TEXT:
        problems.append(("note", f"what was done, 1–{MAX_TEXT} characters"))
    require(problems)
    action = InquiryAction(inquiry_id=inquiry.id, kind=kind, sealed_note=b"", by=actor, at=now)
    inquiry.actions.append(action)
    session.flush()
    action.sealed_note = vault.seal_private(inquiry.holder, f"action:{action.id}", note.strip().encode())
    if kind == "response" and inquiry.first_response_at is None:
        inquiry.first_response_at = now
    if inquiry.owner is None:
        inquiry.owner = actor
    _audit(session, actor, "inquiry.action", inquiry, f"kind:{kind}")
    return action


def close(session: Session, inquiry: Inquiry, *, outcome: str, actor: str, now: datetime) -> None:
    """Close with an outcome: refused while no action is recorded (APPI Art. 40: handled, not shelved)."""
    problems = []
    if inquiry.closed_at is not None:
        problems.append(("inquiry", "already closed"))
    if not inquiry.actions:
        problems.append(("actions", "record what was done before closing"))
    if outcome not in OUTCOMES:
        problems.append(("outcome", f"one of {', '.join(OUTCOMES)}"))
    require(problems)
    inquiry.closed_at, inquiry.outcome = now, outcome
    _audit(session, actor, "inquiry.closed", inquiry, f"outcome:{outcome}")


def open_inquiries(session: Session) -> list[Inquiry]:
    return list(
        session.scalars(
            select(Inquiry).where(Inquiry.closed_at.is_(None)).order_by(Inquiry.first_response_due)
        )
    )


def _open_or_closed(value: str) -> ColumnElement[bool]:
    if value == "all":
        return true()
    return Inquiry.closed_at.is_not(None) if value == "closed" else Inquiry.closed_at.is_(None)


#: What the inquiry list may be sorted and filtered by (codes and dates only: what was written is sealed).
LIST = ListSpec(
    sorts={
        "first_response": (Inquiry.first_response_due,),
        "close": (Inquiry.close_due,),
        "ref": (Inquiry.ref,),
        "kind": (Inquiry.kind,),
        "channel": (Inquiry.channel,),
        "category": (Inquiry.category,),
    },
    default="first_response",
    tiebreak=Inquiry.id,
    filters={
        "state": Filter(values={"open", "closed", "all"}, where=_open_or_closed),
        "kind": Filter(Inquiry.kind, KINDS),
        "channel": Filter(Inquiry.channel, CHANNELS),
        "category": Filter(Inquiry.category, CATEGORIES),
    },
    search=(Inquiry.ref, Inquiry.owner),
)


def inquiry_page(session: Session, asked: ListQuery) -> Page[Inquiry]:
    """One page of the inquiries as ``asked`` (see :data:`LIST`): the open ones unless a state is chosen."""
    query = select(Inquiry)
    if "state" not in asked.filters:
        query = query.where(_open_or_closed("open"))
    return list_page(session, query, LIST, asked)


def recent(session: Session, limit: int = 50) -> list[Inquiry]:
    return list(session.scalars(select(Inquiry).order_by(Inquiry.received_at.desc()).limit(limit)))


@dataclass(frozen=True)
class MonthStats:
    month: str  # YYYY-MM
    inquiries: int
    complaints: int
    closed: int
    first_response_late: int
    mean_days_to_close: float | None


def monthly_stats(session: Session, *, since: date, until: date) -> list[MonthStats]:
    """Counts per month of receipt, from ``since`` up to (not including) ``until``."""
    rows: dict[str, dict[str, Any]] = defaultdict(
        lambda: {"inquiry": 0, "complaint": 0, "closed": 0, "late": 0, "days": []}
    )
    month = date(since.year, since.month, 1)
    while month < until:
        rows[f"{month:%Y-%m}"]
        month = date(month.year + month.month // 12, month.month % 12 + 1, 1)
    start, end = (datetime.combine(d, time(), tzinfo=UTC) for d in (since, until))
    for q in session.scalars(select(Inquiry).where(Inquiry.received_at >= start, Inquiry.received_at < end)):
        row = rows[f"{q.received_at:%Y-%m}"]
        row[q.kind] += 1
        answered = q.first_response_at or q.closed_at
        if (answered is None and q.first_response_due < datetime.now(q.first_response_due.tzinfo)) or (
            answered is not None and answered > q.first_response_due
        ):
            row["late"] += 1
        if q.closed_at is not None:
            row["closed"] += 1
            row["days"].append((q.closed_at - q.received_at).total_seconds() / 86400)
    return [
        MonthStats(
            month,
            r["inquiry"],
            r["complaint"],
            r["closed"],
            r["late"],
            round(sum(r["days"]) / len(r["days"]), 1) if r["days"] else None,
        )
        for month, r in sorted(rows.items())
    ]
