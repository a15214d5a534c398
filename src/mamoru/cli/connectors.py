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
from mamoru.connectors.said import in_words
from mamoru.connectors.sql import primary_keys
from mamoru.errors import MamoruError
from mamoru.files import write_private
from mamoru.scan import draft as map_draft
from mamoru.words import word

app = typer.Typer(help=HELP["connectors"])


Language = Annotated[
    str | None,
    typer.Option(
        "--lang",
        envvar="MAMORU_LANG",
        help="ja or en: the language of errors (both when omitted). / エラーの言語（省略時は両方）。",
    ),
]


def _langs(lang: str | None) -> tuple[str, ...]:
    if lang is None:
        return ("en", "ja")
    if lang not in ("ja", "en"):
        raise _bad(("en", "ja"), "bad_lang", lang=lang)
    return (lang,)


def _bad(
    langs: tuple[str, ...], key: str, cause: BaseException | None = None, **params: object
) -> typer.Exit:
    """Bad input (exit 2): what and where (``conn_<key>`` of the catalog), and why (``cause``: a map's
    problems with their file and line, a connection failure with host and database), in each language."""
    lines = []
    for lang in langs:
        lines.append(word(f"conn_{key}", lang).format(**params))
        if cause is not None:
            lines += ["  " + line for line in in_words(cause, lang).splitlines()]
    return fail(escape("\n".join(lines)))


def _url(langs: tuple[str, ...], url_env: str) -> str:
    if not re.fullmatch(r"[A-Z][A-Z0-9_]*", url_env):
        raise _bad(langs, "url_env_name", name=url_env)
    url = os.environ.get(url_env)
    if not url:
        raise _bad(langs, "url_env_unset", name=url_env)
    return url


UrlEnv = Annotated[str, typer.Option("--url-env", help="Environment variable holding the SQLAlchemy URL.")]


@app.command("list")
def list_(
    test: Annotated[
        bool, typer.Option("--test", help="Also connect to each and read its mapped tables.")
    ] = False,
    as_json: Annotated[bool, typer.Option("--json")] = False,
    lang: Language = None,
) -> None:
    """The datastores of `<home>/datasets/`, their tables and ledger entries; exit 1 if one fails."""
    from mamoru.connectors.registry import check

    langs = _langs(lang)
    with opened_workspace() as ws, ws.db.session() as session:
        try:
            checks = check(session, ws, test=test, lang=langs[0])
        except MamoruError as exc:
            raise _bad(langs, "maps_invalid", exc) from None
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
    lang: Language = None,
) -> None:
    """Check a dataset map against the policy, every problem with its file and line (exit 2); with --live,
    against its database's foreign keys too (exit 1 for an undeclared one)."""
    from mamoru.connectors.registry import live_check

    langs = _langs(lang)
    if file is None and not live:
        raise _bad(langs, "check_what")
    if file is not None and not file.is_file():
        raise _bad(langs, "no_file", file=file)
    with opened_workspace() as ws:
        try:
            maps = [load_map(file, ws.policy.policy)] if file is not None else None
        except MamoruError as exc:
            raise _bad(langs, "map_invalid", exc, file=file) from None
        except (OSError, UnicodeDecodeError) as exc:
            raise _bad(langs, "unreadable", file=file, error=type(exc).__name__) from None
        try:
            checks = live_check(ws, maps, lang=langs[0]) if live else []
        except MamoruError as exc:
            raise _bad(langs, "maps_unreachable", exc) from None
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


def _target(langs: tuple[str, ...], out_file: Path) -> None:
    """Refuse a target that exists or whose folder does not, before anything is written."""
    if out_file.exists():
        raise _bad(langs, "exists", file=out_file)
    if not out_file.parent.is_dir():
        raise _bad(langs, "no_folder", folder=out_file.parent)


@app.command("draft")
def draft(
    url_env: UrlEnv,
    name: Annotated[str, typer.Option(help="Datastore name for the map.")],
    out_file: Annotated[Path | None, typer.Option("--out", help="Write here instead of printing.")] = None,
    schema: Annotated[
        list[str] | None,
        typer.Option("--schema", help="Read only this schema (repeatable); every schema if omitted."),
    ] = None,
    lang: Language = None,
) -> None:
    """Introspect a live database (PostgreSQL, MariaDB/MySQL, SQLite) and write a draft map: keys and
    foreign keys as found, references proposed from column names and shared values where the database
    declares none, every column classified by the scanner's column rules, nothing erased until you decide."""
    langs = _langs(lang)
    if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]{0,62}", name):
        raise _bad(langs, "bad_name", name=name)
    url = _url(langs, url_env)
    if out_file is not None:
        _target(langs, out_file)
    with opened_workspace() as ws:
        try:
            data, notes = map_draft.draft(
                url, name=name, url_env=url_env, policy=ws.policy.policy, schemas=schema or None
            )
        except MamoruError as exc:
            raise _bad(langs, "db_unreadable", exc, name=url_env) from None
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
    lang: Language = None,
) -> None:
    """Turn a Fides dataset file into mamoru dataset maps (categories translated, keys never erased;
    review the erase rules). When the variable of --url-env is set, keys Fides does not name are read
    from the database."""
    langs = _langs(lang)
    if not file.is_file():
        raise _bad(langs, "no_file", file=file)
    if not re.fullmatch(r"[A-Z][A-Z0-9_]*", url_env):
        raise _bad(langs, "url_env_name", name=url_env)
    if out_dir is not None and not out_dir.is_dir():
        raise _bad(langs, "out_dir", folder=out_dir)
    overrides = {}
    for item in category or []:
        fides, sep, ours = item.partition("=")
        if not sep or not fides.strip() or not ours.strip():
            raise _bad(langs, "bad_category", item=item)
        overrides[fides.strip()] = ours.strip()
    try:
        source = file.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise _bad(langs, "unreadable", file=file, error=type(exc).__name__) from None
    with opened_workspace() as ws:
        try:
            live = primary_keys(os.environ[url_env]) if os.environ.get(url_env) else None
            maps = interop.from_fides(
                source, url_env=url_env, policy=ws.policy.policy, overrides=overrides, live_keys=live
            )
        except MamoruError as exc:
            raise _bad(langs, "not_imported", exc, file=file) from None
    targets = [(out_dir / f"{m.map['name']}.yaml") if out_dir else None for m in maps]
    for target in targets:
        if target is not None:
            _target(langs, target)
    for m, target in zip(maps, targets, strict=True):
        text = interop.to_yaml(
            m.map, f"imported from Fides dataset {file.name}: review the erase rules", m.notes
        )
        _write(text, target)
