"""What every command shares: exit codes, error output, opening the workspace."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime
from typing import Any, TypeVar

import typer
from rich.console import Console
from sqlalchemy.orm import Session

from mamoru.errors import ConfigurationError, MamoruError
from mamoru.settings import Settings
from mamoru.workspace import Workspace

EXIT_OK = 0
EXIT_FINDING = 1
EXIT_BAD_INPUT = 2

# emoji=False: a ':name:' in what is printed stays as written, and Rich's emoji table (about 2.5 MB) is
# not loaded into `mamoru serve` and `mamoru worker`, which print a few lines.
out = Console(soft_wrap=True, emoji=False)
err = Console(stderr=True, soft_wrap=True, emoji=False)
T = TypeVar("T")


def fail(message: str, code: int = EXIT_BAD_INPUT) -> typer.Exit:
    err.print(f"[bold red]error:[/] {message}", highlight=False, markup=True, soft_wrap=True)
    return typer.Exit(code)


def day_or_today(value: str | None, option: str = "--on") -> date:
    """A YYYY-MM-DD option, or today (UTC) when it is omitted; exit 2 when it is not a date."""
    try:
        return date.fromisoformat(value) if value else datetime.now(UTC).date()
    except ValueError:
        raise fail(f"{option}: '{value}' is not a date like 2026-11-25") from None


def in_session(action: Callable[[Session, Workspace], T]) -> T:
    """Run ``action`` in one transaction of the workspace; a refused input exits 2 with its reason."""
    with opened_workspace() as ws, ws.db.session() as session:
        try:
            return action(session, ws)
        except MamoruError as exc:
            raise fail(str(exc)) from None


def emit_json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, ensure_ascii=False, indent=2, default=str) + "\n")


@contextmanager
def opened_workspace() -> Iterator[Workspace]:
    """Open the workspace or exit 2 with the reason (no key, invalid policy, no schema)."""
    try:
        ws = Workspace.open(Settings())
    except MamoruError as exc:
        raise fail(str(exc)) from None
    try:
        yield ws
    finally:
        ws.close()


__all__ = [
    "EXIT_BAD_INPUT",
    "EXIT_FINDING",
    "EXIT_OK",
    "ConfigurationError",
    "emit_json",
    "err",
    "fail",
    "out",
]
