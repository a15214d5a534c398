"""What every command shares: exit codes, error output, opening the workspace."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import typer
from rich.console import Console

from mamoru.errors import ConfigurationError, MamoruError
from mamoru.settings import Settings
from mamoru.workspace import Workspace

EXIT_OK = 0
EXIT_FINDING = 1
EXIT_BAD_INPUT = 2

out = Console(soft_wrap=True)
err = Console(stderr=True, soft_wrap=True)


def fail(message: str, code: int = EXIT_BAD_INPUT) -> typer.Exit:
    err.print(f"[bold red]error:[/] {message}", highlight=False, markup=True, soft_wrap=True)
    return typer.Exit(code)


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
