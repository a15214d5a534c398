"""`mamoru scan`: find personal information in files or a database and report what the ledger misses."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from mamoru.cli.common import EXIT_FINDING, err, fail, opened_workspace, out
from mamoru.errors import MamoruError
from mamoru.scan import files
from mamoru.scan.recognizers import LABELS
from mamoru.scan.report import Location, ScanResult
from mamoru.store.db import utcnow
from mamoru.workspace import Workspace


def _problem(problem: str) -> str:
    """A gap's kind in English and Japanese, from the same catalogs as the console's."""
    from mamoru.web.i18n import catalog

    key = f"gap_{problem}"
    return f"{catalog('en').get(key, problem)} / {catalog('ja').get(key, problem)}"


def scan(
    paths: Annotated[
        list[Path] | None,
        typer.Argument(help="Files or folders to scan (txt, csv, tsv, xlsx, docx, pdf, …)."),
    ] = None,
    db_url_env: Annotated[
        str | None,
        typer.Option(
            "--db-url-env", help="Scan the database whose SQLAlchemy URL is in this environment variable."
        ),
    ] = None,
    as_json: Annotated[
        bool,
        typer.Option(
            "--json",
            help="JSON lines: each finding (file and line, or table, column and row; kind, masked value, "
            "explanation) as it is found, then the report.",
        ),
    ] = False,
    workers: Annotated[
        int | None,
        typer.Option("--workers", min=1, max=64, help="Worker processes for files (default: CPUs)."),
    ] = None,
    sample_rows: Annotated[
        int | None,
        typer.Option(
            "--sample-rows",
            min=1,
            max=100_000_000,
            help="Rows read per table or sheet (files: 200 by default; a database: every row, a batch at "
            "a time).",
        ),
    ] = None,
    tables: Annotated[
        list[str] | None,
        typer.Option("--table", help="With --db-url-env: scan only this table (repeatable)."),
    ] = None,
    shares: Annotated[
        Path | None,
        typer.Option(
            "--shares", help="File shares and their ledger entries (default: <home>/file-shares.yaml)."
        ),
    ] = None,
    record: Annotated[
        bool, typer.Option("--record/--no-record", help="Keep the run for the console.")
    ] = True,
    not_personal: Annotated[
        str | None,
        typer.Option(
            "--not-personal",
            help="Mark the finding with this fingerprint (from --json) not personal; the next scan leaves "
            "it out. Needs --kind and --reason; scans nothing.",
        ),
    ] = None,
    kind: Annotated[str | None, typer.Option("--kind", help="The marked finding's kind.")] = None,
    reason: Annotated[str | None, typer.Option("--reason", help="Why it is not personal.")] = None,
) -> None:
    # Its help is HELP["scan"] in mamoru.cli.commands (listed without loading this module).
    if not_personal is not None:
        _mark_not_personal(not_personal, kind or "", reason or "")
        return
    if bool(paths) == bool(db_url_env):
        raise fail("give PATH... or --db-url-env VAR (one of them)")
    if tables and not db_url_env:
        raise fail("--table goes with --db-url-env VAR")
    started = utcnow()
    with opened_workspace() as ws:
        from mamoru.scan import service

        try:
            if db_url_env:
                result = service.scan_database(
                    ws,
                    db_url_env,
                    tables=tables,
                    max_rows=sample_rows,
                    found=_emit_findings if as_json else None,
                )
            else:
                result = _scan_files_with_progress(
                    ws,
                    paths or [],
                    workers,
                    sample_rows or files.SAMPLE_ROWS,
                    shares,
                    quiet=as_json,
                    stream=as_json,
                )
        except MamoruError as exc:
            raise fail(_said(exc)) from None
        run_id = None
        if record:
            with ws.db.session() as session:
                run_id = service.record(session, ws, result, actor="cli", started_at=started).id
    if as_json:
        report = result.to_json()
        for loc in report["locations"]:
            loc.pop("occurrences", None)  # already streamed, one line each
        _emit_line({"type": "report", **report, "run": run_id})
    else:
        _print(result, run_id)
    if result.gaps:
        raise typer.Exit(EXIT_FINDING)


def _said(exc: MamoruError) -> str:
    """An error in English and Japanese where the catalog has its words (a connector's failure)."""
    from rich.markup import escape

    from mamoru.connectors.said import Said

    if isinstance(exc, Said):
        return escape(f"{exc.text('en')}\n{exc.text('ja')}")
    return escape(str(exc))


def _mark_not_personal(fingerprint: str, kind: str, reason: str) -> None:
    with opened_workspace() as ws:
        from mamoru.scan import service

        try:
            with ws.db.session() as session:
                mark = service.mark_not_personal(
                    session, fingerprint=fingerprint, entity=kind, reason=reason, actor="cli"
                )
                mark_id = mark.id
        except MamoruError as exc:
            raise fail(_said(exc)) from None
    out.print(
        f"marked not personal (mark {mark_id}): the next scan leaves it out / 個人情報ではないと記録しました"
    )


def _emit_line(data: dict[str, Any]) -> None:
    sys.stdout.write(json.dumps(data, ensure_ascii=False, default=str) + "\n")
    sys.stdout.flush()


def _emit_findings(locations: list[Location]) -> None:
    for loc in locations:
        for line in loc.finding_lines():
            _emit_line(line)


def _scan_files_with_progress(
    ws: Workspace,
    paths: list[Path],
    workers: int | None,
    sample_rows: int,
    shares: Path | None,
    quiet: bool,
    stream: bool = False,
) -> ScanResult:
    from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TimeRemainingColumn

    from mamoru.scan import files, service

    listed = files.list_files([p for p in paths if p.exists()])
    total = sum(p.stat().st_size for p in listed)
    with Progress(
        TextColumn("scanning / 走査中"),
        BarColumn(),
        DownloadColumn(),
        TimeRemainingColumn(),
        console=err,
        disable=quiet or not err.is_terminal,
        transient=True,
    ) as bar:
        task = bar.add_task("scan", total=total or 1)
        return service.scan_files(
            ws,
            paths,
            workers=workers,
            sample_rows=sample_rows,
            shares_path=shares,
            progress=lambda _path, size: bar.advance(task, size),
            found=_emit_findings if stream else None,
        )


def _print(result: ScanResult, run_id: int | None) -> None:
    out.print(
        f"scanned {result.files_scanned} {'files' if result.target_kind == 'files' else 'tables'}, "
        f"{result.bytes_scanned:,} bytes in {result.seconds:.2f} s" + (f" (run {run_id})" if run_id else ""),
        markup=False,
        highlight=False,
    )
    for loc in result.locations:
        parts = [
            f"{LABELS.get(h.entity, {}).get('en', h.entity)} ×{h.count} [{', '.join(h.samples)}]"
            for h in sorted(loc.hits.values(), key=lambda h: h.entity)
        ]
        basis = "" if loc.basis == "text" else f" ({loc.basis}, {loc.rows_sampled} rows sampled)"
        out.print(f"  {loc.where}{basis}: " + "; ".join(parts), markup=False, highlight=False)
    for e in result.errors:
        err.print(f"  skipped: {e}", markup=False, highlight=False)
    if not result.locations:
        out.print("no personal information found / 個人情報は見つかりませんでした")
    if result.gaps:
        out.print(f"LEDGER GAPS ({len(result.gaps)}) / 台帳との差異:", markup=False)
        for g in result.gaps:
            out.print(
                f"  {g.where}: {', '.join(g.entities)} — {_problem(g.problem)}: {g.detail}",
                markup=False,
                highlight=False,
            )
    else:
        out.print("no ledger gaps / 台帳との差異なし")
