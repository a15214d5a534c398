"""`mamoru connectors …`: dataset maps of the organization's own databases."""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from mamoru.cli.commands import HELP
from mamoru.cli.common import EXIT_FINDING, emit_json, fail, opened_workspace, out
from mamoru.connectors import interop
from mamoru.connectors.maps import load_map
from mamoru.connectors.sql import primary_keys
from mamoru.errors import MamoruError
from mamoru.files import write_private
from mamoru.scan import draft as map_draft

app = typer.Typer(help=HELP["connectors"])


def _bad(en: str, ja: str, detail: str = "") -> typer.Exit:
    """Bad input: what, where and why in English and Japanese (exit 2); ``detail`` as it came (a map's
    problems with their file and line, a driver's message)."""
    text = f"{en}\n  {ja}" + (f"\n{detail}" if detail else "")
    return fail(escape(text))


def _url(url_env: str) -> str:
    if not re.fullmatch(r"[A-Z][A-Z0-9_]*", url_env):
        raise _bad(
            f"--url-env {url_env}: give the NAME of an environment variable (capitals, digits, _), not a URL",
            f"--url-env {url_env}: 環境変数の名前（大文字・数字・_）を指定してください（URLそのものではありません）",
        )
    url = os.environ.get(url_env)
    if not url:
        raise _bad(
            f"--url-env {url_env}: the variable is not set; put the database's URL in it",
            f"--url-env {url_env}: 環境変数が設定されていません。データベースのURLを設定してください",
        )
    return url


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
            raise _bad(
                "a map of <home>/datasets/ is not valid or its URL is not set",
                "<home>/datasets/ のマップに誤りがあるか、接続先の環境変数が設定されていません",
                str(exc),
            ) from None
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
        raise _bad(
            "give a dataset map, or --live to check every map of <home>/datasets/",
            "データセットマップのファイルを指定するか、--live で <home>/datasets/ の全マップを確認してください",
        )
    if file is not None and not file.is_file():
        raise _bad(f"{file}: no such file", f"{file}: ファイルがありません")
    with opened_workspace() as ws:
        try:
            maps = [load_map(file, ws.policy.policy)] if file is not None else None
        except MamoruError as exc:
            raise _bad(
                f"{file}: the map is not valid",
                f"{file}: データセットマップに誤りがあります（行番号付き）",
                str(exc),
            ) from None
        except (OSError, UnicodeDecodeError) as exc:
            raise _bad(f"{file}: cannot be read ({type(exc).__name__})", f"{file}: 読み込めません") from None
        try:
            checks = live_check(ws, maps) if live else []
        except MamoruError as exc:
            raise _bad(
                "a map of <home>/datasets/ is not valid or cannot be reached",
                "<home>/datasets/ のマップに誤りがあるか、接続先に届きません",
                str(exc),
            ) from None
    if as_json:
        emit_json(
            [
                {
                    "name": c.name,
                    "undeclared": [str(link) for link in c.undeclared],
                    "wrong_keys": c.wrong_keys or [],
                    "failure": c.failure,
                }
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
            for problem in c.wrong_keys or []:
                out.print(f"{c.name}: {problem}", markup=False)
    if not all(c.ok for c in checks):
        raise typer.Exit(EXIT_FINDING)


def _write(text: str, out_file: Path | None) -> None:
    if out_file is None:
        out.print(text, markup=False, highlight=False)
        return
    write_private(out_file, text)
    out.print(f"written: {out_file}", markup=False)


def _target(out_file: Path) -> None:
    """Refuse a target that exists or whose folder does not, before anything is written."""
    if out_file.exists():
        raise _bad(
            f"{out_file} exists; choose a new name", f"{out_file} は既にあります。別の名前を指定してください"
        )
    if not out_file.parent.is_dir():
        raise _bad(
            f"{out_file.parent}: no such folder (create it first)",
            f"{out_file.parent}: フォルダがありません（先に作成してください）",
        )


@app.command("draft")
def draft(
    url_env: UrlEnv,
    name: Annotated[str, typer.Option(help="Datastore name for the map.")],
    out_file: Annotated[Path | None, typer.Option("--out", help="Write here instead of printing.")] = None,
    schema: Annotated[
        list[str] | None,
        typer.Option("--schema", help="Read only this schema (repeatable); every schema if omitted."),
    ] = None,
) -> None:
    """Introspect a live database (PostgreSQL, MariaDB/MySQL, SQLite) and write a draft map: keys and
    foreign keys as found, references proposed from column names and shared values where the database
    declares none, every column classified by the scanner's column rules, nothing erased until you decide."""
    if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]{0,62}", name):
        raise _bad(
            f"--name {name}: a datastore name is letters, digits and _ (at most 63)",
            f"--name {name}: データストア名は英字・数字・_（63文字以内）で指定してください",
        )
    url = _url(url_env)
    if out_file is not None:
        _target(out_file)
    with opened_workspace() as ws:
        try:
            data, notes = map_draft.draft(
                url, name=name, url_env=url_env, policy=ws.policy.policy, schemas=schema or None
            )
        except MamoruError as exc:
            raise _bad(
                f"--url-env {url_env}: the database cannot be read",
                f"--url-env {url_env}: データベースを読めません",
                str(exc),
            ) from None
    _write(
        interop.to_yaml(data, "draft: review the categories, identities, references and erase rules", notes),
        out_file,
    )


@app.command("import-fides")
def import_fides(
    file: Annotated[Path, typer.Argument(help="An Ethyca Fides dataset YAML.", dir_okay=False)],
    url_env: UrlEnv,
    category: Annotated[
        list[str] | None,
        typer.Option(
            "--category",
            help="FIDES_CATEGORY=POLICY_CATEGORY (repeatable); any Fides category or prefix, bare 'user' too.",
        ),
    ] = None,
    out_dir: Annotated[Path | None, typer.Option("--out-dir", help="Write one map per dataset here.")] = None,
) -> None:
    """Turn a Fides dataset file into mamoru dataset maps (categories translated, keys never erased;
    review the erase rules). When the variable of --url-env is set, keys Fides does not name are read
    from the database."""
    if not file.is_file():
        raise _bad(f"{file}: no such file", f"{file}: ファイルがありません")
    if not re.fullmatch(r"[A-Z][A-Z0-9_]*", url_env):
        raise _bad(
            f"--url-env {url_env}: give the NAME of an environment variable (capitals, digits, _), not a URL",
            f"--url-env {url_env}: 環境変数の名前（大文字・数字・_）を指定してください（URLそのものではありません）",
        )
    if out_dir is not None and not out_dir.is_dir():
        raise _bad(
            f"--out-dir {out_dir}: no such folder (create it first; mamoru init makes <home>/datasets)",
            f"--out-dir {out_dir}: フォルダがありません（先に作成してください。mamoru init で <home>/datasets が作られます）",
        )
    overrides = {}
    for item in category or []:
        fides, sep, ours = item.partition("=")
        if not sep or not fides.strip() or not ours.strip():
            raise _bad(
                f"--category '{item}': give FIDES_CATEGORY=POLICY_CATEGORY, e.g. --category user=identity",
                f"--category '{item}': Fidesのカテゴリ=ポリシーのカテゴリ の形で指定してください（例: --category user=identity）",
            )
        overrides[fides.strip()] = ours.strip()
    try:
        source = file.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise _bad(f"{file}: cannot be read ({type(exc).__name__})", f"{file}: 読み込めません") from None
    with opened_workspace() as ws:
        try:
            live = primary_keys(os.environ[url_env]) if os.environ.get(url_env) else None
            maps = interop.from_fides(
                source, url_env=url_env, policy=ws.policy.policy, overrides=overrides, live_keys=live
            )
        except MamoruError as exc:
            raise _bad(
                f"{file}: not imported, nothing written",
                f"{file}: 取り込めませんでした（何も書き込んでいません）",
                str(exc),
            ) from None
    targets = [(out_dir / f"{m.map['name']}.yaml") if out_dir else None for m in maps]
    for target in targets:
        if target is not None:
            _target(target)
    for m, target in zip(maps, targets, strict=True):
        text = interop.to_yaml(
            m.map, f"imported from Fides dataset {file.name}: review the erase rules", m.notes
        )
        _write(text, target)
