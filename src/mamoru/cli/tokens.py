"""`mamoru tokens …`: API tokens for the organization's other systems."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

import typer

from mamoru.cli.commands import HELP
from mamoru.cli.common import emit_json, fail, opened_workspace, out
from mamoru.errors import MamoruError
from mamoru.people.tokens import create_token, list_clients, revoke_token

app = typer.Typer(help=HELP["tokens"])


@app.command()
def create(
    name: Annotated[str, typer.Argument(help="Client name, e.g. hr-system.")],
    by: Annotated[str, typer.Option(help="Who creates it.")] = "cli",
) -> None:
    """Create a client and print its token once; only its hash is kept."""
    with opened_workspace() as ws, ws.db.session() as session:
        try:
            _, token = create_token(session, name, actor=by, now=datetime.now(UTC))
        except MamoruError as exc:
            raise fail(str(exc)) from None
    out.print(f"token for {name} (shown once): {token}", highlight=False, markup=False)


@app.command("list")
def list_cmd(as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """List API clients and whether they are revoked."""
    with opened_workspace() as ws, ws.db.session() as session:
        rows = [
            {"name": c.name, "created_at": c.created_at.isoformat(), "revoked": c.revoked_at is not None}
            for c in list_clients(session)
        ]
    if as_json:
        emit_json(rows)
    for row in [] if as_json else rows:
        out.print(
            f"{row['name']!s:<24} {str(row['created_at'])[:19]}  {'revoked' if row['revoked'] else 'active'}"
        )


@app.command()
def revoke(
    name: Annotated[str, typer.Argument(help="Client name.")],
    by: Annotated[str, typer.Option(help="Who revokes it.")] = "cli",
) -> None:
    """Revoke a client's token at once."""
    with opened_workspace() as ws, ws.db.session() as session:
        try:
            revoke_token(session, name, actor=by, now=datetime.now(UTC))
        except MamoruError as exc:
            raise fail(str(exc)) from None
    out.print(f"{name}: revoked")
