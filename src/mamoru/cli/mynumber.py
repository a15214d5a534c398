"""`mamoru mynumber …`: the vault's entries (never the numbers), disposal, the control catalogue."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Annotated

import typer

from mamoru.cli.commands import HELP
from mamoru.cli.common import emit_json, fail, opened_workspace, out
from mamoru.mynumber import controls
from mamoru.mynumber import service as mn

app = typer.Typer(help=HELP["mynumber"])


@app.command()
def entries(as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """List the vault's entries: subject, document, verification, retention (never the number)."""
    with opened_workspace() as ws, ws.db.session() as session:
        rows = [
            {
                "entry": e.id,
                "subject": e.subject_id,
                "document": e.document,
                "number_check": e.number_check_doc,
                "verified_by": e.verified_by,
                "purge_after": e.purge_after.isoformat(),
                "deleted": e.deleted_at is not None,
            }
            for e in mn.entries(session)
        ]
    if as_json:
        emit_json(rows)
    else:
        for r in rows:
            state = "deleted" if r["deleted"] else f"keep until {r['purge_after']}"
            out.print(f"{r['entry']}  {r['document']:<22} {state}", highlight=False, markup=False)


@app.command()
def dispose(
    today: Annotated[str | None, typer.Option("--today", help="Run as of this date (YYYY-MM-DD).")] = None,
    by: Annotated[str, typer.Option("--by", help="Who is responsible (staff:LOGIN).")] = "system:mynumber",
) -> None:
    """Crypto-erase every number past its retention and keep deletion records without it (MN-5)."""
    try:
        day = date.fromisoformat(today) if today else datetime.now(UTC).date()
    except ValueError:
        raise fail(f"--today: '{today}' is not a date like 2027-03-31") from None
    with opened_workspace() as ws, ws.db.session() as session:
        records = mn.dispose_due(session, ws, today=day, actor=by)
        count = len(records)
    out.print(f"{count} number(s) deleted; deletion records kept")


@app.command("controls")
def controls_cmd() -> None:
    """The My Number section of the control catalogue, by block (MN-7)."""
    for block, items in controls.by_block().items():
        out.print(f"[{block.value}]", highlight=False, markup=False)
        for c in items:
            out.print(f"  {c.id} ({c.by}) {c.ja} / {c.en}", highlight=False, markup=False)
