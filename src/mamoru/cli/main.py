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
from mamoru.demo import is_empty, load_demo
from mamoru.errors import MamoruError
from mamoru.incidents.demo import load_demo_incidents
from mamoru.mynumber.demo import load_demo_numbers
from mamoru.people.auth import new_password, set_password
from mamoru.people.demo import load_demo_people
from mamoru.people.staff import sweep_exits
from mamoru.requests.demo import load_demo_requests
from mamoru.settings import Settings
from mamoru.work.queue import submit
from mamoru.workspace import Workspace, initialize

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
    with opened_workspace() as ws, ws.db.session() as session:
        if if_empty and not is_empty(session):
            out.print("the workspace already has data; demo not loaded")
            return
        try:
            plan = load_demo(session, ws.vault, ws.policy.policy, seed)
            password = new_password()
            for member in plan.staff:
                set_password(session, member.login, password, actor="system:demo")
        except MamoruError as exc:
            raise fail(str(exc)) from None
    with opened_workspace() as ws:
        requests_made = load_demo_requests(ws, plan, datetime.now(UTC))
        incidents_made = load_demo_incidents(ws, plan, datetime.now(UTC))
        numbers = load_demo_numbers(ws, plan, datetime.now(UTC), seed)
        with ws.db.session() as session:
            people = load_demo_people(session, ws.vault, ws.policy.policy, datetime.now(UTC))
        gaps = _demo_scan(ws, seed)
    out.print(
        f"demo organization loaded (seed {seed}): {len(plan.staff)} staff, {len(plan.subjects)} data subjects, "
        f"{len(requests_made)} requests, {len(incidents_made)} incidents, {numbers} Individual Numbers, "
        f"{people['inquiries']} inquiries, {people['door_events']} door events, "
        f"a demo file share scanned ({gaps} ledger gaps)"
    )
    logins = ", ".join(m.login for m in plan.staff)
    out.print(
        f"demo staff ({logins}) sign in to /console/ with: {password} (shown once)",
        highlight=False,
        markup=False,
    )


def _demo_scan(ws: Workspace, seed: int) -> int:
    """Write the demo file share and scan it once, so the console's discovery page has a run."""
    from mamoru.scan import service
    from mamoru.scan.demo import write_demo_share

    started = datetime.now(UTC)
    root = write_demo_share(ws.settings.home, seed)
    result = service.scan_files(ws, [root], workers=1)
    with ws.db.session() as session:
        service.record(session, ws, result, actor="system:demo", started_at=started)
    return len(result.gaps)


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8600,
) -> None:
    """Serve the portal, the staff console and the API (refuses to start without a key or a valid policy)."""
    import uvicorn

    from mamoru.api.app import create_app
    from mamoru.requests import jobs

    with opened_workspace() as ws:
        out.print(f"mamoru {__version__} on http://{host}:{port}/ — policy {ws.policy.policy.version}")
        for request_id in jobs.pending(ws):  # finish what a crash or a stop interrupted (or queue it)
            submit(ws, "request.fulfil", request_id=request_id)
        with ws.db.session() as session:  # leavers whose day came while nothing ran lose their grants now
            sweep_exits(session, now=datetime.now(UTC))
        uvicorn.run(create_app(ws), host=host, port=port, log_level="info")


if __name__ == "__main__":
    app()
