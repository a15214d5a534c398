"""`mamoru requests …`: the request queue, one request, running fulfilment, the deadline sweep."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

import typer
from sqlalchemy.orm import Session

from mamoru.cli.commands import HELP
from mamoru.cli.common import EXIT_FINDING, emit_json, fail, in_session, opened_workspace, out
from mamoru.errors import MamoruError
from mamoru.requests import jobs, labels, matching, service
from mamoru.requests.plan import steps_of
from mamoru.requests.tables import SubjectRequest
from mamoru.workspace import Workspace

app = typer.Typer(help=HELP["requests"])


def _summary(r: SubjectRequest, now: datetime) -> dict[str, object]:
    return {
        "id": r.id,
        "ref": r.ref,
        "kind": r.kind,
        "status": r.status,
        "outcome": r.outcome,
        "received_at": r.received_at.isoformat(),
        "due_at": r.due_at.isoformat(),
        "days_left": (r.due_at - now).days,
        "escalated": r.escalated_at is not None,
        "late": r.breached_at is not None,
        "subjects": len(r.subjects),
        "identity_needs": list(r.identity_needs or ()),
    }


@app.command("list")
def list_cmd(
    include_closed: Annotated[bool, typer.Option("--all", help="Include answered requests.")] = False,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """List requests by due date (soonest first); exit 1 if any open request is past its deadline."""
    now = datetime.now(UTC)
    with opened_workspace() as ws, ws.db.session() as session:
        rows = [_summary(r, now) for r in service.queue(session, include_closed=include_closed)]
    if as_json:
        emit_json(rows)
    else:
        for row in rows:
            flag = " [期限超過/late]" if row["late"] else " [10日経過/escalated]" if row["escalated"] else ""
            out.print(
                f"{row['ref']}  {row['kind']:<28} {row['status']:<21} due {str(row['due_at'])[:10]}"
                f" ({row['days_left']} days){flag}",
                highlight=False,
                markup=False,
            )
    if any(row["late"] and row["status"] != "completed" for row in rows):
        raise typer.Exit(EXIT_FINDING)


@app.command()
def show(
    request: Annotated[str, typer.Argument(help="Request id or reference, e.g. R20261125-7F3K2A.")],
) -> None:
    """Show one request and its fulfilment steps (codes and times only, no personal values)."""
    now = datetime.now(UTC)
    with opened_workspace() as ws, ws.db.session() as session:
        try:
            r = service.get(session, request)
        except MamoruError as exc:
            raise fail(str(exc)) from None
        data = _summary(r, now)
        data["steps"] = [
            {"position": s.position, "name": s.name, "target": s.target, "done_at": s.done_at}
            for s in steps_of(session, r.id)
        ]
    emit_json(data)


@app.command()
def run(
    request: Annotated[
        str | None, typer.Argument(help="Request id or reference; all pending if omitted.")
    ] = None,
) -> None:
    """Run or resume fulfilment of approved requests (safe to repeat: finished steps are not redone)."""
    with opened_workspace() as ws:
        if request is None:
            ids = jobs.pending(ws)
        else:
            with ws.db.session() as session:
                try:
                    ids = [service.get(session, request).id]
                except MamoruError as exc:
                    raise fail(str(exc)) from None
        stopped = False
        for request_id in ids:
            try:
                status = jobs.run(ws, request_id, retry=request is not None)
            except MamoruError as exc:
                raise fail(f"request {request_id}: {exc}") from None
            out.print(f"{request_id}: {status}", highlight=False, markup=False)
            if status == "needs_attention":
                stopped = True
                with ws.db.session() as session:
                    why = jobs.attention(session, service.get(session, request_id))
                if why is not None:
                    for lang in ("en", "ja"):
                        out.print(
                            f"  {labels.text(labels.ATTENTION, why['attention'], lang)}",
                            highlight=False,
                            markup=False,
                        )
                    out.print(
                        f"  step {why['step']} {why['target']}: {why['detail']}",
                        highlight=False,
                        markup=False,
                    )
                    out.print(
                        f"  mamoru requests run {request_id}  # again, once the cause is fixed", markup=False
                    )
        if not ids:
            out.print("no approved request is waiting")
        if stopped:
            raise typer.Exit(EXIT_FINDING)


@app.command()
def sweep() -> None:
    """Escalate open requests past day 10 and mark those past day 14 (run it daily)."""
    with opened_workspace() as ws, ws.db.session() as session:
        escalated, breached = service.sweep_deadlines(session, now=datetime.now(UTC))
    out.print(f"escalated: {len(escalated)}, past the deadline: {len(breached)}")


RequestRef = Annotated[str, typer.Argument(help="Request id or reference, e.g. R20261125-7F3K2A.")]
SubjectRef = Annotated[str, typer.Argument(help="The person's reference (subject id).")]
By = Annotated[str, typer.Option("--by", help="Who decides (staff:LOGIN); recorded in the audit log.")]


def _matches(session: Session, r: SubjectRequest) -> dict[str, object]:
    return {
        "request": r.ref,
        "status": r.status,
        "identity_needs": list(r.identity_needs or ()),
        "identity": service.identity_status(session, r),
        "candidates": [
            {
                "subject_id": c.subject_id,
                "score": c.score,
                "confidence": matching.confidence(c.score).value,
                "reasons": list(c.reasons),
                "linked": c.subject_id in (r.subjects or []),
                "decision": c.decision,
                "decided_by": c.decided_by,
            }
            for c in service.candidates(session, r)
        ],
    }


@app.command()
def candidates(request: RequestRef) -> None:
    """Show the persons a request may be about: confidence, reasons (codes), linked or not, and the
    identity document's state. References and codes only, no personal values."""
    emit_json(in_session(lambda s, ws: _matches(s, service.get(s, request))))


@app.command()
def link(request: RequestRef, subject: SubjectRef, by: By) -> None:
    """Link a person to a request by hand, before the decision (audited by ids). A person linked below a
    strong match needs an identity document checked before approval."""

    def act(session: Session, ws: Workspace) -> dict[str, object]:
        r = service.get(session, request)
        service.link(session, ws.vault, ws.policy.policy, r, subject, actor=by, now=datetime.now(UTC))
        return _matches(session, r)

    emit_json(in_session(act))


@app.command()
def unlink(request: RequestRef, subject: SubjectRef, by: By) -> None:
    """Take a wrongly matched person off a request, before the decision (audited by ids)."""

    def act(session: Session, ws: Workspace) -> dict[str, object]:
        r = service.get(session, request)
        service.unlink(session, ws.vault, ws.policy.policy, r, subject, actor=by, now=datetime.now(UTC))
        return _matches(session, r)

    emit_json(in_session(act))


@app.command()
def documents(
    request: RequestRef,
    by: By,
    accept: Annotated[bool, typer.Option("--accept/--reject", help="Accept or reject the documents.")],
) -> None:
    """Record the office's check of the documents sent (an agent's authority, an identity document)."""

    def act(session: Session, ws: Workspace) -> dict[str, object]:
        r = service.get(session, request)
        service.check_documents(session, r, actor=by, accept=accept, now=datetime.now(UTC))
        return _matches(session, r)

    emit_json(in_session(act))


@app.command()
def reindex() -> None:
    """Give a blind index to the names, dates of birth and customer numbers stored before requests
    searched by them (run once after upgrading; opens only those values, safe to repeat)."""
    count = in_session(lambda s, ws: ws.vault.reindex(s))
    out.print(f"indexed: {count}")
