"""`mamoru staff …`: staff accounts."""

from __future__ import annotations

from typing import Annotated

import typer

from mamoru.cli.common import fail, opened_workspace, out
from mamoru.errors import MamoruError
from mamoru.people.auth import enroll_totp, new_password, remove_totp, set_password

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


@app.command()
def totp(
    login: Annotated[str, typer.Argument(help="Staff login.")],
    remove: Annotated[bool, typer.Option("--remove", help="Turn two-factor sign-in off instead.")] = False,
    by: Annotated[str, typer.Option(help="Who does it.")] = "cli",
) -> None:
    """Set up (or remove) two-factor sign-in: prints the otpauth:// URI once for an authenticator app."""
    with opened_workspace() as ws, ws.db.session() as session:
        try:
            if remove:
                remove_totp(session, ws.vault, login, actor=by)
                uri = None
            else:
                uri = enroll_totp(session, ws.vault, login, actor=by)
        except MamoruError as exc:
            raise fail(str(exc)) from None
    if uri is None:
        out.print(f"two-factor sign-in removed for {login}")
    else:
        out.print(
            f"add this to the authenticator app of {login} (shown once): {uri}", highlight=False, markup=False
        )
