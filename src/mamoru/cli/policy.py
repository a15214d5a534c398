"""`mamoru policy …`: check, show, render and publish the privacy policy."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from mamoru.cli.commands import HELP
from mamoru.cli.common import EXIT_BAD_INPUT, emit_json, err, fail, opened_workspace, out
from mamoru.errors import MamoruError
from mamoru.files import write_private
from mamoru.policy.errors import PolicyError
from mamoru.policy.load import LoadedPolicy, load_policy
from mamoru.policy.notice import Lang, render_document, render_notice
from mamoru.policy.service import notice_versions, publish
from mamoru.settings import Settings

app = typer.Typer(help=HELP["policy"])

FileArg = Annotated[Path, typer.Argument(help="Policy YAML file.", show_default=False)]
FileOpt = Annotated[
    Path | None, typer.Option("--file", "-f", help="Policy YAML file (default: the workspace policy).")
]


def _load(file: Path | None) -> LoadedPolicy:
    path = file or Settings().resolved_policy_file
    try:
        return load_policy(path)
    except PolicyError as exc:
        for issue in exc.issues:
            err.print(issue.render(exc.file), highlight=False, markup=False, soft_wrap=True)
        raise typer.Exit(EXIT_BAD_INPUT) from None


@app.command()
def check(
    file: FileArg,
    as_json: Annotated[bool, typer.Option("--json", help="Print the result as JSON.")] = False,
) -> None:
    """Validate a policy file: exit 0 if valid, 2 with every problem (file:line: field: why) if not."""
    try:
        loaded = load_policy(file)
    except PolicyError as exc:
        if as_json:
            emit_json(
                {
                    "valid": False,
                    "file": exc.file,
                    "issues": [{"line": i.line, "field": i.field, "message": i.message} for i in exc.issues],
                }
            )
        for issue in exc.issues:
            err.print(issue.render(exc.file), highlight=False, markup=False, soft_wrap=True)
        raise typer.Exit(EXIT_BAD_INPUT) from None
    policy = loaded.policy
    if as_json:
        emit_json({"valid": True, "file": str(file), "version": policy.version, "sha256": loaded.sha256})
    else:
        out.print(
            f"{file}: valid — version {policy.version}, {len(policy.purposes)} purposes, "
            f"{len(policy.categories)} categories, sha256 {loaded.sha256[:16]}",
            highlight=False,
        )


@app.command()
def show(
    file: FileOpt = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the whole policy as JSON.")] = False,
) -> None:
    """Show the policy in force (or FILE): a summary, or everything with --json."""
    loaded = _load(file)
    policy = loaded.policy
    if as_json:
        emit_json({"sha256": loaded.sha256, "policy": policy.model_dump(mode="json", by_alias=True)})
        return
    out.print(f"[bold]{policy.organization.name.ja}[/] / {policy.organization.name.en}")
    out.print(f"version {policy.version}, in force from {policy.effective_from}, sha256 {loaded.sha256[:16]}")
    for purpose in policy.purposes:
        tag = " [My Number]" if purpose.my_number else ""
        out.print(f"  {purpose.id}{tag}: {purpose.text.ja}", highlight=False, markup=False)


class LangChoice(StrEnum):
    ja = "ja"
    en = "en"


class FormatChoice(StrEnum):
    html = "html"
    md = "md"


@app.command()
def render(
    lang: Annotated[LangChoice, typer.Option(help="Language / 言語.")] = LangChoice.ja,
    fmt: Annotated[FormatChoice, typer.Option("--format", help="HTML page or Markdown.")] = FormatChoice.html,
    file: FileOpt = None,
    output: Annotated[
        Path | None, typer.Option("--out", "-o", help="Write to this file instead of stdout.")
    ] = None,
) -> None:
    """Render the public notice from the policy (Japanese or English, HTML page or Markdown)."""
    loaded = _load(file)
    code: Lang = "ja" if lang is LangChoice.ja else "en"
    try:
        if fmt is FormatChoice.html:
            text = render_document(loaded.policy, code)
        else:
            text = render_notice(loaded.policy, code, "md")
    except MamoruError as exc:
        raise fail(str(exc)) from None
    if output is None:
        typer.echo(text, nl=False)
    else:
        write_private(output, text)
        err.print(f"wrote {output}")


@app.command("publish")
def publish_cmd(
    by: Annotated[str, typer.Option(help="Who publishes (a staff login or role).")] = "cli",
) -> None:
    """Publish the workspace policy's notice as a new version (no-op if unchanged)."""
    with opened_workspace() as ws, ws.db.session() as session:
        try:
            notice = publish(session, ws.policy, by)
        except MamoruError as exc:
            raise fail(str(exc)) from None
        out.print(f"published version {notice.policy_version} (sha256 {notice.policy_sha256[:16]})")


@app.command()
def versions(as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """List the published versions of the notice, newest first."""
    with opened_workspace() as ws, ws.db.session() as session:
        rows = [
            {
                "id": n.id,
                "version": n.policy_version,
                "effective_from": n.effective_from.isoformat(),
                "published_at": n.published_at.isoformat(),
                "sha256": n.policy_sha256,
            }
            for n in notice_versions(session)
        ]
    if as_json:
        emit_json(rows)
        return
    for row in rows:
        out.print(f"{row['id']:>4}  {row['version']:<10} {row['effective_from']}  {str(row['sha256'])[:16]}")
