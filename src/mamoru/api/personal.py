"""Personal-data routes. Every one takes an :class:`AccessContext` and goes through the guard; the
vault decrypts only what an allowing decision covers. (tests/test_api_guard.py walks them.)"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, Field

from mamoru.api.deps import ERRORS, Access, AccessContext, CurrentWorkspace, DbSession
from mamoru.guard.decision import Action, Decision, answer_fields
from mamoru.guard.engine import StatutoryException
from mamoru.guard.service import Question, decide_many_and_record_async, read_fields
from mamoru.references import Reference
from mamoru.workspace import Workspace

PERSONAL_DATA = "personal-data"
router = APIRouter(responses=ERRORS, prefix="/api/v1", tags=[PERSONAL_DATA])

#: Asking the guard: any staff member, or a system with the guard scope (decided for itself).
GuardAccess = Annotated[AccessContext, Depends(Access("guard"))]
#: Reading a subject's values: staff only; the guard decides for the person.
SubjectAccess = Annotated[AccessContext, Depends(Access("subject"))]


class DecisionRequest(BaseModel):
    subjects: Annotated[list[Reference], Field(min_length=1, max_length=10_000)]
    categories: Annotated[list[Reference], Field(min_length=1, max_length=50)]
    action: Action = Action.READ
    recipient: Reference | None = None
    exception: StatutoryException | None = None
    justification: Annotated[str, Field(max_length=2000)] | None = None


class DecisionOut(BaseModel):
    subject: str
    allow: bool
    reasons: list[str]
    rule: str
    policy_version: str
    mask_fields: list[str]

    @classmethod
    def of(cls, d: Decision) -> DecisionOut:
        return cls(**decision_fields(d))


def decision_fields(d: Decision) -> dict[str, Any]:
    """A :class:`DecisionOut` as plain data: what ``/decisions`` answers, encoded by orjson without a model
    (on the hot path, building and then serializing one model a subject cost more than the encoding)."""
    return answer_fields(d)


class RefusedOut(BaseModel):
    error: str
    detail: str


def _question(item: DecisionRequest) -> Question:
    return Question(
        subjects=item.subjects,
        categories=item.categories,
        action=item.action,
        recipient=item.recipient,
        exception=item.exception,
        justification=item.justification,
    )


async def _answers(
    ws: Workspace, access: AccessContext, items: list[DecisionRequest], *, single: bool = False
) -> Response:
    # Decided on cached state in the event loop (read in a worker thread when the cache lacks it), audited
    # through the group-commit writer, durable before the answer; no thread or connection held meanwhile.
    answers = await decide_many_and_record_async(
        ws.db,
        ws.policy,
        actor=access.actor,
        purpose=access.purpose,
        questions=[_question(item) for item in items],
        now=datetime.now(UTC),
        writer=ws.audit_writer,
    )
    # The shape of ``response_model`` (documented in the OpenAPI schema), encoded without a model
    # (tests/test_api_guard.py checks both agree).
    body = [[decision_fields(d) for d in decisions] for decisions in answers]
    return Response(orjson.dumps(body[0] if single else body), media_type="application/json")


@router.post(
    "/decisions",
    summary="Ask the guard about one use of personal data (one or many subjects)",
    response_model=list[DecisionOut],
)
async def post_decisions(body: DecisionRequest, access: GuardAccess, request: Request) -> Response:
    # The workspace from the request, not from a dependency: one fewer level to resolve on every call.
    return await _answers(request.app.state.workspace, access, [body], single=True)


class BatchRequest(BaseModel):
    requests: Annotated[list[DecisionRequest], Field(min_length=1, max_length=1000)]


@router.post(
    "/decisions/batch",
    summary="Many guard questions in one call, decided and audited together",
    response_model=list[list[DecisionOut]],
)
async def post_decision_batch(body: BatchRequest, access: GuardAccess, ws: CurrentWorkspace) -> Response:
    return await _answers(ws, access, body.requests)


class SubjectValues(BaseModel):
    subject: str
    values: dict[str, str]
    decision: DecisionOut


@router.get(
    "/subjects/{subject_id}",
    summary="Read fields of one subject for the stated purpose (guarded, audited, masked as required)",
    responses={403: {"model": RefusedOut}},
)
def read_subject(
    subject_id: Reference,
    access: SubjectAccess,
    ws: CurrentWorkspace,
    session: DbSession,
    fields: Annotated[list[str], Query(min_length=1, max_length=50)],
) -> SubjectValues:
    decision, values = read_fields(
        session,
        ws.policy,
        ws.vault,
        actor=access.actor,
        purpose=access.purpose,
        subject_id=subject_id,
        fields=fields,
        now=datetime.now(UTC),
    )
    if values is None:
        # Answer instead of raising, so that the transaction holding the denial's audit entry commits.
        detail = f"denied: {', '.join(r.value for r in decision.reasons)} (rule {decision.rule})"
        return JSONResponse({"error": "AccessRefused", "detail": detail}, status_code=403)  # type: ignore[return-value]
    return SubjectValues(subject=subject_id, values=values, decision=DecisionOut.of(decision))
