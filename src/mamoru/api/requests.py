"""Data-subject requests over HTTP, for the organization's other systems (a call centre, a member site).

Intake takes what the person gave and mails them the code and status link; the answers hold codes,
times and counts only, never the requester's details.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, Field

from mamoru.api.deps import ERRORS, CurrentWorkspace, DbSession, Permit, Principal
from mamoru.requests import service
from mamoru.requests.notify import send_code, status_url
from mamoru.requests.service import RequestIn
from mamoru.requests.tables import SubjectRequest

router = APIRouter(responses=ERRORS, prefix="/api/v1/requests", tags=["requests"])
Intake = Annotated[Principal, Depends(Permit("requests.intake"))]
Reader = Annotated[Principal, Depends(Permit("requests"))]


class RequestOut(BaseModel):
    id: str
    ref: str
    kind: str
    status: str
    outcome: str | None
    received_at: datetime
    acknowledge_by: datetime
    escalate_at: datetime
    due_at: datetime
    completed_at: datetime | None
    escalated: bool
    late: bool
    fee_yen: int
    fee_status: str
    subjects: int = Field(description="How many data subjects the verified requester matched.")

    @classmethod
    def of(cls, r: SubjectRequest) -> RequestOut:
        return cls(
            id=r.id,
            ref=r.ref,
            kind=r.kind,
            status=r.status,
            outcome=r.outcome,
            received_at=r.received_at,
            acknowledge_by=r.acknowledge_by,
            escalate_at=r.escalate_at,
            due_at=r.due_at,
            completed_at=r.completed_at,
            escalated=r.escalated_at is not None,
            late=r.breached_at is not None,
            fee_yen=r.fee_yen,
            fee_status=r.fee_status,
            subjects=len(r.subjects),
        )


class Submitted(RequestOut):
    status_url: str = Field(
        description="The requester's private status link; give it to them, do not keep it."
    )


class CodeIn(BaseModel):
    code: Annotated[str, Field(max_length=20)]


@router.post("", status_code=201, response_model=Submitted)
def create(body: dict[str, Any], _who: Intake, session: DbSession, ws: CurrentWorkspace) -> Submitted:
    data: RequestIn = service.parse_request(body)
    done = service.submit(
        session, ws.vault, ws.policy.policy, ws.settings, data, now=datetime.now(UTC), channel="api"
    )
    send_code(session, ws, done.request, done.code, done.status_token)
    session.commit()
    return Submitted(**RequestOut.of(done.request).model_dump(), status_url=status_url(ws, done.status_token))


@router.get("", response_model=list[RequestOut])
def list_requests(
    _who: Reader, session: DbSession, include_closed: Annotated[bool, Query()] = False
) -> list[RequestOut]:
    return [RequestOut.of(r) for r in service.queue(session, include_closed=include_closed)]


@router.get("/{request_id}", response_model=RequestOut)
def show(request_id: str, _who: Reader, session: DbSession) -> RequestOut:
    return RequestOut.of(service.get(session, request_id))


@router.post("/{request_id}/verify")
def verify(
    request_id: str, body: CodeIn, _who: Intake, session: DbSession, ws: CurrentWorkspace
) -> dict[str, str]:
    result = service.verify_code(
        session, ws.vault, service.get(session, request_id), body.code, now=datetime.now(UTC)
    )
    return {"result": result.value}
