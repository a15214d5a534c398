"""`mamoru worker` and `mamoru work …`: background work on the task queue."""

from __future__ import annotations

import signal
import threading
from typing import Annotated

import typer

from mamoru.cli.commands import HELP
from mamoru.cli.common import emit_json, fail, opened_workspace, out
from mamoru.errors import MamoruError
from mamoru.work.tasks import SCHEDULE, TASKS

work_app = typer.Typer(help=HELP["work"])


def worker(
    threads: Annotated[int, typer.Option(help="Worker threads in this process.", min=1, max=64)] = 4,
    schedule: Annotated[
        bool, typer.Option("--schedule/--no-schedule", help="Also enqueue the periodic tasks when due.")
    ] = True,
) -> None:
    # Its help is HELP["worker"] in mamoru.cli.commands (listed without loading this module).
    import dramatiq

    from mamoru.work.queue import broker_for, limit_malloc_arenas, use_workspace
    from mamoru.work.scheduler import run_mail_sender, run_scheduler

    limit_malloc_arenas()  # before any thread of the worker starts
    with opened_workspace() as ws:
        url = ws.settings.broker_url
        if not url:
            raise fail("MAMORU_BROKER_URL is not set: without a queue, work runs inside `mamoru serve`")
        try:
            broker = broker_for(url, ws.settings.queue_name)
        except MamoruError as exc:
            raise fail(str(exc)) from None
        use_workspace(ws)
        stop = threading.Event()
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, lambda *_: stop.set())
        # An idle consumer of the Redis broker polls with a backoff up to worker_timeout (Dramatiq's
        # default: 1 s), which a request approved while the worker is idle used to wait out.
        runner = dramatiq.Worker(
            broker, queues={ws.settings.queue_name}, worker_threads=threads, worker_timeout=100
        )
        runner.start()
        threading.Thread(target=run_mail_sender, args=(ws, stop), name="mail", daemon=True).start()
        ticker = None
        if schedule:
            ticker = threading.Thread(target=run_scheduler, args=(ws, stop), daemon=True)
            ticker.start()
        out.print(f"worker ready: {threads} threads on queue '{ws.settings.queue_name}'", highlight=False)
        while not stop.wait(1.0):
            pass
        runner.stop()
        use_workspace(None)
        broker.close()


@work_app.command("run")
def run(
    task: Annotated[str, typer.Argument(help=f"One of: {', '.join(TASKS)}.")],
    queue: Annotated[
        bool, typer.Option("--queue", help="Put it on the queue instead of running it here.")
    ] = False,
) -> None:
    """Run one background task now (or queue it), e.g. after a restore or from cron without a worker."""
    from mamoru.work.queue import submit

    if task not in TASKS:
        raise fail(f"no task '{task}'; one of: {', '.join(TASKS)}")
    with opened_workspace() as ws:
        if queue:
            if not ws.settings.broker_url:
                raise fail("--queue needs MAMORU_BROKER_URL")
            submit(ws, task)
            out.print(f"{task} queued")
            return
        result = TASKS[task](ws, {})
    emit_json({"task": task, "result": result})


@work_app.command("schedule")
def schedule_cmd() -> None:
    """The periodic tasks a worker enqueues and how often."""
    from mamoru.settings import Settings
    from mamoru.work.scheduler import audit_schedule

    for task, every in {**SCHEDULE, **audit_schedule(Settings())}.items():
        out.print(f"{task:<24} every {every // 60} min", highlight=False)
