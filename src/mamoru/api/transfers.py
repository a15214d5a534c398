"""Transfers over HTTP: the provision gate for the organization's systems, and supervision status."""

from __future__ import annotations

import base64
from datetime import UTC, date, datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, Field

from mamoru.api.deps import ERRORS, Access, AccessContext, CurrentWorkspace, DbSession, Permit, Principal
from mamoru.api.personal import PERSONAL_DATA
from mamoru.guard.engine import StatutoryException
from mamoru.references import Reference
from mamoru.transfers.gate import TransferIn, TransferType, transfer
from mamoru.transfers.records import RecordMode, records_for, records_json
from mamoru.transfers.status import every_party

router = APIRouter(responses=ERRORS, prefix="/api/v1", tags=["transfers"])

Provide = Annotated[AccessContext, Depends(Access("transfers.provide"))]
Reader = Annotated[Principal, Depends(Permit("transfers"))]


class TransferBody(BaseModel):
    type: TransferType
    party: Reference
    subjects: Annotated[list[Reference], Field(min_length=1, max_length=10_000)]
    categories: Annotated[list[Reference], Field(min_length=1)]
    exception: StatutoryException | None = None
    justification: Annotated[str, Field(max_length=2000)] | None = None
    mode: RecordMode = RecordMode.EACH
    period_first: date | None = None
    period_last: date | None = None


class TransferOut(BaseModel):
    transfer_id: str
    provided: list[str]
    refused: dict[str, list[str]]
    refused_whole: bool
    records: list[int]
    package_zip_base64: str | None = Field(description="The data for the recipient (JSON and CSV in a ZIP).")


@router.post("/transfers", response_model=TransferOut, tags=[PERSONAL_DATA])
def create_transfer(
    body: TransferBody, access: Provide, session: DbSession, ws: CurrentWorkspace
) -> TransferOut:
    result = transfer(
        session,
        ws,
        TransferIn(
            type=body.type,
            party=body.party,
            purpose=access.purpose,
            subjects=body.subjects,
            categories=body.categories,
            exception=body.exception,
            justification=body.justification,
            mode=body.mode,
            period_first=body.period_first,
            period_last=body.period_last,
        ),
        actor=access.actor,
        now=datetime.now(UTC),
    )
    return TransferOut(
        transfer_id=result.transfer_id,
        provided=result.provided,
        refused=result.refused,
        refused_whole=result.refused_whole,
        records=result.records,
        package_zip_base64=base64.b64encode(result.package).decode() if result.package else None,
    )


class PartyOut(BaseModel):
    party: str
    cleared: bool
    problems: list[str]
    next_due: date | None


@router.get("/parties", response_model=list[PartyOut])
def parties(_who: Reader, session: DbSession, ws: CurrentWorkspace) -> list[PartyOut]:
    """Every processor and recipient with its supervision status today."""
    statuses = every_party(session, ws.policy.policy, datetime.now(UTC).date())
    return [
        PartyOut(party=s.party, cleared=s.cleared, problems=list(s.problems), next_due=s.next_due)
        for s in statuses
    ]


@router.get("/provision-records")
def provision_records(
    _who: Reader, session: DbSession, subject: Annotated[str, Query(max_length=36)]
) -> dict[str, list[dict[str, object]]]:
    """The provision and receipt records about one subject (references and codes only)."""
    return records_json(*records_for(session, [subject]))
