"""Data-subject requests over HTTP, for the organization's other systems (a call centre, a member site).

Intake takes what the person gave and mails them the code and status link; the answers hold codes,
times and counts only, never the requester's details.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, Field

from mamoru.api.deps import ERRORS, Access, AccessContext, CurrentWorkspace, DbSession, Permit, Principal
from mamoru.api.personal import PERSONAL_DATA
from mamoru.requests import matching, service
from mamoru.requests.notify import send_code, status_url
from mamoru.requests.service import RequestIn
from mamoru.requests.tables import SubjectRequest

router = APIRouter(responses=ERRORS, prefix="/api/v1/requests", tags=["requests"])
#: The routes that find and link the person a request is about (personal data, see ``MatchReader``).
personal_router = APIRouter(responses=ERRORS, prefix="/api/v1/requests", tags=["requests", PERSONAL_DATA])
Intake = Annotated[Principal, Depends(Permit("requests.intake"))]
Reader = Annotated[Principal, Depends(Permit("requests"))]
Decider = Annotated[Principal, Depends(Permit("requests.decide"))]
#: Finding and linking the person a request is about reads the vault's indexes for one person: a use of
#: personal data, with the access context (the token's principal and the stated purpose) like every such
#: route (``X-Mamoru-Purpose: subject_request``).
MatchReader = Annotated[AccessContext, Depends(Access("requests"))]
MatchDecider = Annotated[AccessContext, Depends(Access("requests.decide"))]


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
    subjects: int = Field(description="How many data subjects are linked to the request.")
    identity_needs: list[str] = Field(
        description="Why an identity document checked by the office is needed before approval "
        "(weak_match, special_care); empty when the e-mail code is enough."
    )

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
            identity_needs=list(r.identity_needs or ()),
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
        session,
        ws.vault,
        service.get(session, request_id),
        body.code,
        now=datetime.now(UTC),
        policy=ws.policy.policy,
    )
    return {"result": result.value}


class CandidateOut(BaseModel):
    """A person the request may be about: a reference, never a personal value."""

    subject_id: str
    score: int = Field(description="0-100: the weights of the identifiers that agree.")
    confidence: matching.Confidence
    reasons: list[str] = Field(description="email, phone, name_birth_date, member_number, name, by_hand.")
    linked: bool
    decision: str | None = Field(description="linked or unlinked when the office decided by hand.")
    decided_by: str | None
    decided_at: datetime | None


class MatchOut(BaseModel):
    candidates: list[CandidateOut]
    identity_needs: list[str]
    identity: str = Field(description="not_needed, needed, sent, accepted or rejected.")


class LinkIn(BaseModel):
    subject_id: Annotated[str, Field(min_length=1, max_length=64)]


class DocumentsCheckIn(BaseModel):
    accept: bool


def _match_out(session: DbSession, r: SubjectRequest) -> MatchOut:
    return MatchOut(
        candidates=[
            CandidateOut(
                subject_id=c.subject_id,
                score=c.score,
                confidence=matching.confidence(c.score),
                reasons=list(c.reasons),
                linked=c.subject_id in (r.subjects or []),
                decision=c.decision,
                decided_by=c.decided_by,
                decided_at=c.decided_at,
            )
            for c in service.candidates(session, r)
        ],
        identity_needs=list(r.identity_needs or ()),
        identity=service.identity_status(session, r),
    )


@personal_router.get("/{request_id}/candidates", response_model=MatchOut)
def candidates(request_id: str, _who: MatchReader, session: DbSession) -> MatchOut:
    """The persons the request's identifiers found, with confidence and reasons, and the identity
    document's state (APPI Art. 33)."""
    return _match_out(session, service.get(session, request_id))


@personal_router.post("/{request_id}/links", response_model=MatchOut)
def link(
    request_id: str, body: LinkIn, who: MatchDecider, session: DbSession, ws: CurrentWorkspace
) -> MatchOut:
    """Link a person to the request by hand, before the decision (audited by ids)."""
    r = service.get(session, request_id)
    service.link(
        session, ws.vault, ws.policy.policy, r, body.subject_id, actor=who.actor, now=datetime.now(UTC)
    )
    session.commit()
    return _match_out(session, r)


@personal_router.delete("/{request_id}/links/{subject_id}", response_model=MatchOut)
def unlink(
    request_id: str, subject_id: str, who: MatchDecider, session: DbSession, ws: CurrentWorkspace
) -> MatchOut:
    """Take a wrongly matched person off the request, before the decision (audited by ids)."""
    r = service.get(session, request_id)
    service.unlink(session, ws.vault, ws.policy.policy, r, subject_id, actor=who.actor, now=datetime.now(UTC))
    session.commit()
    return _match_out(session, r)


class SearchIn(BaseModel):
    """Details the requester gave another way (a letter, a call); used once for the lookup, not kept."""

    name: Annotated[str, Field(max_length=200)] | None = None
    phone: Annotated[str, Field(max_length=40)] | None = None
    birth_date: date | None = None
    member_number: Annotated[str, Field(max_length=40)] | None = None


@personal_router.post("/{request_id}/search", response_model=MatchOut)
def search(
    request_id: str, body: SearchIn, who: MatchDecider, session: DbSession, ws: CurrentWorkspace
) -> MatchOut:
    """Look for the person by blind index; those found become candidates (not linked). Audited with who
    searched and how many were found, never the values."""
    r = service.get(session, request_id)
    service.search_candidates(session, ws.vault, r, actor=who.actor, **body.model_dump())
    session.commit()
    return _match_out(session, r)


@router.post("/{request_id}/documents/check", response_model=RequestOut)
def check_documents(request_id: str, body: DocumentsCheckIn, who: Decider, session: DbSession) -> RequestOut:
    """Accept or reject the documents sent (an agent's authority, an identity document)."""
    r = service.get(session, request_id)
    service.check_documents(session, r, actor=who.actor, accept=body.accept, now=datetime.now(UTC))
    session.commit()
    return RequestOut.of(r)
