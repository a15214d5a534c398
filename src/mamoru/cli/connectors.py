"""`mamoru connectors …`: dataset maps of the organization's own databases."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated

import typer

from mamoru.cli.commands import HELP
from mamoru.cli.common import EXIT_FINDING, emit_json, fail, opened_workspace, out
from mamoru.connectors import interop
from mamoru.connectors.maps import load_map
from mamoru.errors import MamoruError
from mamoru.files import write_private
from mamoru.scan import draft as map_draft

app = typer.Typer(help=HELP["connectors"])
UrlEnv = Annotated[str, typer.Option("--url-env", help="Environment variable holding the SQLAlchemy URL.")]


@app.command("list")
def list_(
    test: Annotated[
        bool, typer.Option("--test", help="Also connect to each and read its mapped tables.")
    ] = False,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """The datastores of `<home>/datasets/`, their tables and ledger entries; exit 1 if one fails."""
    from mamoru.connectors.registry import check

    with opened_workspace() as ws, ws.db.session() as session:
        try:
            checks = check(session, ws, test=test)
        except MamoruError as exc:
            raise fail(str(exc)) from None
    failed = not all(c.ok for c in checks)
    rows = [
        {
            "name": c.name,
            "url_env": c.map.url_env,
            "tables": [t.name for t in c.map.tables],
            "ledger_entries": c.map.ledger_entries,
            "unknown_ledger_entries": c.unknown_ledger_entries,
            "connection": "not tested"
            if not test
            else (f"failed: {c.failure}" if c.failure else f"ok ({c.tested_tables} tables)"),
        }
        for c in checks
    ]
    if as_json:
        emit_json(rows)
    else:
        for r in rows:
            out.print(
                f"{r['name']:<20} ${r['url_env']:<24} {len(r['tables'])} tables, ledger {','.join(r['ledger_entries']) or '-'}"
                f"{' UNKNOWN ' + ','.join(r['unknown_ledger_entries']) if r['unknown_ledger_entries'] else ''}: {r['connection']}",
                markup=False,
            )
        if not rows:
            out.print("no dataset maps in <home>/datasets/")
    if failed:
        raise typer.Exit(EXIT_FINDING)


@app.command("check")
def check(
    file: Annotated[
        Path | None,
        typer.Argument(help="A dataset map (YAML); all of <home>/datasets/ with --live.", dir_okay=False),
    ] = None,
    live: Annotated[
        bool,
        typer.Option(
            "--live",
            help="Also read each database's own foreign keys and name every one the map does not declare (exit 1).",
        ),
    ] = False,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Check a dataset map against the policy, every problem with its file and line (exit 2); with --live,
    against its database's foreign keys too (exit 1 for an undeclared one)."""
    from mamoru.connectors.registry import live_check

    if file is None and not live:
        raise fail("give a dataset map, or --live to check every map of <home>/datasets/")
    if file is not None and not file.is_file():
        raise fail(f"{file}: no such file")
    with opened_workspace() as ws:
        try:
            maps = [load_map(file, ws.policy.policy)] if file is not None else None
            checks = live_check(ws, maps) if live else []
        except MamoruError as exc:
            raise fail(str(exc)) from None
    if as_json:
        emit_json(
            [
                {"name": c.name, "undeclared": [str(link) for link in c.undeclared], "failure": c.failure}
                for c in checks
            ]
            if live
            else [{"file": str(file), "valid": True}]
        )
    else:
        if maps:
            out.print(f"{file}: valid ({maps[0].name}, {len(maps[0].tables)} tables)", markup=False)
        for c in checks:
            if c.failure:
                out.print(f"{c.name}: failed: {c.failure}", markup=False)
            elif not c.undeclared:
                out.print(f"{c.name}: every foreign key of the database is declared", markup=False)
            for link in c.undeclared:
                out.print(f"{c.name}: foreign key {link} is not declared in the map", markup=False)
    if not all(c.ok for c in checks):
        raise typer.Exit(EXIT_FINDING)


def _write(text: str, out_file: Path | None) -> None:
    if out_file is None:
        out.print(text, markup=False, highlight=False)
        return
    if out_file.exists():
        raise fail(f"{out_file} exists; choose a new name")
    write_private(out_file, text)
    out.print(f"written: {out_file}", markup=False)


@app.command("draft")
def draft(
    url_env: UrlEnv,
    name: Annotated[str, typer.Option(help="Datastore name for the map.")],
    out_file: Annotated[Path | None, typer.Option("--out", help="Write here instead of printing.")] = None,
) -> None:
    """Introspect a live database and write a draft map: keys and foreign keys as found, categories guessed
    from column names, nothing erased until you decide."""
    url = os.environ.get(url_env)
    if not url:
        raise fail(f"{url_env} is not set")
    with opened_workspace() as ws:
        try:
            data = map_draft.draft(url, name=name, url_env=url_env, policy=ws.policy.policy)
        except Exception as exc:  # the database's own error, without the URL
            raise fail(f"cannot read the database in {url_env}: {type(exc).__name__}") from None
    _write(interop.to_yaml(data, "draft: review the categories, identities and erase rules"), out_file)


@app.command("import-fides")
def import_fides(
    file: Annotated[Path, typer.Argument(help="An Ethyca Fides dataset YAML.", exists=True, dir_okay=False)],
    url_env: UrlEnv,
    category: Annotated[
        list[str] | None, typer.Option("--category", help="FIDES_PREFIX=POLICY_CATEGORY (repeatable).")
    ] = None,
    out_dir: Annotated[Path | None, typer.Option("--out-dir", help="Write one map per dataset here.")] = None,
) -> None:
    """Turn a Fides dataset file into mamoru dataset maps (categories translated; erase rules to review)."""
    overrides = {}
    for item in category or []:
        fides, sep, ours = item.partition("=")
        if not sep or not fides or not ours:
            raise fail(f"--category '{item}': give FIDES_PREFIX=POLICY_CATEGORY")
        overrides[fides] = ours
    with opened_workspace() as ws:
        try:
            maps = interop.from_fides(
                file.read_text(encoding="utf-8"),
                url_env=url_env,
                policy=ws.policy.policy,
                overrides=overrides,
            )
        except MamoruError as exc:
            raise fail(str(exc)) from None
    for m in maps:
        text = interop.to_yaml(m, f"imported from Fides dataset {file.name}: review the erase rules")
        _write(text, (out_dir / f"{m['name']}.yaml") if out_dir else None)
