"""The My Number vault over HTTP, for the payroll system of the handlers. Every call carries a handler's
own API token (a staff token: the handler is who acts); a system token is refused here whatever its
scopes (403). The guard decides; refusals are audited and signalled."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Query
from fastapi.responses import Response
from pydantic import BaseModel, Field

from mamoru.api.deps import (
    CSV_OR_XLSX,
    ERRORS,
    MAX_ID,
    CurrentWorkspace,
    DbSession,
    Permit,
    Principal,
    download,
)
from mamoru.law.mynumber import IdentityDoc, NumberCheckDoc, NumberDocument, StatutoryAffair
from mamoru.mynumber import service as mn
from mamoru.references import Reference

router = APIRouter(responses=ERRORS, prefix="/api/v1/mynumber", tags=["my-number"])
Handler = Annotated[Principal, Depends(Permit("mynumber"))]
#: Reads and collection go through the guard, which refuses, audits and signals a non-handler (MN-6).
Guarded = Annotated[Principal, Depends(Permit("mynumber.guarded"))]


class FilingIn(BaseModel):
    affair: StatutoryAffair
    document: NumberDocument
    year: Annotated[int, Field(ge=2016, le=2100)]
    due_on: date


class CollectBody(BaseModel):
    subject_id: Annotated[Reference, Field(max_length=36)]
    number: Annotated[str, Field(max_length=40)]
    filing_id: Annotated[int, Field(ge=1, le=MAX_ID)]
    number_check: NumberCheckDoc
    identity: list[IdentityDoc] = Field(default_factory=list)
    by_agent: bool = False
    authority_doc: bool = False
    agent_identity: list[IdentityDoc] = Field(default_factory=list)
    dependent_of: Annotated[Reference, Field(max_length=36)] | None = None
    completed_on: date | None = None


@router.post("/filings", status_code=201)
def filing(body: FilingIn, who: Handler, session: DbSession) -> dict[str, int]:
    row = mn.create_filing(
        session,
        affair=body.affair,
        document=body.document,
        year=body.year,
        due_on=body.due_on,
        actor=who.actor,
    )
    return {"filing_id": row.id}


@router.post("/entries", status_code=201)
def collect(body: CollectBody, who: Guarded, session: DbSession, ws: CurrentWorkspace) -> dict[str, object]:
    entry = mn.collect(
        session,
        ws,
        mn.CollectIn(
            subject_id=body.subject_id,
            number=body.number,
            filing_id=body.filing_id,
            number_check=body.number_check,
            identity=body.identity,
            by_agent=body.by_agent,
            authority_doc=body.authority_doc,
            agent_identity=body.agent_identity,
            dependent_of=body.dependent_of,
            completed_on=body.completed_on,
        ),
        actor=who.actor,
        now=datetime.now(UTC),
    )
    return {"entry_id": entry.id, "purge_after": entry.purge_after}


@router.get("/entries/{entry_id}/number")
def number(
    entry_id: str,
    affair: StatutoryAffair,
    who: Guarded,
    session: DbSession,
    ws: CurrentWorkspace,
) -> dict[str, str]:
    value = mn.read_number(session, ws, entry_id, actor=who.actor, affair=affair, now=datetime.now(UTC))
    return {"entry_id": entry_id, "number": value}


@router.get("/outputs/{form}", response_class=Response, responses=CSV_OR_XLSX)
def output(
    form: str,
    year: Annotated[int, Query(ge=2016, le=2100)],
    who: Guarded,
    session: DbSession,
    ws: CurrentWorkspace,
) -> Response:
    data = mn.statutory_output(session, ws, form, year, actor=who.actor, now=datetime.now(UTC))
    return download(data, f"{form}-{year}.csv", "text/csv; charset=utf-8")


@router.post("/export")
def export(destination: str, _who: Handler) -> None:
    """Always refused: the number leaves the vault only as a statutory output (MN-2)."""
    mn.export(destination)
