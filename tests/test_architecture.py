"""The layers: docs/architecture.md names every package, in the order the import-linter contract enforces."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "src" / "mamoru"
DOC = (ROOT / "docs" / "architecture.md").read_text(encoding="utf-8")


def _contract_layers() -> list[str]:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    [layers] = [c for c in config["tool"]["importlinter"]["contracts"] if c["type"] == "layers"]
    return [str(layer) for layer in layers["layers"]]


def _names(row: str) -> str:
    """`mamoru.a` \\| `mamoru.b` -> 'mamoru.a | mamoru.b' (the contract's spelling)."""
    return re.sub(r"\s+", " ", row.replace("\\|", "|").replace("`", "")).strip()


def test_every_package_and_module_of_mamoru_is_in_the_architecture_page() -> None:
    names = {p.name for p in PACKAGE.iterdir() if p.is_dir() and (p / "__init__.py").exists()}
    names |= {p.stem for p in PACKAGE.glob("*.py") if p.stem != "__init__"}
    missing = sorted(n for n in names if f"`mamoru.{n}" not in DOC)
    assert missing == []


def test_the_page_lists_the_layers_the_contract_enforces_in_the_same_order() -> None:
    rows = re.findall(r"^\| \d+ \| (.+?) \| .+ \|$", DOC, flags=re.MULTILINE)
    assert [_names(row) for row in rows] == _contract_layers()


def test_every_package_is_in_a_layer_of_the_contract() -> None:
    layered = {
        name.strip().split(".")[1] for layer in _contract_layers() for name in re.split(r"[|:]", layer)
    }
    names = {p.name for p in PACKAGE.iterdir() if p.is_dir() and (p / "__init__.py").exists()}
    names |= {p.stem for p in PACKAGE.glob("*.py") if p.stem != "__init__"}
    assert sorted(names - layered) == []
