"""`mamoru deid …`: processing plans, runs, publication, provision and retirement of pseudonymized and
anonymized datasets. Thin: each command is one service call."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer

from mamoru.cli.commands import HELP
from mamoru.cli.common import EXIT_FINDING, day_or_today, emit_json, fail, opened_workspace, out
from mamoru.deid import register as reg
from mamoru.deid import runs
from mamoru.deid import service as deid
from mamoru.deid.breach import open_breach_from_form
from mamoru.deid.plan import PlanRefused, parse_plan
from mamoru.deid.rules import Basis
from mamoru.errors import MamoruError
from mamoru.policy.model import Text

app = typer.Typer(help=HELP["deid"])

By = Annotated[str, typer.Option("--by", help="Who acts (staff:LOGIN or system:NAME).")]
Json = Annotated[bool, typer.Option("--json", help="Print the result as JSON.")]


def _text(ja: str | None, en: str | None, option: str) -> Text | None:
    if ja is None and en is None:
        return None
    if not (ja or "").strip() or not (en or "").strip():
        raise fail(f"{option}: give both --{option}-ja and --{option}-en")
    return Text(ja=ja or "", en=en or "")


@app.command()
def plan(
    file: Annotated[Path, typer.Argument(help="The plan (YAML, schema mamoru.deid/1).")],
    check_only: Annotated[bool, typer.Option("--check", help="Check the plan only; store nothing.")] = False,
    measures_ja: Annotated[str | None, typer.Option("--measures-ja", help="Safety measures (ja).")] = None,
    measures_en: Annotated[str | None, typer.Option("--measures-en", help="Safety measures (en).")] = None,
    contact_ja: Annotated[str | None, typer.Option("--contact-ja", help="Complaint contact (ja).")] = None,
    contact_en: Annotated[str | None, typer.Option("--contact-en", help="Complaint contact (en).")] = None,
    by: By = "system:deid",
    as_json: Json = False,
) -> None:
    """Check a plan against the processing standards (APPI-41a, APPI-43), store it and register its
    dataset. Exit 1 when the plan is refused, with each field and the rule it breaks."""
    try:
        parsed = parse_plan(file.read_text(encoding="utf-8"), str(file))
    except (OSError, MamoruError) as exc:
        raise fail(str(exc)) from None
    measures = _text(measures_ja, measures_en, "measures")
    contact = _text(contact_ja, contact_en, "contact")
    with opened_workspace() as ws:
        try:
            with ws.db.session() as session:
                if check_only:
                    from mamoru.deid.plan import check_plan

                    problems = check_plan(parsed, reg.source_shape(session, ws, parsed))
                    if problems:
                        raise PlanRefused(problems)
                    result: dict[str, object] = {"plan": parsed.id, "version": parsed.version, "ok": True}
                else:
                    reg.store_plan(session, ws, parsed, actor=by)
                    row = reg.register(
                        session, ws, parsed, actor=by, safety_measures=measures, complaint_contact=contact
                    )
                    result = {
                        "plan": parsed.id,
                        "version": parsed.version,
                        "dataset": row.id,
                        "kind": row.kind,
                    }
        except PlanRefused as exc:
            rows = [
                {"field": p.field, "code": p.code, "requirement": p.requirement} for p in exc.plan_problems
            ]
            if as_json:
                emit_json({"plan": parsed.id, "ok": False, "problems": rows})
            else:
                for p in exc.plan_problems:
                    out.print(
                        f"{p.requirement} {p.field}: {p.code} — {p.message}", highlight=False, markup=False
                    )
            raise typer.Exit(EXIT_FINDING) from None
        except MamoruError as exc:
            raise fail(str(exc)) from None
    if as_json:
        emit_json(result)
    else:
        out.print(" ".join(f"{k}={v}" for k, v in result.items()), highlight=False, markup=False)


@app.command()
def run(
    dataset: Annotated[str, typer.Argument(help="The dataset's id (from `mamoru deid plan`).")],
    page: Annotated[int, typer.Option("--page", min=100, help="Rows per journaled page.")] = runs.PAGE,
    by: By = "system:deid",
    as_json: Json = False,
) -> None:
    """Run (or resume) the dataset's plan: CSV, Parquet when pyarrow is installed, manifest. Exit 1 when an
    anonymized output would not reach the policy's k."""
    with opened_workspace() as ws:
        try:
            result = runs.perform(ws, dataset, actor=by, now=datetime.now(UTC), page_size=page)
        except runs.KAnonymityNotMet as exc:
            out.print(str(exc), highlight=False, markup=False)
            raise typer.Exit(EXIT_FINDING) from None
        except MamoruError as exc:
            raise fail(str(exc)) from None
    summary = {
        "run": result.run_id,
        "rows": result.rows,
        "suppressed": result.suppressed,
        "smallest_class": result.smallest_class,
        "sha256": result.sha256,
        "folder": str(result.folder),
    }
    if as_json:
        emit_json(summary)
    else:
        out.print(" ".join(f"{k}={v}" for k, v in summary.items()), highlight=False, markup=False)


@app.command()
def publish(
    dataset: Annotated[str, typer.Argument(help="The anonymized dataset's id.")],
    method_ja: Annotated[str, typer.Option("--method-ja", help="How it is provided (ja).")],
    method_en: Annotated[str, typer.Option("--method-en", help="How it is provided (en).")],
    items: Annotated[
        str | None, typer.Option("--items", help="Items provided, comma-separated (default: all).")
    ] = None,
    by: By = "system:deid",
) -> None:
    """Publish the items and the method of a provision of an anonymized dataset before it (APPI-43, 44)."""
    method = _text(method_ja, method_en, "method")
    assert method is not None
    chosen = [i.strip() for i in items.split(",") if i.strip()] if items else None
    with opened_workspace() as ws:
        try:
            with ws.db.session() as session:
                pub = reg.publish_provision(
                    session, dataset, method=method, actor=by, now=datetime.now(UTC), items=chosen
                )
                pub_id = pub.id
        except MamoruError as exc:
            raise fail(str(exc)) from None
    out.print(f"publication={pub_id}", highlight=False, markup=False)


@app.command()
def provide(
    dataset: Annotated[str, typer.Argument(help="The dataset's id.")],
    recipient: Annotated[str, typer.Option("--recipient", help="The receiving business.")],
    basis: Annotated[Basis, typer.Option("--basis", help="third_party, entrustment, joint_use or law.")],
    publication: Annotated[
        int | None, typer.Option("--publication", help="The provision's publication.")
    ] = None,
    statement: Annotated[
        bool, typer.Option("--statement", help="The recipient is told the data is anonymized (APPI-43).")
    ] = False,
    by: By = "system:deid",
) -> None:
    """Provide a dataset and record it; the guard's refusal (exit 1) names its reason and article."""
    with opened_workspace() as ws:
        try:
            with ws.db.session() as session:
                record = deid.provide(
                    session,
                    dataset,
                    recipient=recipient,
                    basis=basis,
                    actor=by,
                    now=datetime.now(UTC),
                    publication_id=publication,
                    statement=statement,
                )
                record_id, said = record.id, record.statement
        except deid.DeidRefused as exc:
            out.print(f"refused: {exc}", highlight=False, markup=False)
            raise typer.Exit(EXIT_FINDING) from None
        except MamoruError as exc:
            raise fail(str(exc)) from None
    out.print(f"provision={record_id}", highlight=False, markup=False)
    if said:
        out.print(said, highlight=False, markup=False)


@app.command("list")
def list_cmd(as_json: Json = False) -> None:
    """The registers: every dataset, its kind, status, purpose, items and creation date."""
    with opened_workspace() as ws, ws.db.session() as session:
        rows = [
            {
                "dataset": d.id,
                "kind": d.kind,
                "status": d.status,
                "title": d.title["en"],
                "purpose": d.purpose,
                "items": d.items,
                "created_at": d.created_at.isoformat() if d.created_at else None,
            }
            for d in reg.datasets(session)
        ]
    if as_json:
        emit_json(rows)
    else:
        for r in rows:
            out.print(
                f"{r['dataset']}  {r['kind']:<13} {r['status']:<10} {r['title']}",
                highlight=False,
                markup=False,
            )


@app.command()
def retire(
    dataset: Annotated[str, typer.Argument(help="The dataset's id.")],
    today: Annotated[str | None, typer.Option("--today", help="Run as of this date (YYYY-MM-DD).")] = None,
    by: By = "system:deid",
) -> None:
    """Delete a dataset no longer needed, its files and its token mapping; keep a disposal record."""
    day = day_or_today(today, "--today")
    with opened_workspace() as ws:
        try:
            with ws.db.session() as session:
                record = reg.retire(session, ws, dataset, actor=by, today=day)
                files, mappings = record.files, record.mappings
        except MamoruError as exc:
            raise fail(str(exc)) from None
    out.print(f"retired: {files} file(s), {mappings} mapping(s) deleted; disposal record kept")


@app.command()
def breach(
    datasets: Annotated[list[str], typer.Argument(help="The datasets involved (their ids).")],
    aware_at: Annotated[
        str,
        typer.Option("--aware-at", help="When a staff member first knew, Japan's time: 2026-11-20T10:00."),
    ],
    overview: Annotated[str, typer.Option("--overview", help="What happened, in a few words.")],
    other_data: Annotated[
        bool, typer.Option("--other-data", help="Other personal data is involved too.")
    ] = False,
    by: By = "system:deid",
) -> None:
    """Open an incident over registered datasets (APPI-26b): when only pseudonymized information is
    involved, the register says so and the PPC report clock does not start; otherwise it does."""
    form = {
        "datasets": list(datasets),
        "aware_at": aware_at,
        "overview": overview,
        "other_data": "true" if other_data else "",
    }
    with opened_workspace() as ws:
        try:
            with ws.db.session() as session:
                incident = open_breach_from_form(session, ws.vault, form, actor=by, now=datetime.now(UTC))
                ref = incident.ref
        except MamoruError as exc:
            raise fail(str(exc)) from None
    out.print(f"incident {ref} opened", highlight=False)
