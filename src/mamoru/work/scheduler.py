"""Periodic work: each worker runs this loop; a row per task in ``schedule_runs`` makes sure that only
one of them enqueues each run, however many workers there are."""

from __future__ import annotations

import logging
import threading
from datetime import UTC, datetime, timedelta

from sqlalchemy import insert, select, update
from sqlalchemy.exc import IntegrityError

from mamoru.settings import Settings
from mamoru.work.tables import ScheduleRun
from mamoru.work.tasks import SCHEDULE, TASKS
from mamoru.workspace import Workspace

log = logging.getLogger(__name__)


def claim_due(ws: Workspace, now: datetime, schedule: dict[str, int] | None = None) -> list[str]:
    """The tasks due now that this process won the right to enqueue (an atomic conditional update)."""
    won = []
    for task, every in (schedule or SCHEDULE).items():
        with ws.db.session() as session:
            if session.scalar(select(ScheduleRun.task).where(ScheduleRun.task == task)) is None:
                try:
                    with session.begin_nested():
                        session.execute(insert(ScheduleRun).values(task=task, last_run_at=now))
                    won.append(task)
                except IntegrityError:
                    pass
                continue
            result = session.execute(
                update(ScheduleRun)
                .where(ScheduleRun.task == task, ScheduleRun.last_run_at <= now - timedelta(seconds=every))
                .values(last_run_at=now)
            )
            if result.rowcount == 1:  # type: ignore[attr-defined]
                won.append(task)
    return won


def audit_schedule(settings: Settings) -> dict[str, int]:
    """Signing checkpoints and verifying the log, at the intervals the settings give."""
    return {
        "audit.checkpoint": settings.audit_checkpoint_seconds,
        "audit.verify": settings.audit_verify_seconds,
    }


def run_scheduler(ws: Workspace, stop: threading.Event, tick: float = 30.0) -> None:
    from mamoru.work.queue import submit

    schedule = {**SCHEDULE, **audit_schedule(ws.settings)}
    tick = min(tick, ws.settings.audit_checkpoint_seconds / 2)
    while not stop.is_set():
        for task in claim_due(ws, datetime.now(UTC), schedule):
            submit(ws, task)
        stop.wait(tick)


def run_mail_sender(ws: Workspace, stop: threading.Event, tick: float = 1.0) -> None:
    """The outbox's sender, in a thread of ``mamoru serve`` and of each worker: deliver what is due, then
    look again after ``tick`` seconds, or as soon as this process queues a mail (a verification code is
    waited for). Claims are atomic, so any number of senders may run."""
    import logging

    from mamoru.outbox import queued, send_due

    log = logging.getLogger("mamoru.outbox")
    while not stop.is_set():
        queued.clear()
        try:
            report = send_due(ws)
            if report.retrying or report.failed:
                log.warning(
                    "mail: %d sent, %d to retry, %d failed",
                    len(report.sent),
                    len(report.retrying),
                    len(report.failed),
                )
        except Exception as exc:  # a database hiccup must not end the sender; it tries again next tick
            log.warning("mail sender: the outbox could not be worked: %s", type(exc).__name__)
        queued.wait(tick)


def run_audit_schedule(ws: Workspace, stop: threading.Event) -> None:
    """What `serve` runs beside the pages: sign checkpoints and verify the log when due, in this process.
    The same claim as the worker's, so a worker on the same database and `serve` never both run one."""
    schedule = audit_schedule(ws.settings)
    while not stop.is_set():
        for task in claim_due(ws, datetime.now(UTC), schedule):
            try:
                TASKS[task](ws, {})
            except Exception:  # the next tick tries again; a failure must not stop the schedule
                log.exception("%s failed", task)
        stop.wait(ws.settings.audit_checkpoint_seconds / 2)
