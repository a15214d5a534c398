"""`mamoru ledger …` and `mamoru retention …`: the personal-information ledger and disposal."""

from __future__ import annotations

from datetime import UTC, date, datetime
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer
from sqlalchemy.orm import Session

from mamoru.cli.commands import HELP
from mamoru.cli.common import EXIT_FINDING, day_or_today, emit_json, fail, in_session, opened_workspace, out
from mamoru.connectors.events import record_from_datastore
from mamoru.errors import MamoruError
from mamoru.files import write_private
from mamoru.ledger import entries as ledger
from mamoru.ledger import retention
from mamoru.transfers import expiry
from mamoru.workspace import Workspace

app = typer.Typer(help=HELP["ledger"])
retention_app = typer.Typer(help=HELP["retention"])


class ExportFormat(StrEnum):
    csv = "csv"
    xlsx = "xlsx"


@app.command("list")
def list_cmd(as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """List the ledger entries with their review status; exit 1 if any is incomplete or overdue."""
    now = datetime.now(UTC)
    with opened_workspace() as ws, ws.db.session() as session:
        rows = ledger.list_entries(session)
        statuses = [ledger.status(row, ws.policy.policy, now) for row in rows]
        data = [
            {
                "code": row.code,
                "name": row.name,
                "purposes": row.purposes,
                "special_care": st.special_care,
                "my_number": st.my_number,
                "last_reviewed_at": row.last_reviewed_at.isoformat() if row.last_reviewed_at else None,
                "review_overdue": st.review_overdue,
                "missing": list(st.missing),
            }
            for row, st in zip(rows, statuses, strict=True)
        ]
    if as_json:
        emit_json(data)
    else:
        for item in data:
            flags = " ".join(
                flag
                for flag, on in (
                    ("[要配慮]", item["special_care"]),
                    ("[MyNumber]", item["my_number"]),
                    ("[見直し超過/review overdue]", item["review_overdue"]),
                    ("[不備/incomplete]", item["missing"]),
                )
                if on
            )
            out.print(
                f"{item['code']!s:<24} {str(item['name'])[:40]:<40} {flags}", highlight=False, markup=False
            )
    if any(item["review_overdue"] or item["missing"] for item in data):
        raise typer.Exit(EXIT_FINDING)


@app.command()
def review(
    code: Annotated[str, typer.Argument(help="Ledger entry code.")],
    by: Annotated[str, typer.Option(help="Reviewer (staff reference, e.g. staff:pm01).")],
) -> None:
    """Record the annual review of a ledger entry."""
    with opened_workspace() as ws, ws.db.session() as session:
        try:
            ledger.review_entry(session, code, by, datetime.now(UTC))
        except MamoruError as exc:
            raise fail(str(exc)) from None
    out.print(f"{code}: reviewed by {by}")


@app.command()
def export(
    fmt: Annotated[ExportFormat, typer.Option("--format", help="csv or xlsx (Excel).")] = ExportFormat.xlsx,
    lang: Annotated[str, typer.Option(help="ja or en column names and texts.")] = "ja",
    output: Annotated[Path, typer.Option("--out", "-o", help="File to write.")] = Path("ledger.xlsx"),
) -> None:
    """Export the ledger to CSV (UTF-8 with BOM) or an Excel workbook."""
    if lang not in ("ja", "en"):
        raise fail("--lang: use ja or en")
    now = datetime.now(UTC)
    with opened_workspace() as ws, ws.db.session() as session:
        rows = ledger.list_entries(session)
        if fmt is ExportFormat.csv:
            write_private(output, ledger.export_csv(rows, ws.policy.policy, lang, now))
        else:
            write_private(output, ledger.export_xlsx(rows, ws.policy.policy, lang, now))
    out.print(f"wrote {output} ({len(rows)} entries)")


@retention_app.command()
def sweep(
    today: Annotated[str | None, typer.Option(help="Treat this ISO date as today (default: today).")] = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Only list what is due.")] = False,
    by: Annotated[str, typer.Option(help="Who runs the sweep.")] = "system:retention",
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Erase what is past retention and write a disposal record for each: persons as a whole, single
    ledger entries and fields of persons kept on other grounds, provision and receipt records on their date."""
    try:
        day = date.fromisoformat(today) if today else datetime.now(UTC).date()
    except ValueError:
        raise fail(f"--today: '{today}' is not an ISO date (YYYY-MM-DD)") from None
    with opened_workspace() as ws:
        report = expiry.sweep(
            ws.db, ws.vault, ws.policy.policy, actor=by, today=day, now=datetime.now(UTC), dry_run=dry_run
        )
    if as_json:
        emit_json(
            {
                "today": day.isoformat(),
                "due": report.subjects,
                "partial": report.partial,
                "records": report.records,
                "disposal_records": report.disposed,
            }
        )
    else:
        verb = "due" if dry_run else "disposed of"
        out.print(
            f"{len(report.subjects)} subjects {verb}, {len(report.partial)} in part, "
            f"{len(report.records)} provision or receipt records (as of {day})"
        )


@retention_app.command("event")
def event_cmd(
    subject: Annotated[str, typer.Argument(help="The person's reference (subject id).")],
    kind: Annotated[retention.EventKind, typer.Argument(help="What ended.")],
    on: Annotated[str, typer.Option("--on", help="The day it ended, YYYY-MM-DD (default: today).")] = "",
    ledger_code: Annotated[
        str | None, typer.Option("--ledger", help="Only this ledger entry (default: every entry).")
    ] = None,
    by: Annotated[str, typer.Option(help="Who records it.")] = "system:cli",
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Record that a contract, employment or use ended; the retention rules waiting for it start (the day
    itself not counted). Exit 2, changing nothing, on an unknown person, kind or ledger entry or a future date."""
    day = day_or_today(on or None, "--on")

    def record(session: Session, ws: Workspace) -> retention.EventResult:
        return retention.record_event(
            session,
            ws.policy.policy,
            subject,
            kind,
            day,
            actor=by,
            source="cli",
            now=datetime.now(UTC),
            ledger_code=ledger_code,
        )

    result = in_session(record)
    started = {str(k): v.isoformat() for k, v in result.started.items()}
    if as_json:
        emit_json(
            {"event": result.event.id, "kind": kind.value, "occurred_on": day.isoformat(), "started": started}
        )
    else:
        until = max(result.started.values()).isoformat() if result.started else None
        out.print(
            f"event {result.event.id} recorded: {len(started)} acquisitions now kept until {until}"
            if until
            else f"event {result.event.id} recorded: no retention rule of this person starts at {kind.value}",
            highlight=False,
            markup=False,
        )


@retention_app.command("import")
def import_cmd(
    file: Annotated[
        Path | None,
        typer.Argument(
            help="CSV with a header: subject_id,kind,occurred_on[,ledger_code]. Omitted with --connector: "
            "read the events from that datastore's mapped date columns."
        ),
    ] = None,
    connector: Annotated[
        str | None, typer.Option(help="The datastore the events come from (recorded as connector:NAME).")
    ] = None,
    by: Annotated[str, typer.Option(help="Who records them.")] = "system:cli",
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Record many events from a file (a connector's or a system's export), or straight from a mapped
    datastore (`--connector NAME` and no file: the date columns its map names under `events`, for the
    persons mamoru holds), all or none: exit 2 naming every refused row, and nothing is recorded."""
    import csv
    import io

    if file is None:
        if connector is None:
            raise fail("give a CSV file, or --connector NAME to read the events from that datastore")
        name = connector
        done = in_session(
            lambda session, ws: record_from_datastore(session, ws, name, actor=by, now=datetime.now(UTC))
        )
        if as_json:
            emit_json(
                {
                    "events": done.recorded,
                    "started": done.started,
                    "not_held": done.not_held,
                    "not_yet": done.not_yet,
                }
            )
        else:
            out.print(
                f"{done.recorded} events recorded from {name}; {done.started} acquisitions now dated "
                f"({done.not_held} rows of persons not held, {done.not_yet} dates still to come)",
                highlight=False,
            )
        return

    try:
        text = file.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise fail(f"{file}: cannot be read as UTF-8 text ({type(exc).__name__})") from None
    reader = csv.DictReader(io.StringIO(text))
    missing = {"subject_id", "kind", "occurred_on"} - set(reader.fieldnames or [])
    if missing:
        raise fail(f"{file}: the header lacks {', '.join(sorted(missing))}")
    rows: list[retention.EventRow] = []
    for i, raw in enumerate(reader, start=1):
        try:
            day = date.fromisoformat((raw.get("occurred_on") or "").strip())
        except ValueError:
            raise fail(f"{file}: row {i}: occurred_on is not a date like 2026-11-25") from None
        rows.append(
            retention.EventRow(
                (raw.get("subject_id") or "").strip(),
                (raw.get("kind") or "").strip(),
                day,
                (raw.get("ledger_code") or "").strip() or None,
            )
        )
    source = f"connector:{connector}" if connector else "cli"
    results = in_session(
        lambda session, ws: retention.record_events(
            session, ws.policy.policy, rows, actor=by, source=source, now=datetime.now(UTC)
        )
    )
    started = sum(len(r.started) for r in results)
    if as_json:
        emit_json({"events": len(results), "started": started})
    else:
        out.print(f"{len(results)} events recorded; {started} acquisitions now dated", highlight=False)
