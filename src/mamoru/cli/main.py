"""The `mamoru` command."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

import typer

from mamoru import __version__, logfilter
from mamoru.cli import (
    audit,
    backup,
    connectors,
    guard,
    incidents,
    keys,
    ledger,
    mynumber,
    people,
    pms,
    policy,
    requests,
    scan,
    staff,
    tokens,
    transfers,
    work,
)
from mamoru.cli.common import emit_json, fail, opened_workspace, out
from mamoru.errors import MamoruError
from mamoru.people.staff import sweep_exits
from mamoru.settings import Settings
from mamoru.setup import initialize
from mamoru.work.queue import submit

logfilter.install()
app = typer.Typer(
    help="mamoru — personal-information protection management system. / 個人情報保護マネジメントシステム。",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
app.add_typer(policy.app, name="policy")
app.add_typer(audit.app, name="audit")
app.add_typer(ledger.app, name="ledger")
app.add_typer(ledger.retention_app, name="retention")
app.add_typer(keys.app, name="keys")
app.add_typer(guard.app, name="guard")
app.add_typer(tokens.app, name="tokens")
app.add_typer(staff.app, name="staff")
app.add_typer(people.training_app, name="training")
app.add_typer(people.rules_app, name="rules")
app.add_typer(people.zones_app, name="zones")
app.add_typer(people.inquiries_app, name="inquiries")
app.add_typer(pms.app, name="pms")
app.add_typer(connectors.app, name="connectors")
app.add_typer(work.work_app, name="work")
app.command("worker")(work.worker)
app.command("backup")(backup.backup)
app.command("restore")(backup.restore)
app.command("scan")(scan.scan)
app.add_typer(requests.app, name="requests")
app.add_typer(transfers.app, name="transfers")
app.add_typer(incidents.app, name="incidents")
app.add_typer(mynumber.app, name="mynumber")


@app.command()
def version() -> None:
    """Print mamoru's version."""
    out.print(__version__)


@app.command()
def init(
    as_json: Annotated[bool, typer.Option("--json", help="Print what was created as JSON.")] = False,
) -> None:
    """Create the workspace: key file (0600), settings, policy, database schema, published notice. Idempotent."""
    try:
        report = initialize(Settings())
    except MamoruError as exc:
        raise fail(str(exc)) from None
    if as_json:
        emit_json(
            {"home": str(report.home), "created": report.created, "notice_version": report.notice_version}
        )
        return
    if not report.created:
        out.print(f"workspace {report.home} is ready (nothing to do)")
    for line in report.created:
        out.print(f"created {line}", highlight=False)
    if report.initial_password:
        out.print(
            f"sign in to /console/ as '{report.initial_login}' with: {report.initial_password}\n"
            f"(shown once; change it with `mamoru staff password {report.initial_login}`)",
            highlight=False,
            markup=False,
        )


@app.command()
def demo(
    seed: Annotated[int, typer.Option(help="Seed; the same seed gives the same organization.")] = 1,
    if_empty: Annotated[
        bool, typer.Option("--if-empty", help="Do nothing if the workspace has data.")
    ] = False,
) -> None:
    """Fill the workspace with a deterministic synthetic demo organization (Faker, ja_JP)."""
    from mamoru.demo.full import load_everything

    with opened_workspace() as ws:
        try:
            loaded = load_everything(ws, seed, if_empty=if_empty)
        except MamoruError as exc:
            raise fail(str(exc)) from None
    if loaded is None:
        out.print("the workspace already has data; demo not loaded")
        return
    out.print(
        f"demo organization loaded (seed {seed}): {len(loaded.plan.staff)} staff, "
        f"{len(loaded.plan.subjects)} data subjects, {loaded.requests} requests, {loaded.incidents} incidents, "
        f"{loaded.numbers} Individual Numbers, {loaded.inquiries} inquiries, {loaded.door_events} door events, "
        f"a demo file share scanned ({loaded.gaps} ledger gaps)"
    )
    logins = ", ".join(m.login for m in loaded.plan.staff)
    out.print(
        f"demo staff ({logins}) sign in to /console/ with: {loaded.password} (shown once)",
        highlight=False,
        markup=False,
    )


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8600,
) -> None:
    """Serve the portal, the staff console and the API (refuses to start without a key or a valid policy)."""
    import uvicorn

    from mamoru.requests import jobs
    from mamoru.server import create_app

    with opened_workspace() as ws:
        out.print(f"mamoru {__version__} on http://{host}:{port}/ — policy {ws.policy.policy.version}")
        for request_id in jobs.pending(ws):  # finish what a crash or a stop interrupted (or queue it)
            submit(ws, "request.fulfil", request_id=request_id)
        with ws.db.session() as session:  # leavers whose day came while nothing ran lose their grants now
            sweep_exits(session, now=datetime.now(UTC))
        uvicorn.run(create_app(ws), host=host, port=port, log_level="info")


if __name__ == "__main__":
    app()
