"""`mamoru staff …`: staff accounts."""

from __future__ import annotations

from typing import Annotated

import typer

from mamoru.cli.common import fail, opened_workspace, out
from mamoru.errors import MamoruError
from mamoru.people.auth import new_password, set_password

app = typer.Typer(help="Staff accounts. / 職員アカウント。")


@app.command()
def password(
    login: Annotated[str, typer.Argument(help="Staff login.")],
    by: Annotated[str, typer.Option(help="Who resets it.")] = "cli",
) -> None:
    """Give a staff member a new random password, printed once (argon2id hash kept)."""
    secret = new_password()
    with opened_workspace() as ws, ws.db.session() as session:
        try:
            set_password(session, login, secret, actor=by)
        except MamoruError as exc:
            raise fail(str(exc)) from None
    out.print(f"new password for {login} (shown once): {secret}", highlight=False, markup=False)
