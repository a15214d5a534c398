"""`mamoru policy …`: check, show, render and publish the privacy policy."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from mamoru.cli.commands import HELP
from mamoru.cli.common import EXIT_BAD_INPUT, EXIT_FINDING, emit_json, err, fail, opened_workspace, out
from mamoru.errors import MamoruError
from mamoru.files import write_private
from mamoru.policy.errors import PolicyError
from mamoru.policy.load import LoadedPolicy, load_policy
from mamoru.policy.notice import Lang, render_document, render_notice
from mamoru.policy.service import difference, notice_versions
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
    by: Annotated[
        str, typer.Option(help="Who publishes and so approves its purpose changes (a staff login).")
    ] = "cli",
    as_json: Annotated[bool, typer.Option("--json", help="Print the result as JSON.")] = False,
) -> None:
    """Publish the workspace policy file as a new version (no-op if unchanged). Each changed purpose it
    records is approved by BY, and a notice (or consent request) is queued for each person concerned."""
    from mamoru.ledger.purposes import publish_policy

    with opened_workspace() as ws, ws.db.session() as session:
        try:
            done = publish_policy(session, ws.policy, by=by)
        except MamoruError as exc:
            raise fail(str(exc)) from None
        notice = done.notice
        if as_json:
            emit_json(
                {
                    "version": notice.policy_version,
                    "sha256": notice.policy_sha256,
                    "published_at": notice.published_at.isoformat(),
                    "queued": done.queued,
                }
            )
            return
        out.print(f"published version {notice.policy_version} (sha256 {notice.policy_sha256[:16]})")
        for key, count in done.queued.items():
            out.print(f"  purpose {key}: {count} persons to notify or ask", highlight=False)


@app.command()
def diff(
    file: FileOpt = None,
) -> None:
    """Show how the policy file differs from the published version: exit 0 if it is the published
    version, 1 with the unified difference if it is not (the server would refuse to start)."""
    loaded = _load(file)
    with opened_workspace() as ws, ws.db.session() as session:
        text = difference(session, loaded)
    if not text:
        out.print(f"{loaded.file}: the published version {loaded.policy.version}", highlight=False)
        return
    typer.echo(text, nl=False)
    raise typer.Exit(EXIT_FINDING)


@app.command()
def changes(
    as_json: Annotated[bool, typer.Option("--json", help="Print the result as JSON.")] = False,
) -> None:
    """List the changed purposes (related or not, why, approver) and their notice queues, newest first."""
    from mamoru.ledger.purposes import change_statuses

    with opened_workspace() as ws, ws.db.session() as session:
        rows = [
            {
                "purpose": c.version.purpose_id,
                "version": c.version.version,
                "related": c.version.related,
                "justification": c.version.justification_en,
                "approved_by": c.version.approved_by,
                "published_at": c.version.published_at.isoformat(),
                "needs": c.kind,
                "pending": c.pending,
                "delivered": c.delivered,
            }
            for c in change_statuses(session)
        ]
    if as_json:
        emit_json(rows)
        return
    for row in rows:
        out.print(
            f"{row['purpose']} v{row['version']}  {'related' if row['related'] else 'NOT related'}  "
            f"{row['needs']}: {row['pending']} pending, {row['delivered']} sent  (approved by {row['approved_by']})",
            highlight=False,
            markup=False,
        )


@app.command()
def delivered(
    purpose: Annotated[str, typer.Argument(help="Purpose id.", show_default=False)],
    version: Annotated[int, typer.Argument(help="The changed version (2 or later).", show_default=False)],
    channel: Annotated[str, typer.Option(help="email, post, portal or in_person.")] = "email",
    by: Annotated[str, typer.Option(help="Who records it (a staff login).")] = "cli",
) -> None:
    """Record that the notice (or consent request) of a changed purpose went out to every person still
    waiting; from then the guard allows the related use for them."""
    from datetime import UTC, datetime

    from mamoru.ledger.purposes import record_delivery

    with opened_workspace() as ws, ws.db.session() as session:
        try:
            count = record_delivery(
                session, purpose_id=purpose, version=version, channel=channel, by=by, now=datetime.now(UTC)
            )
        except MamoruError as exc:
            raise fail(str(exc)) from None
    out.print(f"recorded {count} notices as sent", highlight=False)


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
