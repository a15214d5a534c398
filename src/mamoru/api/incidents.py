"""Incidents over HTTP: open, update, work the stages, report, notify, close; the clocks as of a date.

Every change is made by the token's staff member (the privacy office); the narrative is returned only
inside the report content, which the office needs to file it.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from fastapi.responses import HTMLResponse
from pydantic import BaseModel, ConfigDict, Field, with_config
from typing_extensions import TypedDict

from mamoru.api.deps import ERRORS, CurrentWorkspace, DbSession, Permit, Principal
from mamoru.incidents import service as incidents
from mamoru.incidents.service import ClockView, ReportKind, Stage
from mamoru.incidents.tables import Incident
from mamoru.references import Reference

router = APIRouter(responses=ERRORS, prefix="/api/v1/incidents", tags=["incidents"])
Reader = Annotated[Principal, Depends(Permit("incidents"))]
Manager = Annotated[Principal, Depends(Permit("incidents.manage"))]


class IncidentOut(BaseModel):
    ref: str
    status: str
    source: str
    aware_at: datetime
    affected_count: int
    reportable: bool
    my_number_reportable: bool
    categories: list[str]
    exemption: str | None
    prelim_warning: date
    prelim_due: date
    final_conservative: date
    final_lenient: date
    ppc_state: str = Field(
        description="on_track, prelim_warning, prelim_overdue, final_warning, final_overdue, not_reportable"
    )
    privacymark_state: str
    privacymark_prelim_required: bool = Field(
        description="JIS-8: a preliminary report to the PrivacyMark body is due by prelim_due (the 4 categories, My Number)"
    )
    suspected_only: bool = Field(
        description="Reported on the ground that a breach may have occurred (おそれ)"
    )
    stages_done: list[str]
    reports: list[str]

    @classmethod
    def of(cls, view: ClockView, reports: set[str]) -> IncidentOut:
        i, c, k = view.incident, view.classification, view.clock
        return cls(
            ref=i.ref,
            status=i.status,
            source=i.source,
            aware_at=i.aware_at,
            affected_count=i.affected_count,
            reportable=c.reportable,
            my_number_reportable=c.my_number_reportable,
            categories=sorted(x.value for x in c.categories),
            exemption=c.exemption,
            prelim_warning=k.prelim_warning,
            prelim_due=k.prelim_due,
            final_conservative=k.final_conservative,
            final_lenient=k.final_lenient,
            ppc_state=view.state,
            privacymark_state=view.pmark_state,
            privacymark_prelim_required=c.privacymark_prelim_required,
            suspected_only=c.suspected_only,
            stages_done=sorted(i.stages),
            reports=sorted(reports),
        )


def _view(session: DbSession, incident: Incident, today: date) -> IncidentOut:
    views = {v.incident.ref: v for v in incidents.open_clocks(session, today)}
    view = views.get(incident.ref)
    if view is None:  # closed: no clock runs any more
        c = incidents.classification(incident)
        view = ClockView(incident, c, incidents.clock(incident), "closed", "closed")
    return IncidentOut.of(view, incidents.submitted(session, incident))


@with_config(ConfigDict(extra="allow"))
class Facts(TypedDict, total=False):
    """Flags, counts, routing answers, narrative items (the service refuses unknown names). The persons
    concerned are references: they reach the audit log, so a null or a name is refused here (422)."""

    subjects: list[Reference]


class IncidentIn(BaseModel):
    aware_at: datetime
    facts: Facts = Field(
        default_factory=lambda: Facts(), description="Flags, counts, routing answers, narrative items."
    )


class StageIn(BaseModel):
    note: Annotated[str, Field(min_length=1, max_length=4000)]


class NoticeIn(BaseModel):
    alternative_url: str | None = None


def _today(at: date | None) -> date:
    return at or datetime.now(UTC).date()


@router.get("", response_model=list[IncidentOut])
def list_incidents(
    _who: Reader,
    session: DbSession,
    at: Annotated[date | None, Query(description="View as of this date")] = None,
) -> list[IncidentOut]:
    """Every open incident with its deadlines and states as of ``at`` (today by default), most urgent first."""
    return [
        IncidentOut.of(v, incidents.submitted(session, v.incident))
        for v in incidents.open_clocks(session, _today(at))
    ]


@router.post("", status_code=201, response_model=IncidentOut)
def create(body: IncidentIn, who: Manager, session: DbSession, ws: CurrentWorkspace) -> IncidentOut:
    incident = incidents.open_incident(
        session, ws.vault, aware_at=body.aware_at, actor=who.actor, now=datetime.now(UTC), **body.facts
    )
    return _view(session, incident, datetime.now(UTC).date())


@router.get("/{ref}", response_model=IncidentOut)
def show(ref: str, _who: Reader, session: DbSession, at: date | None = None) -> IncidentOut:
    return _view(session, incidents.get(session, ref), _today(at))


@router.patch("/{ref}", response_model=IncidentOut)
def patch(
    ref: str,
    body: Facts,
    who: Manager,
    session: DbSession,
    ws: CurrentWorkspace,
) -> IncidentOut:
    incident = incidents.update(session, ws.vault, incidents.get(session, ref), actor=who.actor, **body)
    return _view(session, incident, datetime.now(UTC).date())


@router.post("/{ref}/stages/{stage}", response_model=IncidentOut)
def stage(
    ref: str,
    stage: Stage,
    body: StageIn,
    who: Manager,
    session: DbSession,
    ws: CurrentWorkspace,
) -> IncidentOut:
    incident = incidents.get(session, ref)
    incidents.complete_stage(
        session, ws.vault, incident, stage, note=body.note, actor=who.actor, now=datetime.now(UTC)
    )
    return _view(session, incident, datetime.now(UTC).date())


@router.get("/{ref}/reports/{kind}")
def report(
    ref: str, kind: ReportKind, _who: Reader, session: DbSession, ws: CurrentWorkspace
) -> dict[str, Any]:
    """The report as it would be filed now (JSON for the PPC web form); ``missing`` lists empty items."""
    content = incidents.report_content(ws, session, incidents.get(session, ref), kind)
    return {**content, "missing": incidents.missing_items(content)}


@router.get("/{ref}/reports/{kind}/html", response_class=HTMLResponse)
def report_html(
    ref: str, kind: ReportKind, _who: Reader, session: DbSession, ws: CurrentWorkspace
) -> HTMLResponse:
    content = incidents.report_content(ws, session, incidents.get(session, ref), kind)
    return HTMLResponse(incidents.render_report(content), headers={"Cache-Control": "no-store"})


@router.post("/{ref}/reports/{kind}", status_code=201)
def submit(
    ref: str,
    kind: ReportKind,
    who: Manager,
    session: DbSession,
    ws: CurrentWorkspace,
) -> dict[str, Any]:
    row = incidents.submit_report(
        session, ws, incidents.get(session, ref), kind, actor=who.actor, now=datetime.now(UTC)
    )
    return {"report": row.id, "kind": row.kind, "submitted_at": row.submitted_at}


@router.post("/{ref}/notices")
def notices(
    ref: str, body: NoticeIn, who: Manager, session: DbSession, ws: CurrentWorkspace
) -> dict[str, int]:
    result = incidents.notify_persons(
        session,
        ws,
        incidents.get(session, ref),
        actor=who.actor,
        now=datetime.now(UTC),
        alternative_url=body.alternative_url,
    )
    return {
        "emailed": len(result.emailed),
        "alternative": len(result.alternative),
        "uncovered": len(result.uncovered),
    }


@router.post("/{ref}/close", response_model=IncidentOut)
def close(ref: str, who: Manager, session: DbSession) -> IncidentOut:
    incident = incidents.get(session, ref)
    incidents.close(session, incident, actor=who.actor, now=datetime.now(UTC))
    return _view(session, incident, datetime.now(UTC).date())
