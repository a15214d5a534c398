"""Console pages for incidents: every open clock, and one incident's facts, stages, reports and notices.

``?at=YYYY-MM-DD`` shows the clocks as they will stand on that day.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from mamoru.edge import CurrentWorkspace, DbSession
from mamoru.errors import Problem
from mamoru.incidents import service as incidents
from mamoru.incidents.service import ReportKind, Stage
from mamoru.people.auth import SignedIn
from mamoru.policy.notice import Lang
from mamoru.web import listing
from mamoru.web.console import Staff, check, console_page
from mamoru.web.forms import PostedForm, again, back_to, shown
from mamoru.web.i18n import choose_lang, labels

router = APIRouter(prefix="/console/incidents", include_in_schema=False)
Language = Annotated[Lang, Depends(choose_lang)]


@router.get("", response_class=HTMLResponse)
def incident_list(
    request: Request,
    ws: CurrentWorkspace,
    session: DbSession,
    lang: Language,
    who: Staff,
    at: date | None = None,
) -> HTMLResponse:
    check(who, "incidents")
    today = at or datetime.now(UTC).date()
    words = labels(lang)
    asked = listing.asked(request, incidents.INCIDENTS)
    found = incidents.clock_page(session, today, asked)
    statuses = [(s, words[f"incident_status_{s}"]) for s in ("draft", "open", "closed")]
    return console_page(
        request,
        ws,
        lang,
        who,
        "console_incidents.html.j2",
        words["incidents"],
        views=found.items,
        today=today,
        table=listing.listing(
            request,
            "/console/incidents",
            incidents.INCIDENTS,
            asked,
            found,
            lang,
            choices=[
                listing.Choice(
                    "status", words["status"], [("all", words["list_every"]), *statuses], words["list_open"]
                )
            ],
            search_label=words["list_search_ref"],
            keep_extra={"at": at.isoformat() if at else ""},
        ),
    )


@router.post("", dependencies=[back_to("/console/incidents")])
def open_incident(
    session: DbSession, ws: CurrentWorkspace, lang: Language, who: Staff, form: PostedForm
) -> Response:
    """Open an incident from when a staff member first knew of it; its report items are filled next."""
    check(who, "incidents.manage", str(form.get("csrf", "")))
    values = {k: str(v) for k, v in form.items() if isinstance(v, str)}
    incident = incidents.open_from_form(session, ws.vault, values, actor=who.actor, now=datetime.now(UTC))
    return RedirectResponse(f"/console/incidents/{incident.ref}/items?lang={lang}", status_code=303)


@router.get("/{ref}", response_class=HTMLResponse)
def incident_page(
    ref: str,
    request: Request,
    ws: CurrentWorkspace,
    session: DbSession,
    lang: Language,
    who: Staff,
    at: date | None = None,
) -> HTMLResponse:
    check(who, "incidents")
    incident = incidents.get(session, ref)
    today = at or datetime.now(UTC).date()
    view = next((v for v in incidents.open_clocks(session, today) if v.incident.id == incident.id), None)
    return console_page(
        request,
        ws,
        lang,
        who,
        "console_incident.html.j2",
        f"{labels(lang)['incidents']} {incident.ref}",
        i=incident,
        view=view,
        c=incidents.classification(incident),
        k=incidents.clock(incident),
        text=incidents.narrative(ws.vault, incident),
        stages=list(Stage),
        reports=sorted(incidents.submitted(session, incident)),
        kinds=list(ReportKind),
        items=incidents.REPORT_ITEMS,
        today=today,
        countdowns=incidents.countdowns(session, incident, today),
    )


def _items_page(
    request: Request,
    ws: CurrentWorkspace,
    lang: Lang,
    who: SignedIn,
    ref: str,
    values: dict[str, str],
    countdowns: list[incidents.Countdown],
    problems: list[Problem],
) -> HTMLResponse:
    return console_page(
        request,
        ws,
        lang,
        who,
        "console_incident_items.html.j2",
        f"{labels(lang)['tk_report_items']} {ref}",
        ref=ref,
        values=values,
        narrative=incidents.NARRATIVE,
        flags=incidents.FLAGS,
        my_number_answers=incidents.MY_NUMBER_ANSWERS,
        org_types=incidents.ORG_TYPES,
        media=incidents.MEDIA,
        countdowns=countdowns,
        form_errors=shown(problems, lang),
        max_item=incidents.MAX_ITEM,
    )


@router.get("/{ref}/items", response_class=HTMLResponse)
def items_form(
    ref: str, request: Request, ws: CurrentWorkspace, session: DbSession, lang: Language, who: Staff
) -> HTMLResponse:
    """The report items of the PPC and PrivacyMark reports as a form, with each report's days left."""
    check(who, "incidents.manage")
    incident = incidents.get(session, ref)
    return _items_page(
        request,
        ws,
        lang,
        who,
        incident.ref,
        incidents.form_values(ws.vault, incident),
        incidents.countdowns(session, incident, datetime.now(UTC).date()),
        [],
    )


@router.post("/{ref}/items", response_class=HTMLResponse)
def items_save(
    ref: str,
    request: Request,
    ws: CurrentWorkspace,
    session: DbSession,
    lang: Language,
    who: Staff,
    form: PostedForm,
) -> Response:
    check(who, "incidents.manage", str(form.get("csrf", "")))
    incident = incidents.get(session, ref)
    values = {k: str(v) for k, v in form.items() if isinstance(v, str) and k != "csrf"}
    left = incidents.countdowns(session, incident, datetime.now(UTC).date())
    number = incident.ref  # the form comes back after the session has ended
    again(request, lambda problems: _items_page(request, ws, lang, who, number, values, left, problems))
    incidents.edit(session, ws.vault, incident, values, actor=who.actor, now=datetime.now(UTC))
    return _back(incident.ref, lang)


def _back(ref: str, lang: Lang) -> RedirectResponse:
    return RedirectResponse(f"/console/incidents/{ref}?lang={lang}", status_code=303)


#: A refused change goes back to the incident's page with the problems (see ``web.forms``).
BACK = [back_to("/console/incidents/{ref}")]


@router.post("/{ref}/stage", dependencies=BACK)
def stage(
    ref: str,
    session: DbSession,
    ws: CurrentWorkspace,
    lang: Language,
    who: Staff,
    csrf: Annotated[str, Form()],
    stage: Annotated[Stage, Form()],
    note: Annotated[str, Form(max_length=4000)] = "",
) -> Response:
    check(who, "incidents.manage", csrf)
    incidents.complete_stage(
        session,
        ws.vault,
        incidents.get(session, ref),
        stage,
        note=note,
        actor=f"staff:{who.login}",
        now=datetime.now(UTC),
    )
    return _back(ref, lang)


@router.post("/{ref}/report", dependencies=BACK)
def submit(
    ref: str,
    session: DbSession,
    ws: CurrentWorkspace,
    lang: Language,
    who: Staff,
    csrf: Annotated[str, Form()],
    kind: Annotated[ReportKind, Form()],
) -> Response:
    check(who, "incidents.manage", csrf)
    incidents.submit_report(
        session, ws, incidents.get(session, ref), kind, actor=f"staff:{who.login}", now=datetime.now(UTC)
    )
    return _back(ref, lang)


@router.get("/{ref}/report/{kind}", response_class=HTMLResponse)
def report_page(
    ref: str, kind: ReportKind, session: DbSession, ws: CurrentWorkspace, who: Staff, lang: Language
) -> HTMLResponse:
    check(who, "incidents")
    content = incidents.report_content(ws, session, incidents.get(session, ref), kind)
    return HTMLResponse(incidents.render_report(content, lang), headers={"Cache-Control": "no-store"})


@router.post("/{ref}/close", dependencies=BACK)
def close(ref: str, session: DbSession, lang: Language, who: Staff, csrf: Annotated[str, Form()]) -> Response:
    check(who, "incidents.manage", csrf)
    incidents.close(session, incidents.get(session, ref), actor=f"staff:{who.login}", now=datetime.now(UTC))
    return _back(ref, lang)
