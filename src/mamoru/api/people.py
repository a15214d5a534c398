"""People and the PMS over HTTP, for the organization's other systems: door controllers post badge
events, a call centre posts inquiries, a GRC tool reads the control catalogue and the open
non-conformities. Every route needs an API token whose principal opens the route's area."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends
from pydantic import BaseModel, Field

from mamoru.api.deps import ERRORS, CurrentWorkspace, DbSession, Permit, Principal
from mamoru.incidents import signals
from mamoru.people import inquiries, zones
from mamoru.pms import controls
from mamoru.pms.check import nonconformities
from mamoru.references import Reference

router = APIRouter(responses=ERRORS, prefix="/api/v1", tags=["people"])
DoorEvents = Annotated[Principal, Depends(Permit("door_events"))]
Inquiries = Annotated[Principal, Depends(Permit("inquiries"))]
PmsReader = Annotated[Principal, Depends(Permit("pms"))]


class DoorEventModel(BaseModel):
    event_id: Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.:-]+$")]
    zone: Annotated[Reference, Field(max_length=32)]
    badge: Annotated[str, Field(max_length=64, description="Badge number; empty when none was shown")] = ""
    at: datetime = Field(description="When, with its offset")
    direction: Literal["in", "out"]
    authenticated: bool = Field(description="Whether the controller authenticated the badge (card and PIN …)")


class DoorEventsIn(BaseModel):
    source: Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.:-]+$")]
    events: Annotated[list[DoorEventModel], Field(min_length=1, max_length=10_000)]


class DoorEventsOut(BaseModel):
    received: int
    duplicates: int
    outcomes: dict[str, int]
    incident_ref: str | None = Field(description="The incident draft opened for this batch's alerts")


@router.post("/door-events", summary="Ingest badge or door events (APPI-23-phys)")
def door_events(
    body: DoorEventsIn, who: DoorEvents, ws: CurrentWorkspace, session: DbSession
) -> DoorEventsOut:
    events = [zones.DoorEventIn(**e.model_dump()) for e in body.events]
    result = signals.door_events(
        session, ws.vault, events, source=body.source, actor=who.actor, now=datetime.now(UTC)
    )
    return DoorEventsOut(
        received=result.received,
        duplicates=result.duplicates,
        outcomes=dict(result.outcomes),
        incident_ref=result.incident_ref,
    )


class InquiryIn(BaseModel):
    kind: Literal["inquiry", "complaint"]
    channel: Literal["email", "phone", "letter", "in_person", "portal"]
    category: Literal["notice", "handling", "request_procedure", "security", "contact", "my_number", "other"]
    name: Annotated[str, Field(max_length=200)] = ""
    contact: Annotated[str, Field(max_length=254)] = ""
    text: Annotated[str, Field(min_length=1, max_length=inquiries.MAX_TEXT)]


class InquiryOut(BaseModel):
    ref: str
    first_response_due: datetime
    close_due: datetime


@router.post("/inquiries", status_code=201, summary="Register an inquiry or complaint (APPI Art. 40)")
def new_inquiry(body: InquiryIn, who: Inquiries, ws: CurrentWorkspace, session: DbSession) -> InquiryOut:
    q = inquiries.receive(
        session,
        ws.vault,
        inquiries.InquiryIn(**body.model_dump()),
        rules=ws.policy.policy.staff,
        actor=who.actor,
        now=datetime.now(UTC),
    )
    return InquiryOut(ref=q.ref, first_response_due=q.first_response_due, close_due=q.close_due)


@router.get("/pms/controls", summary="The control catalogue with owners, reviews and evidence (APPI-23)")
def control_catalogue(_who: PmsReader, session: DbSession) -> dict[str, Any]:
    return controls.export(session, datetime.now(UTC).date())


@router.get("/pms/check", summary="Every open non-conformity of the PMS, by area")
def pms_check(_who: PmsReader, ws: CurrentWorkspace, session: DbSession) -> dict[str, list[str]]:
    return {
        area: list(found)
        for area, found in nonconformities(session, ws.policy.policy, datetime.now(UTC).date()).items()
    }
