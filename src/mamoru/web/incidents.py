"""Console pages for incidents: every open clock, and one incident's facts, stages, reports and notices.

``?at=YYYY-MM-DD`` shows the clocks as they will stand on that day.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from mamoru.edge import CurrentWorkspace, DbSession
from mamoru.incidents import service as incidents
from mamoru.incidents.service import ReportKind, Stage
from mamoru.policy.notice import Lang
from mamoru.web.console import Staff, check, console_page
from mamoru.web.forms import back_to
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
    return console_page(
        request,
        ws,
        lang,
        who,
        "console_incidents.html.j2",
        labels(lang)["incidents"],
        views=incidents.open_clocks(session, today),
        today=today,
    )


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
        items=incidents.ITEM_LABELS,
        today=today,
    )


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
    ref: str, kind: ReportKind, session: DbSession, ws: CurrentWorkspace, who: Staff
) -> HTMLResponse:
    check(who, "incidents")
    content = incidents.report_content(ws, session, incidents.get(session, ref), kind)
    return HTMLResponse(incidents.render_report(content), headers={"Cache-Control": "no-store"})


@router.post("/{ref}/close", dependencies=BACK)
def close(ref: str, session: DbSession, lang: Language, who: Staff, csrf: Annotated[str, Form()]) -> Response:
    check(who, "incidents.manage", csrf)
    incidents.close(session, incidents.get(session, ref), actor=f"staff:{who.login}", now=datetime.now(UTC))
    return _back(ref, lang)
