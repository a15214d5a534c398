"""`mamoru keys …`: master-key rotation."""

from __future__ import annotations

import typer

from mamoru.cli.commands import HELP
from mamoru.cli.common import fail, out
from mamoru.errors import MamoruError
from mamoru.settings import Settings
from mamoru.workspace import rotate_master_key

app = typer.Typer(help=HELP["keys"])


@app.command()
def rotate() -> None:
    """Replace the master key and re-wrap every data key; the encrypted data is not touched."""
    try:
        key_id, count = rotate_master_key(Settings())
    except MamoruError as exc:
        raise fail(str(exc)) from None
    out.print(f"new master key {key_id}; {count} data keys re-wrapped")
