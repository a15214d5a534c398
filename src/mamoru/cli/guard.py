"""`mamoru guard check`: ask the guard, as any other system of the organization would."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Annotated

import typer

from mamoru.audit.entry import REFERENCE_PATTERN
from mamoru.cli.commands import HELP
from mamoru.cli.common import EXIT_FINDING, emit_json, fail, opened_workspace, out
from mamoru.guard.decision import Action, answer_fields
from mamoru.guard.engine import StatutoryException
from mamoru.guard.service import decide_and_record

app = typer.Typer(help=HELP["guard"])
_REF = re.compile(REFERENCE_PATTERN)


@app.command()
def check(
    actor: Annotated[str, typer.Option(help="Who uses the data, e.g. staff:sa01.")],
    purpose: Annotated[str, typer.Option(help="Purpose id of the policy.")],
    subject: Annotated[list[str], typer.Option(help="Subject reference; repeat for a batch.")],
    category: Annotated[list[str], typer.Option(help="Data category; repeat for several.")],
    action: Annotated[Action, typer.Option(help="What is done with the data.")] = Action.READ,
    recipient: Annotated[
        str | None, typer.Option(help="Recipient or processor id (provide, entrust).")
    ] = None,
    exception: Annotated[StatutoryException | None, typer.Option(help="Statutory exception code.")] = None,
    justification: Annotated[str | None, typer.Option(help="Why the exception applies.")] = None,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Decide, audit and print; exit 0 if every subject is allowed, 1 if any is denied."""
    for name, value in (("--actor", actor), ("--purpose", purpose), *(("--subject", s) for s in subject)):
        if not _REF.match(value):
            raise fail(f"{name}: a reference of letters, digits and _.:/- is expected")
    with opened_workspace() as ws, ws.db.session() as session:
        decisions = decide_and_record(
            session,
            ws.policy,
            actor=actor,
            purpose=purpose,
            subjects=subject,
            categories=category,
            action=action,
            now=datetime.now(UTC),
            recipient=recipient,
            exception=exception,
            justification=justification,
        )
    rows = [answer_fields(d) for d in decisions]
    if as_json:
        emit_json(rows)
    else:
        for row in rows:
            verdict = "[green]allow[/]" if row["allow"] else "[red]deny[/]"
            reasons = ", ".join(str(r) for r in row["reasons"])  # type: ignore[attr-defined]
            out.print(f"{row['subject']}  {verdict}  {reasons}  ({row['rule']})")
    if not all(d.allow for d in decisions):
        raise typer.Exit(EXIT_FINDING)
