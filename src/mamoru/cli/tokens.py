"""`mamoru tokens …`: API tokens, each for one staff member or one named system with scopes."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

import typer

from mamoru.cli.commands import HELP
from mamoru.cli.common import emit_json, fail, opened_workspace, out
from mamoru.errors import MamoruError
from mamoru.people.permissions import PERMISSIONS, Scope
from mamoru.people.tokens import issue_token, lifetime, list_tokens, revoke_token

app = typer.Typer(help=HELP["tokens"])


@app.command()
def issue(
    name: Annotated[str, typer.Argument(help="Token name, e.g. payroll-hr01 or door-controller.")],
    staff: Annotated[
        str | None, typer.Option(help="The staff member the token acts as (their login).")
    ] = None,
    scope: Annotated[
        list[str] | None, typer.Option(help="A system's scope (repeat); see `mamoru tokens scopes`.")
    ] = None,
    days: Annotated[
        int | None, typer.Option(help="Lifetime in days; at most, and by default, token_lifetime_days.")
    ] = None,
    by: Annotated[str, typer.Option(help="Who issues it (staff:LOGIN).")] = "cli",
) -> None:
    """Issue a token for one staff member (--staff) or one named system (--scope …); print it once."""
    with opened_workspace() as ws, ws.db.session() as session:
        try:
            row, token = issue_token(
                session,
                name,
                staff=staff,
                scopes=scope or [],
                lifetime=lifetime(days, ws.settings.token_lifetime_days),
                actor=by,
                now=datetime.now(UTC),
            )
        except MamoruError as exc:
            raise fail(str(exc)) from None
        expires = row.expires_at.isoformat()[:19]
    out.print(f"token {name} (shown once, expires {expires} UTC): {token}", highlight=False, markup=False)


@app.command("list")
def list_cmd(as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """List tokens: who each acts as, its scopes, expiry, last use and state (never the token)."""
    with opened_workspace() as ws, ws.db.session() as session:
        tokens = list_tokens(session, datetime.now(UTC))
    if as_json:
        emit_json(
            [
                {
                    "name": t.name,
                    "principal": t.principal,
                    "scopes": t.scopes,
                    "expires_at": t.expires_at.isoformat(),
                    "last_used_at": t.last_used_at.isoformat() if t.last_used_at else None,
                    "state": t.state,
                }
                for t in tokens
            ]
        )
        return
    for t in tokens:
        used = t.last_used_at.isoformat()[:16] if t.last_used_at else "-"
        out.print(
            f"{t.name:<24} {t.principal:<28} {t.state:<8} expires {t.expires_at.isoformat()[:10]}  "
            f"last used {used}  {','.join(t.scopes)}",
            highlight=False,
            markup=False,
        )


@app.command()
def revoke(
    name: Annotated[str, typer.Argument(help="Token name.")],
    by: Annotated[str, typer.Option(help="Who revokes it (staff:LOGIN).")] = "cli",
) -> None:
    """Revoke a token at once."""
    with opened_workspace() as ws, ws.db.session() as session:
        try:
            revoke_token(session, name, actor=by, now=datetime.now(UTC))
        except MamoruError as exc:
            raise fail(str(exc)) from None
    out.print(f"{name}: revoked", highlight=False, markup=False)


@app.command()
def scopes(as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """The closed list of system scopes and the areas each opens (from people.permissions)."""
    table = {s.value: sorted(a for a, p in PERMISSIONS.items() if p.scope is s) for s in Scope}
    if as_json:
        emit_json(table)
        return
    for scope, areas in table.items():
        out.print(f"{scope:<14} {', '.join(areas)}", highlight=False, markup=False)
