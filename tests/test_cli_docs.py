"""Every command answers --help in Japanese and English; the README documents every command."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import typer
from typer.testing import CliRunner

from mamoru.cli.commands import WHERE
from mamoru.cli.main import app

ROOT = Path(__file__).resolve().parents[1]


def _commands(group: Any, prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    """Every command path, through the group's own listing (the top level loads its subcommands lazily)."""
    found: list[tuple[str, ...]] = [prefix]
    ctx = typer.Context(group)
    for name in group.list_commands(ctx):
        command = group.get_command(ctx, name)
        if hasattr(command, "list_commands"):
            found.extend(_commands(command, (*prefix, name)))
        else:
            found.append((*prefix, name))
    return found


COMMANDS = _commands(typer.main.get_command(app))


def test_help_and_version_answer_without_loading_any_subcommand_or_the_database_layer() -> None:
    """`mamoru --help` lists every subcommand from its table; neither it nor `version` imports SQLAlchemy,
    the queue or a subcommand's module (what made them slow)."""
    probe = (
        "import sys\n"
        "from typer.testing import CliRunner\n"
        "from mamoru.cli.main import app\n"
        "for args in (['--help'], ['version']):\n"
        "    result = CliRunner().invoke(app, args)\n"
        "    assert result.exit_code == 0, result.output\n"
        "    print(result.output)\n"
        "heavy = sorted(m for m in sys.modules if m.split('.')[0] in ('sqlalchemy', 'dramatiq', 'sudachipy')"
        " or m.startswith(('mamoru.cli.', 'mamoru.workspace')) and m != 'mamoru.cli.commands')\n"
        "print('HEAVY', heavy)\n"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "HEAVY ['mamoru.cli.main']" in done.stdout
    for name in WHERE:
        assert f" {name} " in done.stdout  # listed by --help without being loaded


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
