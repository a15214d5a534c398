"""Every command answers --help in Japanese and English; the README documents every command."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import typer
from typer.testing import CliRunner

from mamoru.cli.main import app

ROOT = Path(__file__).resolve().parents[1]


def _commands(group: Any, prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    found: list[tuple[str, ...]] = [prefix]
    for name, command in group.commands.items():
        if hasattr(command, "commands"):
            found.extend(_commands(command, (*prefix, name)))
        else:
            found.append((*prefix, name))
    return found


COMMANDS = _commands(typer.main.get_command(app))


@pytest.mark.parametrize("path", COMMANDS, ids=lambda p: " ".join(p) or "mamoru")
def test_every_command_has_help(path: tuple[str, ...]) -> None:
    result = CliRunner().invoke(app, [*path, "--help"])
    assert result.exit_code == 0
    assert "Usage" in result.output


@pytest.mark.parametrize("path", [p for p in COMMANDS if p], ids=lambda p: " ".join(p))
def test_every_command_is_in_the_operator_docs(path: tuple[str, ...]) -> None:
    docs = (ROOT / "docs" / "cli.md").read_text(encoding="utf-8")
    assert f"mamoru {' '.join(path)}" in docs


def test_every_command_the_docs_name_exists() -> None:
    import re

    docs = (ROOT / "docs" / "cli.md").read_text(encoding="utf-8")
    known = {" ".join(p) for p in COMMANDS}
    named = set()
    for row in re.findall(r"^\| `mamoru ([a-z][a-z -]*?)(?: [A-Z\[].*?)?`", docs, flags=re.MULTILINE):
        words = row.split()
        named.add(" ".join(w for w in words if not w.startswith("-")))
    missing = sorted(n for n in named if n not in known)
    assert missing == []
