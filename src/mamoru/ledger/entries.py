"""The personal-information management ledger (JIS-1): create, validate, review, export."""

from __future__ import annotations

import io
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError
from sqlalchemy import ColumnElement, not_, or_, select, true
from sqlalchemy.orm import Session

from mamoru.audit.chain import append
from mamoru.audit.entry import AuditEvent
from mamoru.errors import Invalid, NotFound, Problem, problem
from mamoru.files import csv_text
from mamoru.law.retention import LEDGER_REVIEW_DAYS, review_overdue
from mamoru.ledger.tables import LedgerEntry
from mamoru.policy.model import Policy
from mamoru.store.listing import Filter, ListQuery, ListSpec, list_page
from mamoru.store.paging import Page
from mamoru.words import day, word

Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
Code = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_\-]{1,32}$")]


class LedgerEntryIn(BaseModel):
    """What a ledger entry must say. The seven JIS Q 15001 columns are required."""

    model_config = ConfigDict(extra="forbid")

    code: Code
    name: Text
    data_items: Annotated[list[str], Field(min_length=1)]
    purposes: Annotated[list[str], Field(min_length=1)]
    storage_location: Text
    storage_method: Text
    access_roles: Annotated[list[str], Field(min_length=1)]
    use_until: Text
    retention_rule: str | None = None
    retention_until: date | None = None
    subject_kinds: list[str] = Field(default_factory=list)
    acquisition_method: str | None = None
    notice_method: str | None = None
    consent: str | None = None
    recipients: list[str] = Field(default_factory=list)
    joint_use: str | None = None
    processors: list[str] = Field(default_factory=list)
    approx_count: Annotated[int, Field(ge=0)] | None = None
    medium: str | None = None
    disposal_method: str | None = None
    retained: bool = True


def _problems(data: dict[str, Any], policy: Policy) -> tuple[LedgerEntryIn | None, list[Problem]]:
    try:
        entry = LedgerEntryIn.model_validate(data)
    except ValidationError as exc:
        return None, Invalid.from_validation(exc, missing="required").problems
    problems: list[Problem] = []
    known = {
        "data_items": {c.id for c in policy.categories},
        "purposes": {p.id for p in policy.purposes},
        "subject_kinds": {k.id for k in policy.subject_kinds},
        "recipients": {r.id for r in policy.recipients},
        "processors": {p.id for p in policy.processors},
    }
    for name, ids in known.items():
        for value in getattr(entry, name):
            if value not in ids:
                problems.append(problem(name, f"'{value}' is not declared in the policy", "unknown"))
    if entry.retention_rule is None and entry.retention_until is None:
        problems.append(
            problem("retention", "state a retention rule of the policy or a retention-until date", "missing")
        )
    if entry.retention_rule is not None and entry.retention_rule not in {r.id for r in policy.retention}:
        problems.append(
            problem(
                "retention_rule", f"'{entry.retention_rule}' is not a retention rule of the policy", "unknown"
            )
        )
    return entry, problems


def validate_entry(data: dict[str, Any], policy: Policy) -> LedgerEntryIn:
    """Check a ledger entry against the model and the policy; raise with every problem."""
    entry, problems = _problems(data, policy)
    if problems or entry is None:
        raise Invalid(problems)
    return entry


def create_entry(session: Session, policy: Policy, data: dict[str, Any], actor: str) -> LedgerEntry:
    entry = validate_entry(data, policy)
    if session.scalar(select(LedgerEntry).where(LedgerEntry.code == entry.code)) is not None:
        raise Invalid([("code", f"a ledger entry '{entry.code}' already exists")])
    row = LedgerEntry(**entry.model_dump())
    session.add(row)
    session.flush()
    append(session, [AuditEvent(actor=actor, action="ledger.create", objects=(f"ledger:{row.code}",))])
    return row


def get_entry(session: Session, code: str) -> LedgerEntry:
    row = session.scalar(select(LedgerEntry).where(LedgerEntry.code == code))
    if row is None:
        raise NotFound(f"no ledger entry '{code}'")
    return row


def update_entry(
    session: Session, policy: Policy, code: str, changes: dict[str, Any], actor: str
) -> LedgerEntry:
    row = get_entry(session, code)
    current = {name: getattr(row, name) for name in LedgerEntryIn.model_fields}
    entry = validate_entry({**current, **changes, "code": code}, policy)
    for name, value in entry.model_dump().items():
        setattr(row, name, value)
    append(
        session,
        [
            AuditEvent(
                actor=actor,
                action="ledger.update",
                objects=(f"ledger:{code}", *(f"field:{c}" for c in sorted(changes))),
            )
        ],
    )
    return row


def review_entry(session: Session, code: str, reviewer: str, now: datetime) -> LedgerEntry:
    """Record that ``reviewer`` reviewed the entry now (the annual review, JIS-1)."""
    row = get_entry(session, code)
    row.last_reviewed_at = now
    row.reviewer = reviewer
    append(session, [AuditEvent(actor=reviewer, action="ledger.review", objects=(f"ledger:{code}",))])
    return row


def list_entries(session: Session) -> list[LedgerEntry]:
    return list(session.scalars(select(LedgerEntry).order_by(LedgerEntry.code)))


#: What the ledger list may be sorted and filtered by; ``review`` is read against the clock by
#: :func:`entry_page` (an entry never reviewed, or not within a year, is overdue).
LIST = ListSpec(
    sorts={
        "code": (LedgerEntry.code,),
        "name": (LedgerEntry.name,),
        "reviewed": (LedgerEntry.last_reviewed_at,),
    },
    default="code",
    tiebreak=LedgerEntry.id,
    filters={
        "review": Filter(values={"overdue", "current"}, where=lambda _: true()),
        "retained": Filter(values={"yes", "no"}, where=lambda v: LedgerEntry.retained.is_(v == "yes")),
    },
    search=(LedgerEntry.code, LedgerEntry.name),
)


def entry_page(session: Session, asked: ListQuery, now: datetime) -> Page[LedgerEntry]:
    """One page of the ledger as ``asked`` (see :data:`LIST`)."""
    since = now - timedelta(days=LEDGER_REVIEW_DAYS + 1)

    def reviewed(value: str) -> ColumnElement[bool]:
        overdue = or_(LedgerEntry.last_reviewed_at.is_(None), LedgerEntry.last_reviewed_at <= since)
        return overdue if value == "overdue" else not_(overdue)

    spec = replace(
        LIST, filters={**LIST.filters, "review": Filter(values={"overdue", "current"}, where=reviewed)}
    )
    return list_page(session, select(LedgerEntry), spec, asked)


@dataclass(frozen=True)
class EntryStatus:
    """What the ledger says of an entry beyond its columns."""

    code: str
    special_care: bool
    my_number: bool
    review_overdue: bool
    missing: tuple[str, ...]


def status(row: LedgerEntry, policy: Policy, now: datetime) -> EntryStatus:
    categories = {c.id: c for c in policy.categories}
    _, problems = _problems({name: getattr(row, name) for name in LedgerEntryIn.model_fields}, policy)
    return EntryStatus(
        code=row.code,
        special_care=any(categories[c].special_care for c in row.data_items if c in categories),
        my_number=any(categories[c].my_number for c in row.data_items if c in categories),
        review_overdue=review_overdue(row.last_reviewed_at, now),
        missing=tuple(sorted({p.field for p in problems})),
    )


#: The ledger's columns, in order; each one's heading is ``ledger_col_<column>`` in the one catalog.
COLUMNS: tuple[str, ...] = (
    "code",
    "name",
    "data_items",
    "purposes",
    "storage_location",
    "storage_method",
    "access_roles",
    "use_until",
    "retention",
    "subject_kinds",
    "special_care",
    "my_number",
    "acquisition_method",
    "notice_method",
    "consent",
    "recipients",
    "joint_use",
    "processors",
    "approx_count",
    "medium",
    "disposal_method",
    "retained",
    "last_reviewed_at",
    "reviewer",
    "review_overdue",
)


def _names(ids: list[str], lookup: dict[str, Any], lang: str) -> str:
    return (
        "、".join(lookup[i].in_(lang) if i in lookup else i for i in ids)
        if lang == "ja"
        else "; ".join(lookup[i].in_(lang) if i in lookup else i for i in ids)
    )


def _say(prefix: str, code: str | None, lang: str) -> str:
    """A code of the ledger in words (the catalog's ``<prefix><code>``); a value someone typed, as typed."""
    return word(f"{prefix}{code}", lang, default=code) if code else ""


def _role(code: str, lang: str) -> str:
    """Who may open the data: a system role by name, ``department_user:sales`` as the department's users."""
    role, _, department = code.partition(":")
    name = word(f"role_{role}", lang, default=role)
    if not department:
        return name
    where = word(f"dept_{department}", lang, default=department)
    return f"{name}（{where}）" if lang == "ja" else f"{name} ({where})"


def export_rows(rows: list[LedgerEntry], policy: Policy, lang: str, now: datetime) -> list[list[str]]:
    """The ledger as a table: a header row in ``lang``, then one row per entry."""
    categories = {c.id: c.name for c in policy.categories}
    purposes = {p.id: p.text for p in policy.purposes}
    kinds = {k.id: k.name for k in policy.subject_kinds}
    recipients = {r.id: r.name for r in policy.recipients}
    processors = {p.id: p.name for p in policy.processors}
    rules = {r.id: r.description for r in policy.retention}
    yes, no = ("あり", "なし") if lang == "ja" else ("yes", "no")
    sep = "、" if lang == "ja" else "; "
    table = [[word(f"ledger_col_{key}", lang) for key in COLUMNS]]
    for row in rows:
        st = status(row, policy, now)
        retention = day(row.retention_until, lang)
        if row.retention_rule:
            retention = (retention + " " if retention else "") + (
                rules[row.retention_rule].in_(lang) if row.retention_rule in rules else row.retention_rule
            )
        values = {
            "code": row.code,
            "name": row.name,
            "data_items": _names(row.data_items, categories, lang),
            "purposes": _names(row.purposes, purposes, lang),
            "storage_location": row.storage_location,
            "storage_method": row.storage_method,
            "access_roles": sep.join(_role(r, lang) for r in row.access_roles),
            "use_until": row.use_until,
            "retention": retention,
            "subject_kinds": _names(row.subject_kinds, kinds, lang),
            "special_care": yes if st.special_care else no,
            "my_number": yes if st.my_number else no,
            "acquisition_method": _say("ledger_source_", row.acquisition_method, lang),
            "notice_method": row.notice_method or "",
            "consent": row.consent or "",
            "recipients": _names(row.recipients, recipients, lang),
            "joint_use": row.joint_use or "",
            "processors": _names(row.processors, processors, lang),
            "approx_count": "" if row.approx_count is None else str(row.approx_count),
            "medium": _say("ledger_medium_", row.medium, lang),
            "disposal_method": row.disposal_method or "",
            "retained": yes if row.retained else no,
            "last_reviewed_at": day(row.last_reviewed_at, lang),  # the day in Japan, as people read it
            "reviewer": row.reviewer or "",
            "review_overdue": yes if st.review_overdue else no,
        }
        table.append([values[key] for key in COLUMNS])
    return table


def export_csv(rows: list[LedgerEntry], policy: Policy, lang: str, now: datetime) -> str:
    """CSV with a BOM so that Excel in Japan opens it in UTF-8; a cell that would start a formula is
    prefixed with an apostrophe."""
    return csv_text(export_rows(rows, policy, lang, now))


def export_xlsx(rows: list[LedgerEntry], policy: Policy, lang: str, now: datetime) -> bytes:
    """An Excel workbook of the ledger, header frozen and filtered, overdue reviews highlighted; every
    text is stored as text, so a value starting with ``=`` stays a value."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font, PatternFill

    table = export_rows(rows, policy, lang, now)
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "個人情報管理台帳" if lang == "ja" else "PI ledger"
    for line in table:
        sheet.append(line)
    for row_cells in sheet.iter_rows():
        for cell in row_cells:
            if isinstance(cell.value, str):
                cell.data_type = "s"  # text, never a formula, whatever it starts with
    for cell in sheet[1]:
        cell.font = Font(bold=True, color="FFFFFF")
        cell.fill = PatternFill("solid", fgColor="2B5D8A")
        cell.alignment = Alignment(wrap_text=True, vertical="top")
    overdue_column = len(COLUMNS)
    for row_cells in sheet.iter_rows(min_row=2):
        for cell in row_cells:
            cell.alignment = Alignment(wrap_text=True, vertical="top")
        if row_cells[overdue_column - 1].value in ("あり", "yes"):
            row_cells[overdue_column - 1].fill = PatternFill("solid", fgColor="F8D7DA")
    for index in range(1, len(COLUMNS) + 1):
        sheet.column_dimensions[sheet.cell(row=1, column=index).column_letter].width = 22
    sheet.freeze_panes = "B2"
    sheet.auto_filter.ref = sheet.dimensions
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


EXPORT_MEDIA = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


def export(rows: list[LedgerEntry], policy: Policy, lang: str, now: datetime, fmt: str) -> tuple[bytes, str]:
    """The ledger as a file in ``fmt`` (csv or xlsx) and its media type."""
    if fmt == "csv":
        return export_csv(rows, policy, lang, now).encode("utf-8"), EXPORT_MEDIA["csv"]
    return export_xlsx(rows, policy, lang, now), EXPORT_MEDIA["xlsx"]
