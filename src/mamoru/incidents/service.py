"""The incident register: open, classify, keep the clock, work the six stages, report, notify, close.

Every function takes ``now``; nothing sleeps or reads the clock, so a test can step through the days.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from enum import StrEnum
from typing import Any

import orjson
from sqlalchemy import ColumnElement, String, cast, func, or_, select, true
from sqlalchemy.orm import Session

from mamoru import outbox
from mamoru.audit.chain import append
from mamoru.audit.entry import AuditEvent
from mamoru.errors import Invalid, NotFound, Problem, problem, require
from mamoru.guard.decision import Action
from mamoru.guard.engine import BREACH_NOTICE
from mamoru.guard.service import decide_and_record
from mamoru.incidents.tables import Incident, IncidentNotice, IncidentReport
from mamoru.law.breach import BreachFacts, Classification, ReportClock, classify, report_clock
from mamoru.references import reference_problem
from mamoru.store.listing import Filter, ListQuery, ListSpec, list_page
from mamoru.store.paging import Page
from mamoru.vault.service import Vault
from mamoru.words import JST, day, when, word
from mamoru.workspace import Workspace


class Stage(StrEnum):
    """The six steps of handling (My Number notice; APPI guideline alike, APPI-26h), in order."""

    ESCALATION = "escalation"  # reported inside to the person responsible
    CONTAINMENT = "containment"  # damage stopped from spreading
    INVESTIGATION = "investigation"  # facts and cause established
    IMPACT = "impact"  # scope of impact determined
    PREVENTION = "prevention"  # recurrence prevented
    CONTACT = "contact"  # persons contacted, publication decided, authorities reported


#: The nine items of the PPC report (Rules Art. 8(1)).
REPORT_ITEMS = (
    "overview",
    "data_items",
    "affected_count",
    "cause",
    "secondary_damage",
    "response_to_individuals",
    "publication",
    "prevention",
    "other",
)
#: What a notice to a person must say (Rules Art. 10).
NOTICE_ITEMS = ("overview", "data_items", "cause", "secondary_damage", "other")
NARRATIVE = tuple(i for i in REPORT_ITEMS if i != "affected_count")
FACT_FIELDS = (
    "affected_count",
    "special_care",
    "financial_risk",
    "improper_purpose",
    "suspected_only",
    "encrypted",
    "key_compromised",
    "pseudonymized_only",
    "my_number",
    "mn_network_system",
    "mn_publicly_viewable",
    "not_a_leak",
    "org_type",
    "delegated_sector",
    "medium",
    "processor",
    "occurred_at",
)


def _audit(session: Session, actor: str, action: str, incident: Incident, *extra: str, **kw: Any) -> None:
    append(
        session,
        [AuditEvent(actor=actor, action=action, objects=(f"incident:{incident.ref}", *extra), **kw)],
    )


def narrative(vault: Vault, incident: Incident) -> dict[str, str]:
    value: dict[str, str] = orjson.loads(vault.open_private(incident.holder, "narrative", incident.sealed))
    return value


def _seal(vault: Vault, incident: Incident, text: dict[str, str]) -> None:
    incident.sealed = vault.seal_private(incident.holder, "narrative", orjson.dumps(text))


def facts(incident: Incident) -> BreachFacts:
    return BreachFacts(
        affected_count=incident.affected_count,
        special_care=incident.special_care,
        financial_risk=incident.financial_risk,
        improper_purpose=incident.improper_purpose,
        suspected_only=incident.suspected_only,
        encrypted=incident.encrypted,
        key_compromised=incident.key_compromised,
        pseudonymized_only=incident.pseudonymized_only,
        my_number=incident.my_number,  # type: ignore[arg-type]
        mn_network_system=incident.mn_network_system,
        mn_publicly_viewable=incident.mn_publicly_viewable,
        not_a_leak=incident.not_a_leak,
    )


def classification(incident: Incident) -> Classification:
    return classify(facts(incident))


def clock(incident: Incident) -> ReportClock:
    return report_clock(incident.aware_at, improper_purpose=classification(incident).improper_purpose)


def open_incident(
    session: Session,
    vault: Vault,
    *,
    aware_at: datetime,
    actor: str,
    now: datetime,
    source: str = "manual",
    draft: bool = False,
    overview: str = "",
    **fields: Any,
) -> Incident:
    """Register an incident from its first staff awareness (the clock starts then, not when managers learn)."""
    if aware_at > now:
        raise Invalid([("aware_at", "awareness cannot be in the future")])
    count = session.scalar(select(func.count()).select_from(Incident)) or 0
    incident = Incident(
        ref=f"INC-{now:%Y}-{count + 1:04d}",
        holder=str(uuid.uuid4()),
        status="draft" if draft else "open",
        source=source,
        opened_at=now,
        opened_by=actor,
        aware_at=aware_at,
        sealed=b"",
        stages={},
        subjects=[],
    )
    _seal(vault, incident, {item: "" for item in NARRATIVE} | {"overview": overview})
    session.add(incident)
    update(session, vault, incident, actor=actor, **fields)
    session.flush()
    _audit(session, actor, "incident.opened", incident, reasons=(f"source:{source}",))
    return incident


def update(session: Session, vault: Vault, incident: Incident, *, actor: str, **fields: Any) -> Incident:
    """Change facts (flags, counts, routing answers) and narrative items; unknown names are refused."""
    if incident.status == "closed":
        raise Invalid(
            [problem("status", "a closed incident is not changed; open a new one", "incident_closed")]
        )
    unknown = sorted(set(fields) - set(FACT_FIELDS) - set(NARRATIVE) - {"subjects"})
    if unknown:
        raise Invalid([(name, "not a field of an incident") for name in unknown])
    if "my_number" in fields and fields["my_number"] not in ("yes", "no", "unknown"):
        raise Invalid([("my_number", "yes, no or unknown (unknown is reported as yes)")])
    if "affected_count" in fields and int(fields["affected_count"]) < 0:
        raise Invalid([("affected_count", "a count of persons, 0 or more")])
    if "subjects" in fields:
        subjects = fields["subjects"]
        if not isinstance(subjects, list | tuple):
            raise Invalid([("subjects", "a list of subject references is expected")])
        require((f"subjects.{i}", why) for i, s in enumerate(subjects) if (why := reference_problem(s)))
    text = narrative(vault, incident)
    for name, value in fields.items():
        if name in NARRATIVE:
            text[name] = str(value).strip()
        elif name == "subjects":
            incident.subjects = sorted(set(value))
        else:
            setattr(incident, name, value)
    _seal(vault, incident, text)
    if incident.id is not None:
        _audit(
            session, actor, "incident.updated", incident, reasons=tuple(f"field:{n}" for n in sorted(fields))
        )
    return incident


def get(session: Session, ref: str) -> Incident:
    incident = session.scalar(select(Incident).where(Incident.ref == ref))
    if incident is None and ref.isascii() and ref.isdigit() and len(ref) < 10:
        incident = session.get(Incident, int(ref))
    if incident is None:
        raise NotFound(f"no incident {ref}")
    return incident


def complete_stage(
    session: Session, vault: Vault, incident: Incident, stage: Stage, *, note: str, actor: str, now: datetime
) -> None:
    """Record that a stage is done, with what was done (the note is sealed with the narrative)."""
    if not note.strip():
        raise Invalid([("note", f"say what was done for {stage.value}")])
    if incident.status == "closed":
        raise Invalid([("status", "the incident is closed")])
    incident.stages = {**incident.stages, stage.value: {"at": now.isoformat(), "by": actor}}
    text = narrative(vault, incident)
    text[f"stage:{stage.value}"] = note.strip()
    _seal(vault, incident, text)
    if incident.status == "draft":
        incident.status = "open"
    _audit(session, actor, "incident.stage_done", incident, reasons=(f"stage:{stage.value}",))


def close(session: Session, incident: Incident, *, actor: str, now: datetime) -> None:
    """Close an incident; refused while any of the six stages is empty (APPI-26h)."""
    missing = [s.value for s in Stage if s.value not in incident.stages]
    if missing:
        raise Invalid([("stages", f"these stages are not done: {', '.join(missing)}")])
    incident.status, incident.closed_at, incident.closed_by = "closed", now, actor
    _audit(session, actor, "incident.closed", incident)


class ReportKind(StrEnum):
    PPC_PRELIM = "ppc_prelim"
    PPC_FINAL = "ppc_final"
    PMARK_PRELIM = "pmark_prelim"
    PMARK_FINAL = "pmark_final"


def report_content(ws: Workspace, session: Session, incident: Incident, kind: ReportKind) -> dict[str, Any]:
    """What the report says: routing answers, the reporter (the entity), the clock and the nine items."""
    policy = ws.policy.policy
    c = classification(incident)
    k = clock(incident)
    text = narrative(ws.vault, incident)
    items: dict[str, Any] = {item: text.get(item, "") for item in NARRATIVE}
    items["affected_count"] = incident.affected_count
    content: dict[str, Any] = {
        "report_type": kind.value,
        "incident": incident.ref,
        "reporter_entity_name": policy.organization.name.ja,
        "reporter_entity_name_en": policy.organization.name.en,
        "routing": {
            "q1_contains_my_number": "yes" if c.route_my_number else "no",
            "q2_org_type": incident.org_type,
            "q3_delegated_sector": incident.delegated_sector,
        },
        "aware_at": incident.aware_at.isoformat(),
        "occurred_at": incident.occurred_at.isoformat() if incident.occurred_at else "unknown",
        "categories": sorted(x.value for x in c.categories),
        "my_number_grounds": sorted(x.value for x in c.my_number_grounds),
        "reportable": c.reportable,
        "my_number_reportable": c.my_number_reportable,
        "suspected_only": c.suspected_only,
        "exemption": c.exemption,
        "deadlines": {
            "prelim_warning": k.prelim_warning.isoformat(),
            "prelim_due": k.prelim_due.isoformat(),
            "final_conservative": k.final_conservative.isoformat(),
            "final_lenient": k.final_lenient.isoformat(),
        },
        "items": items,
    }
    if kind in (ReportKind.PMARK_PRELIM, ReportKind.PMARK_FINAL):
        content["medium"] = incident.medium
        content["stages"] = {s.value: text.get(f"stage:{s.value}", "") for s in Stage}
    return content


def missing_items(content: dict[str, Any]) -> list[str]:
    items = content["items"]
    return [i for i in REPORT_ITEMS if i != "affected_count" and not str(items.get(i, "")).strip()] + (
        ["affected_count"] if not items.get("affected_count") else []
    )


def submit_report(
    session: Session, ws: Workspace, incident: Incident, kind: ReportKind, *, actor: str, now: datetime
) -> IncidentReport:
    """Keep the report as submitted. A final report with any of the nine items empty is refused (APPI-26d)."""
    content = report_content(ws, session, incident, kind)
    if kind in (ReportKind.PPC_FINAL, ReportKind.PMARK_FINAL):
        missing = missing_items(content)
        if missing:
            raise Invalid([("items", f"a final report needs every item; empty: {', '.join(missing)}")])
    if kind in (ReportKind.PPC_PRELIM, ReportKind.PPC_FINAL) and not classification(incident).any_reportable:
        raise Invalid([("kind", "this incident is not reportable to the PPC; file the PrivacyMark report")])
    row = IncidentReport(
        incident_id=incident.id,
        kind=kind.value,
        submitted_at=now,
        submitted_by=actor,
        sealed=ws.vault.seal_private(incident.holder, f"report:{kind.value}", orjson.dumps(content)),
    )
    session.add(row)
    session.flush()
    _audit(
        session,
        actor,
        "incident.report_submitted",
        incident,
        f"report:{row.id}",
        reasons=(f"kind:{kind.value}",),
    )
    return row


def submitted(session: Session, incident: Incident) -> set[str]:
    return set(session.scalars(select(IncidentReport.kind).where(IncidentReport.incident_id == incident.id)))


@dataclass(frozen=True)
class ClockView:
    incident: Incident
    classification: Classification
    clock: ReportClock
    state: str
    pmark_state: str


def _views(session: Session, incidents: list[Incident], today: date) -> list[ClockView]:
    """Each incident with its deadlines as of ``today`` (its reports read in batches of 500)."""
    views = []
    reports: dict[int, set[str]] = {i.id: set() for i in incidents}
    for batch in (list(reports)[i : i + 500] for i in range(0, len(reports), 500)):
        for incident_id, kind in session.execute(
            select(IncidentReport.incident_id, IncidentReport.kind).where(
                IncidentReport.incident_id.in_(batch)
            )
        ):
            reports[incident_id].add(kind)
    for incident in incidents:
        c = classification(incident)
        k = report_clock(incident.aware_at, improper_purpose=c.improper_purpose)
        done = reports[incident.id]
        ppc = (
            k.state(
                today, prelim_done="ppc_prelim" in done or "ppc_final" in done, final_done="ppc_final" in done
            )
            if c.any_reportable
            else "not_reportable"
        )
        pmark = k.state(
            today,
            prelim_done=not c.privacymark_prelim_required or bool(done & {"pmark_prelim", "pmark_final"}),
            final_done="pmark_final" in done,
        )
        views.append(ClockView(incident, c, k, ppc, pmark))
    return views


def _not_closed_or_every(value: str) -> ColumnElement[bool]:
    return true() if value == "all" else Incident.status == value


#: What the incident list may be sorted and filtered by; without a status it shows those not closed.
INCIDENTS = ListSpec(
    sorts={
        "aware": (Incident.aware_at,),
        "ref": (Incident.ref,),
        "status": (Incident.status,),
        "persons": (Incident.affected_count,),
    },
    default="aware",
    tiebreak=Incident.id,
    filters={"status": Filter(values={"all", "draft", "open", "closed"}, where=_not_closed_or_every)},
    search=(Incident.ref,),
)


def clock_page(session: Session, today: date, asked: ListQuery) -> Page[ClockView]:
    """One page of the incidents as ``asked`` (see :data:`INCIDENTS`), each with its deadlines as of
    ``today``; sorted, filtered and counted in the database."""
    query = select(Incident)
    if "status" not in asked.filters:
        query = query.where(Incident.status != "closed")
    found = list_page(session, query, INCIDENTS, asked)
    return Page(_views(session, found.items, today), found.number, found.size, found.total)


def open_clocks(session: Session, today: date) -> list[ClockView]:
    """Every incident not closed, with its deadlines as of ``today``, the most urgent first."""
    incidents = list(
        session.scalars(select(Incident).where(Incident.status != "closed").order_by(Incident.aware_at))
    )
    views = _views(session, incidents, today)
    order = {"prelim_overdue": 0, "final_overdue": 1, "prelim_warning": 2, "final_warning": 3}
    return sorted(
        views, key=lambda v: (min(order.get(v.state, 9), order.get(v.pmark_state, 9)), v.incident.aware_at)
    )


@dataclass
class NoticeResult:
    emailed: list[str]
    alternative: list[str]
    uncovered: list[str]


def notice_states(session: Session, incident: Incident) -> dict[str, str]:
    """Each notified person's notice: ``sent``, ``queued`` (or being sent), ``failed`` (the address was
    refused or every try failed; :func:`notify_persons` again queues it anew) or ``alternative``."""
    notices = list(session.scalars(select(IncidentNotice).where(IncidentNotice.incident_id == incident.id)))
    mail = outbox.states(session, [n.message_id for n in notices if n.channel == "email" and n.message_id])
    states: dict[str, str] = {}
    for notice in notices:
        if notice.channel != "email":
            states[notice.subject_id] = "alternative"
            continue
        status = mail.get(notice.message_id or "", outbox.MailStatus.FAILED.value)
        states[notice.subject_id] = "queued" if status == outbox.MailStatus.SENDING.value else status
    return states


def notify_persons(
    session: Session,
    ws: Workspace,
    incident: Incident,
    *,
    actor: str,
    now: datetime,
    alternative_url: str | None = None,
) -> NoticeResult:
    """Tell each affected person (APPI Art. 26(2)): by e-mail where we hold an address, through the guard;
    everyone else is covered by the alternative measure (publication) if its URL is given.

    Idempotent per person: each mail is its own message in the outbox, so one refused address fails
    only that notice; calling this again queues only the notices not yet given or whose mail failed,
    never one that was sent or is still on its way."""
    text = narrative(ws.vault, incident)
    empty = [i for i in NOTICE_ITEMS if not text.get(i, "").strip()]
    if empty:
        raise Invalid([("notice", f"a notice must state {', '.join(empty)} (Rules Art. 10)")])
    if alternative_url is not None and not alternative_url.startswith(("https://", "http://")):
        raise Invalid([("alternative_url", "the publication's address, https://…")])
    existing = {
        n.subject_id: n
        for n in session.scalars(select(IncidentNotice).where(IncidentNotice.incident_id == incident.id))
    }
    states = notice_states(session, incident)
    pending = [s for s in incident.subjects if s not in existing or states.get(s) == "failed"]
    result = NoticeResult([], [], [])
    if not pending:
        return result
    decisions = decide_and_record(
        session,
        ws.policy,
        actor=actor,
        purpose=BREACH_NOTICE,
        subjects=pending,
        categories=[c.id for c in ws.policy.policy.categories if c.identifying and not c.my_number],
        action=Action.CONTACT,
        now=now,
    )
    org = ws.policy.policy.organization.name.ja
    body = (
        f"{org}より、お客様の個人情報に関する大切なお知らせです。\n\n"
        f"【概要】{text['overview']}\n【対象となった情報の項目】{text['data_items']}\n"
        f"【原因】{text['cause']}\n【二次被害又はそのおそれ】{text['secondary_damage']}\n"
        f"【その他（お問い合わせ先等）】{text['other']}\n"
    )
    title = f"【{org}】個人情報の漏えい等に関するお知らせ（{incident.ref}）"
    for decision in decisions:
        subject = decision.subjects[0]
        email = None
        if decision.allow and "email" in ws.vault.field_names(session, subject):
            email = ws.vault.read(
                session, decision, subject, ["email"], categories_of=ws.policy.policy.fields
            ).get("email")
        notice = existing.get(subject)
        if email:
            queued = outbox.enqueue(
                session, ws, to=email, subject=title, body=body, kind="incident.notice", now=now
            )
            if notice is None:
                notice = IncidentNotice(incident_id=incident.id, subject_id=subject)
                session.add(notice)
            notice.channel, notice.sent_at, notice.message_id = "email", now, queued.message_id
            notice.publication_url = None
            result.emailed.append(subject)
        elif alternative_url:
            if notice is None:
                notice = IncidentNotice(incident_id=incident.id, subject_id=subject)
                session.add(notice)
            notice.channel, notice.sent_at, notice.message_id = "alternative", now, None
            notice.publication_url = alternative_url
            result.alternative.append(subject)
        else:
            result.uncovered.append(subject)
    _audit(
        session,
        actor,
        "incident.notices_sent",
        incident,
        subjects=tuple(result.emailed + result.alternative),
        counts={
            "emailed": len(result.emailed),
            "alternative": len(result.alternative),
            "uncovered": len(result.uncovered),
        },
    )
    return result


#: how many subjects one query looks for (each is a LIKE of the incident's list)
_NAMED_AT_ONCE = 100
#: an id that JSON writes as it is and a LIKE matches only as itself (with autoescape)
_PLAIN_ID = re.compile(r"^[A-Za-z0-9_.:/-]+$")


def _naming(subject_ids: list[str]) -> ColumnElement[bool]:
    """The incidents whose list of subjects may name one of ``subject_ids``: each id, in quotes, in the
    list's JSON text. A first cut the database makes over every incident (no incident is read whole for
    it); an id JSON would escape (or that a LIKE could not spell) makes it keep every incident."""
    if not all(_PLAIN_ID.match(s) for s in subject_ids):
        return true()
    text = cast(Incident.subjects, String)
    return or_(*(text.contains(f'"{s}"', autoescape=True) for s in subject_ids))


def reportable_subjects(session: Session, subject_ids: list[str]) -> dict[str, str]:
    """Subjects involved in a reportable incident: subject -> incident ref (APPI Art. 35(5) ground), the
    first incident by id when there are several. Reads only the incidents that name one of them."""
    wanted = sorted(set(subject_ids))
    found: dict[str, str] = {}
    candidates: dict[int, Incident] = {}
    for start in range(0, len(wanted), _NAMED_AT_ONCE):
        naming = _naming(wanted[start : start + _NAMED_AT_ONCE])
        for incident in session.scalars(select(Incident).where(Incident.status != "draft", naming)):
            candidates[incident.id] = incident
    for _, incident in sorted(candidates.items()):
        hits = set(wanted).intersection(incident.subjects)
        if hits and classification(incident).any_reportable:
            for subject in sorted(hits):
                found.setdefault(subject, incident.ref)
    return found


def render_report(content: dict[str, Any], lang: str = "ja") -> str:
    """The report as a printable page, for the PPC web form or the PrivacyMark body: in Japanese (the
    language of those forms) unless ``lang`` asks for English; every code in words from the catalog,
    every time in Japan's time."""
    from jinja2 import Environment, PackageLoader, select_autoescape

    env = Environment(
        loader=PackageLoader("mamoru.incidents", "templates"), autoescape=select_autoescape(["j2", "html"])
    )

    def say(key: str, code: object = None) -> str:
        return word(key if code is None else f"{key}{code}", lang, default=str(code or key))

    return env.get_template("report.html.j2").render(
        c=content,
        lang="en" if lang == "en" else "ja",
        title=say("report_title_", content["report_type"]),
        items=REPORT_ITEMS,
        say=say,
        when=lambda at: when(at, lang) if at and at != "unknown" else say("report_unknown"),
        day=lambda d: day(d, lang),
    )


# --- the report items as a form fills them ------------------------------------------------------------

#: Yes/no facts of the PPC report's routing and classification (Rules Art. 7, 8) and the PrivacyMark report.
FLAGS = (
    "special_care",
    "financial_risk",
    "improper_purpose",
    "suspected_only",
    "encrypted",
    "key_compromised",
    "pseudonymized_only",
    "mn_network_system",
    "mn_publicly_viewable",
    "not_a_leak",
    "delegated_sector",
)
MY_NUMBER_ANSWERS = ("no", "yes", "unknown")
#: Q2 of the PPC form: who the reporter is.
ORG_TYPES = ("private_business", "administrative_organ", "local_government", "independent_agency")
#: Where the data was when it leaked (the PrivacyMark report asks).
MEDIA = ("email", "server", "usb", "paper", "device", "other")
MAX_ITEM = 4000


def local_time(value: str, field: str, *, now: datetime) -> datetime | Problem:
    """A time typed in a form (``YYYY-MM-DDTHH:MM``, Japan's time) as UTC, or the problem with it."""
    try:
        at = datetime.fromisoformat(value.strip())
    except ValueError:
        return problem(field, "a date and time, e.g. 2026-12-02T20:37", "datetime")
    at = (at if at.tzinfo else at.replace(tzinfo=JST)).astimezone(UTC)
    if at > now:
        return problem(field, "this time is in the future", "future")
    return at


def edit(
    session: Session, vault: Vault, incident: Incident, form: Mapping[str, str], *, actor: str, now: datetime
) -> Incident:
    """Save the report items and facts as a form sends them (strings; a checkbox present means yes).

    Every value is checked first and nothing is saved when any is wrong; each problem names its field.
    """
    problems: list[Problem] = []
    fields: dict[str, Any] = {}
    for item in NARRATIVE:
        text = str(form.get(item, "")).strip()
        if len(text) > MAX_ITEM:
            problems.append(problem(item, f"at most {MAX_ITEM} characters", "too_long"))
        fields[item] = text
    count = str(form.get("affected_count", "")).strip() or "0"
    if count.isascii() and count.isdigit() and len(count) < 10:
        fields["affected_count"] = int(count)
    else:
        problems.append(problem("affected_count", "a count of persons, 0 or more", "count"))
    occurred = str(form.get("occurred_at", "")).strip()
    if occurred:
        at = local_time(occurred, "occurred_at", now=now)
        if isinstance(at, Problem):
            problems.append(at)
        elif at > incident.aware_at.replace(tzinfo=incident.aware_at.tzinfo or UTC):
            problems.append(
                problem("occurred_at", "it cannot have happened after it was found", "after_aware")
            )
        else:
            fields["occurred_at"] = at
    else:
        fields["occurred_at"] = None
    for flag in FLAGS:
        fields[flag] = str(form.get(flag, "")) in ("on", "true", "yes", "1")
    for name, allowed in (("my_number", MY_NUMBER_ANSWERS), ("org_type", ORG_TYPES)):
        value = str(form.get(name, ""))
        if value not in allowed:
            problems.append(problem(name, f"one of {', '.join(allowed)}", "choice"))
        fields[name] = value
    medium = str(form.get("medium", ""))
    if medium and medium not in MEDIA:
        problems.append(problem("medium", f"one of {', '.join(MEDIA)}", "choice"))
    fields["medium"] = medium or None
    require(problems)
    return update(session, vault, incident, actor=actor, **fields)


def form_values(vault: Vault, incident: Incident) -> dict[str, str]:
    """The report items and facts as the form shows them (times in Japan's time)."""
    text = narrative(vault, incident)
    values = {item: text.get(item, "") for item in NARRATIVE}
    values["affected_count"] = str(incident.affected_count)
    occurred = incident.occurred_at
    values["occurred_at"] = (
        occurred.replace(tzinfo=occurred.tzinfo or UTC).astimezone(JST).strftime("%Y-%m-%dT%H:%M")
        if occurred
        else ""
    )
    for flag in FLAGS:
        values[flag] = "on" if getattr(incident, flag) else ""
    values["my_number"], values["org_type"], values["medium"] = (
        incident.my_number,
        incident.org_type,
        incident.medium or "",
    )
    return values


def open_from_form(
    session: Session, vault: Vault, form: Mapping[str, str], *, actor: str, now: datetime
) -> Incident:
    """Open an incident from the console's form: when a staff member first knew (Japan's time) and what
    happened in a few words."""
    problems: list[Problem] = []
    aware, overview = opening_facts(form, problems, now=now)
    require(problems)
    assert aware is not None
    return open_incident(session, vault, aware_at=aware, actor=actor, now=now, overview=overview)


def opening_facts(
    form: Mapping[str, Any], problems: list[Problem], *, now: datetime
) -> tuple[datetime | None, str]:
    """From an opening form: when a staff member first knew (``aware_at``, Japan's time) and what happened
    (``overview``); what is wrong is added to ``problems``."""
    raw = str(form.get("aware_at", "")).strip()
    aware = (
        local_time(raw, "aware_at", now=now) if raw else problem("aware_at", "when it was found", "missing")
    )
    if isinstance(aware, Problem):
        problems.append(aware)
    overview = str(form.get("overview", "")).strip()
    if not overview:
        problems.append(problem("overview", "say in a few words what happened", "missing"))
    elif len(overview) > MAX_ITEM:
        problems.append(problem("overview", f"at most {MAX_ITEM} characters", "too_long"))
    return (aware if isinstance(aware, datetime) else None), overview


@dataclass(frozen=True)
class Countdown:
    """One report's clock: which report, its last day, the days left (negative: late) and whether filed."""

    report: str
    due: date
    days_left: int
    done: bool


def countdowns(session: Session, incident: Incident, today: date) -> list[Countdown]:
    """The days left on each report's clock: the PPC preliminary and final reports (when reportable) and
    the PrivacyMark final report, counted to the conservative deadline."""
    k = clock(incident)
    done = submitted(session, incident)
    clocks = [("pmark_final", k.final_conservative, "pmark_final" in done)]
    if classification(incident).any_reportable:
        clocks = [
            ("ppc_prelim", k.prelim_due, bool(done & {"ppc_prelim", "ppc_final"})),
            ("ppc_final", k.final_conservative, "ppc_final" in done),
            *clocks,
        ]
    return [Countdown(name, due, (due - today).days, filed) for name, due, filed in clocks]
