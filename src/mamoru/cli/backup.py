"""`mamoru backup` and `mamoru restore`: the database, on SQLite or PostgreSQL; keys apart."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from mamoru import backup as store_backup
from mamoru.cli.common import EXIT_FINDING, fail, opened_workspace, out
from mamoru.errors import MamoruError
from mamoru.settings import Settings

KEYS_NOTE = (
    "the master keys are not in a backup: keep master.key, audit-signing.key and mynumber.key "
    "(or MAMORU_MASTER_KEY) apart, offline"
)


def backup(
    out_file: Annotated[Path, typer.Argument(help="The backup file to write (a ZIP).")],
    keystores: Annotated[
        bool,
        typer.Option(
            "--keystores", help="Also include the key stores (data keys wrapped under the master key)."
        ),
    ] = False,
) -> None:
    # Its help is HELP["backup"] in mamoru.cli.commands (listed without loading this module).
    if out_file.exists():
        raise fail(f"{out_file} exists; choose a new name")
    with opened_workspace() as ws:
        stores = (
            {
                "keys": ws.settings.resolved_keystore_url,
                "mynumber-keys": ws.settings.resolved_mynumber_keystore_url,
            }
            if keystores
            else {}
        )
        try:
            report = store_backup.backup(ws.db, out_file, keystores=stores)
        except MamoruError as exc:
            raise fail(str(exc)) from None
    total = sum(report.rows.values())
    out.print(
        f"backup written: {out_file} (schema {report.revision}, {total} rows in {len(report.rows)} tables"
        + (f", key stores: {', '.join(report.keystores)}" if report.keystores else "")
        + ")",
        highlight=False,
        markup=False,
    )
    out.print(KEYS_NOTE, highlight=False, markup=False)


def restore(
    backup_file: Annotated[
        Path, typer.Argument(help="A file from `mamoru backup`.", exists=True, dir_okay=False)
    ],
    keystores: Annotated[
        bool,
        typer.Option(
            "--keystores", help="Also restore the key stores kept in the backup (never overwrites)."
        ),
    ] = False,
) -> None:
    # Its help is HELP["restore"] in mamoru.cli.commands (listed without loading this module).
    from mamoru.audit.signing import load_signer
    from mamoru.audit.verification import verify
    from mamoru.store.db import Database

    settings = Settings()
    db = Database(settings.resolved_database_url)
    try:
        rows = store_backup.restore(db, backup_file)
        if keystores:
            targets = {
                "keys": Path(settings.resolved_keystore_url.removeprefix("sqlite:///")),
                "mynumber-keys": Path(settings.resolved_mynumber_keystore_url.removeprefix("sqlite:///")),
            }
            done = store_backup.restore_keystores(backup_file, targets)
            out.print(f"key stores restored: {', '.join(done) or 'none in the backup'}")
        signer = load_signer(settings.resolved_signing_key_file)
        report = verify(db, signer.public)
    except MamoruError as exc:
        raise fail(str(exc)) from None
    finally:
        db.dispose()
    out.print(f"restored {sum(rows.values())} rows in {len(rows)} tables", highlight=False)
    if not report.ok:
        out.print(f"the audit log does NOT verify: {report.reason}", highlight=False, markup=False)
        raise typer.Exit(EXIT_FINDING)
    out.print(f"audit log verifies: {report.entries} entries", highlight=False)
    out.print(KEYS_NOTE, highlight=False, markup=False)
