"""A request's fulfilment plan: the steps that answer it, written once when the office decides, and the
outcome they add up to. The steps are run by :mod:`mamoru.requests.jobs`."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from mamoru.law.requests import RequestKind
from mamoru.requests.status import Outcome
from mamoru.requests.tables import RequestStep, SubjectRequest

EFFECT_STEP = {
    RequestKind.CORRECTION: "correct",
    RequestKind.ERASE: "erase",
    RequestKind.STOP_USE: "stop_use",
    RequestKind.STOP_PROVISION: "stop_provision",
}
#: The steps every plan ends with; the others act on the subjects' data.
CLOSING_STEPS = ("package", "notify", "complete")


def steps_of(session: Session, request_id: str) -> list[RequestStep]:
    """The plan's steps in order (none before the office decides)."""
    return list(
        session.scalars(
            select(RequestStep).where(RequestStep.request_id == request_id).order_by(RequestStep.position)
        )
    )


def connector_runs(session: Session, limit: int = 20) -> list[tuple[str, str, datetime, dict[str, Any]]]:
    """The last steps done in the organization's datastores: (request reference, step, when, result)."""
    rows = session.execute(
        select(SubjectRequest.ref, RequestStep.name, RequestStep.done_at, RequestStep.result)
        .join(SubjectRequest, SubjectRequest.id == RequestStep.request_id)
        .where(RequestStep.name.like("connector_%"), RequestStep.done_at.is_not(None))
        .order_by(RequestStep.done_at.desc())
        .limit(limit)
    ).all()
    return [(ref, name, done_at, result) for ref, name, done_at, result in rows]


def plan(
    session: Session, request: SubjectRequest, *, refused: bool = False, connectors: Sequence[str] = ()
) -> list[RequestStep]:
    """The steps that answer the request, written once; an existing plan is kept as it is."""
    existing = steps_of(session, request.id)
    if existing:
        return existing
    names = planned(request, refused=refused, connectors=connectors)
    steps = [
        RequestStep(request_id=request.id, position=i, name=name, target=target)
        for i, (name, target) in enumerate(names)
    ]
    session.add_all(steps)
    session.flush()
    return steps


def planned(
    request: SubjectRequest, *, refused: bool = False, connectors: Sequence[str] = ()
) -> list[tuple[str, str | None]]:
    """The steps (name, target) that would answer the request, without writing them: what :func:`plan`
    writes and what a confirmation page previews."""
    names: list[tuple[str, str | None]] = []
    kind = RequestKind(request.kind)
    if not refused and request.subjects:
        effect = EFFECT_STEP.get(kind)
        if effect is not None:
            if kind in (RequestKind.CORRECTION, RequestKind.ERASE):
                # One step per named datastore, or one for every mapped datastore ("*"), BEFORE the
                # vault's: a datastore that refuses or fails leaves the person whole in mamoru too
                # (the vault's crypto-erase cannot be undone).
                names.extend((f"connector_{effect}", name) for name in (connectors or ("*",)))
            names.extend((effect, subject) for subject in request.subjects)
    return names + [(name, None) for name in CLOSING_STEPS]


def outcome_of(session: Session, request: SubjectRequest) -> Outcome:
    if request.refusal_ground is not None:
        return Outcome.REFUSED
    if not request.subjects:
        return Outcome.NO_DATA
    steps = session.scalars(select(RequestStep).where(RequestStep.request_id == request.id))
    if any(step.result.get("erased") == "partial" for step in steps):
        return Outcome.PARTIAL
    return Outcome.FULFILLED
