"""The background tasks, by name. Each is safe to run twice or concurrently: its effects are journaled
or keyed so that a redelivered message changes nothing more (a queue delivers at least once)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from mamoru.workspace import Workspace

Task = Callable[[Workspace, dict[str, Any]], object]
ACTOR = "system:worker"


def _fulfil(ws: Workspace, args: dict[str, Any]) -> object:
    from mamoru.requests import jobs

    return jobs.run(ws, str(args["request_id"]), retry=bool(args.get("retry")))


def _request_sweep(ws: Workspace, args: dict[str, Any]) -> object:
    from mamoru.requests.service import sweep_deadlines

    with ws.db.session() as session:
        escalated, breached = sweep_deadlines(session, now=datetime.now(UTC))
    return {"escalated": len(escalated), "breached": len(breached)}


def _resume(ws: Workspace, args: dict[str, Any]) -> object:
    """Approved requests whose plan has not finished: hand each to the queue again."""
    from mamoru.requests import jobs
    from mamoru.work.queue import submit

    pending = jobs.pending(ws)
    for request_id in pending:
        submit(ws, "request.fulfil", request_id=request_id)
    return {"resubmitted": len(pending)}


def _deid_run(ws: Workspace, args: dict[str, Any]) -> object:
    """Run (or resume) a dataset's plan. A refusal (k not reached) is kept on the run and not retried."""
    from mamoru.deid import runs

    try:
        result = runs.perform(ws, str(args["dataset_id"]), actor=str(args["actor"]), now=datetime.now(UTC))
    except runs.KAnonymityNotMet as refused:
        return {"refused": True, "smallest_class": refused.result.smallest}
    return {"run": result.run_id, "rows": result.rows}


def _deid_resume(ws: Workspace, args: dict[str, Any]) -> object:
    """Runs of a dataset's plan that have not finished: hand each to the queue again."""
    from mamoru.deid import runs
    from mamoru.work.queue import submit

    pending = runs.pending(ws)
    for dataset_id, actor in pending:
        submit(ws, "deid.run", dataset_id=dataset_id, actor=actor)
    return {"resubmitted": len(pending)}


def _retention(ws: Workspace, args: dict[str, Any]) -> object:
    from mamoru.transfers.expiry import sweep

    now = datetime.now(UTC)
    report = sweep(ws.db, ws.vault, ws.policy.policy, actor=ACTOR, today=now.date(), now=now)
    return {"disposed": len(report.subjects), "partial": len(report.partial), "records": len(report.records)}


def _staff_sweep(ws: Workspace, args: dict[str, Any]) -> object:
    from mamoru.people.staff import sweep_exits

    with ws.db.session() as session:
        return {"revoked": len(sweep_exits(session, now=datetime.now(UTC)))}


def _checkpoint(ws: Workspace, args: dict[str, Any]) -> object:
    from sqlalchemy.exc import IntegrityError

    from mamoru.audit.merkle import Frontier
    from mamoru.audit.proofs import make_checkpoint

    # Kept between runs in this process, so a checkpoint a minute reads only the entries since the last.
    frontier = _FRONTIERS.setdefault(ws.db.url, Frontier())
    try:
        with ws.db.session() as session:
            cp = make_checkpoint(session, ws.signer, frontier=frontier)
    except IntegrityError:  # another process signed this number first; the next run signs the next
        return {"tree_size": 0, "postponed": True}
    except BaseException:
        _FRONTIERS.pop(ws.db.url, None)
        raise
    return {"tree_size": cp.tree_size if cp else 0}


_FRONTIERS: dict[str, Any] = {}


def _verify(ws: Workspace, args: dict[str, Any]) -> object:
    """Verify the whole audit log and keep the signed result (a broken log opens an incident draft)."""
    from mamoru.incidents.signals import verify_log

    report = verify_log(ws, ws.signer.public, by=ACTOR, now=datetime.now(UTC))
    return {"ok": report.ok, "entries": report.entries, "first_bad_seq": report.first_bad_seq}


def _signals(ws: Workspace, args: dict[str, Any]) -> object:
    from mamoru.incidents import signals

    with ws.db.session() as session:
        return {"drafts": len(signals.scan(session, ws.vault))}


def _supervision(ws: Workspace, args: dict[str, Any]) -> object:
    """Monitoring reminders: every processor or foreign recipient whose check is due, in the audit log."""
    from mamoru.transfers.supervision import remind

    with ws.db.session() as session:
        flagged = remind(session, ws.policy.policy, datetime.now(UTC).date(), actor=ACTOR)
    return {"due": len(flagged)}


def _scan_shares(ws: Workspace, args: dict[str, Any]) -> object:
    """Discovery: scan every file share of file-shares.yaml and keep the run with its ledger gaps."""
    from mamoru.scan import service

    return service.scan_shares(ws, actor=str(args.get("actor", ACTOR)))


def _mail(ws: Workspace, args: dict[str, Any]) -> object:
    """The outbox: deliver the mails that are due (see :mod:`mamoru.outbox`)."""
    from mamoru.outbox import send_due

    report = send_due(ws)
    return {"sent": len(report.sent), "retrying": len(report.retrying), "failed": len(report.failed)}


TASKS: dict[str, Task] = {
    "request.fulfil": _fulfil,
    "requests.resume": _resume,
    "requests.sweep": _request_sweep,
    "deid.run": _deid_run,
    "deid.resume": _deid_resume,
    "retention.sweep": _retention,
    "staff.sweep": _staff_sweep,
    "audit.checkpoint": _checkpoint,
    "audit.verify": _verify,
    "incidents.signals": _signals,
    "supervision.reminders": _supervision,
    "scan.shares": _scan_shares,
    "mail.send": _mail,
}

#: Periodic work the worker schedules, with its interval in seconds (and the audit log's, at the
#: intervals of the settings: :func:`mamoru.work.scheduler.audit_schedule`).
SCHEDULE: dict[str, int] = {
    "requests.sweep": 3600,
    "requests.resume": 900,
    "deid.resume": 900,
    "staff.sweep": 3600,
    "retention.sweep": 86400,
    "incidents.signals": 600,
    "supervision.reminders": 86400,
    "scan.shares": 86400,
    "mail.send": 60,
}
