"""`mamoru incidents …`: the open clocks, one incident, the signal scan, the reports."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from mamoru.cli.commands import HELP
from mamoru.cli.common import EXIT_FINDING, day_or_today, emit_json, fail, opened_workspace, out
from mamoru.errors import MamoruError
from mamoru.files import write_private
from mamoru.incidents import service as incidents
from mamoru.incidents import signals
from mamoru.incidents.service import ReportKind

app = typer.Typer(help=HELP["incidents"])


@app.command("list")
def list_cmd(
    at: Annotated[str | None, typer.Option("--at", help="Show the clocks as of this date.")] = None,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Open incidents with their PPC and PrivacyMark deadlines; exit 1 if a report is overdue."""
    today = day_or_today(at, "--at")
    with opened_workspace() as ws, ws.db.session() as session:
        rows = [
            {
                "ref": v.incident.ref,
                "status": v.incident.status,
                "source": v.incident.source,
                "aware_at": v.incident.aware_at.isoformat(),
                "persons": v.incident.affected_count,
                "categories": sorted(c.value for c in v.classification.categories),
                "prelim_due": v.clock.prelim_due.isoformat(),
                "final_due": v.clock.final_conservative.isoformat(),
                "ppc": v.state,
                "privacymark": v.pmark_state,
                "privacymark_prelim_required": v.classification.privacymark_prelim_required,
                "suspected_only": v.classification.suspected_only,
            }
            for v in incidents.open_clocks(session, today)
        ]
    if as_json:
        emit_json(rows)
    else:
        for r in rows:
            out.print(
                f"{r['ref']}  {r['status']:<6} persons {r['persons']:<6} PPC {r['ppc']:<15} "
                f"prelim {r['prelim_due']} final {r['final_due']}  PMark {r['privacymark']}",
                highlight=False,
                markup=False,
            )
    if any("overdue" in str(r["ppc"]) or "overdue" in str(r["privacymark"]) for r in rows):
        raise typer.Exit(EXIT_FINDING)


@app.command()
def show(ref: str) -> None:
    """One incident's facts, classification, deadlines and stages as JSON (no narrative)."""
    with opened_workspace() as ws, ws.db.session() as session:
        try:
            i = incidents.get(session, ref)
        except MamoruError as exc:
            raise fail(str(exc)) from None
        c, k = incidents.classification(i), incidents.clock(i)
        emit_json(
            {
                "ref": i.ref,
                "status": i.status,
                "source": i.source,
                "aware_at": i.aware_at,
                "persons": i.affected_count,
                "reportable": c.reportable,
                "categories": sorted(x.value for x in c.categories),
                "my_number_reportable": c.my_number_reportable,
                "exemption": c.exemption,
                "prelim": [k.prelim_warning, k.prelim_due],
                "final": [k.final_conservative, k.final_lenient],
                "stages_done": sorted(i.stages),
                "reports": sorted(incidents.submitted(session, i)),
            }
        )


@app.command("signals")
def scan() -> None:
    """Scan the audit log for signals (My Number denials, unusual read volumes) and open drafts."""
    with opened_workspace() as ws, ws.db.session() as session:
        opened = signals.scan(session, ws.vault)
        refs = [(i.ref, i.source) for i in opened]
    for ref, source in refs:
        out.print(f"draft {ref} ({source})", highlight=False, markup=False)
    out.print(f"{len(refs)} draft(s) opened")


@app.command()
def report(
    ref: str,
    kind: Annotated[ReportKind, typer.Argument(help="ppc_prelim, ppc_final, pmark_prelim or pmark_final")],
    fmt: Annotated[str, typer.Option("--format", help="json or html")] = "json",
    out_file: Annotated[Path | None, typer.Option("--out", help="Write to this file.")] = None,
) -> None:
    """Print a report as it would be filed now (JSON for the PPC web form, or printable HTML)."""
    with opened_workspace() as ws, ws.db.session() as session:
        try:
            content = incidents.report_content(ws, session, incidents.get(session, ref), kind)
        except MamoruError as exc:
            raise fail(str(exc)) from None
    if fmt not in ("json", "html"):
        raise fail("--format: json or html")
    if fmt == "html":
        text = incidents.render_report(content)
        if out_file:
            write_private(out_file, text)
        else:
            typer.echo(text)
    else:
        content["missing"] = incidents.missing_items(content)
        if out_file:
            import json

            write_private(out_file, json.dumps(content, ensure_ascii=False, indent=2))
        else:
            emit_json(content)
