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


EDGES = [
    PACKAGE / "server.py",
    PACKAGE / "edge.py",
    *(PACKAGE / "api").glob("*.py"),
    *(PACKAGE / "web").glob("*.py"),
]
EDGES += list((PACKAGE / "cli").glob("*.py"))
#: What only the domain may use: building queries, writing the audit log, opening ciphertexts.
DOMAIN_ONLY = {
    "sqlalchemy": None,  # any name: a query belongs in a service
    "mamoru.audit.chain": {"append"},
    "mamoru.audit.entry": {"AuditEvent"},
    "mamoru.audit.writer": None,
    "mamoru.audit.verification": {"record_verification"},
    "mamoru.vault.crypto": None,
}


def _edge_violations(path: Path) -> list[str]:
    import ast

    found = []
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module:
            for module, names in DOMAIN_ONLY.items():
                if node.module == module or node.module.startswith(module + "."):
                    if node.module == "sqlalchemy.orm" and {a.name for a in node.names} <= {"Session"}:
                        continue  # the type of the session a route is handed
                    used = {a.name for a in node.names}
                    if names is None or used & names:
                        found.append(f"{path.relative_to(PACKAGE)}:{node.lineno} imports {node.module}")
        elif isinstance(node, ast.Import):
            found += [
                f"{path.relative_to(PACKAGE)}:{node.lineno} imports {a.name}"
                for a in node.names
                if a.name.split(".")[0] == "sqlalchemy"
            ]
        elif isinstance(node, ast.Attribute) and node.attr in (
            "decrypt",
            "open_sealed",
            "execute",
            "scalars",
        ):
            found.append(f"{path.relative_to(PACKAGE)}:{node.lineno} calls .{node.attr}")
    return found


def test_the_edges_hold_no_query_never_write_the_audit_log_and_never_decrypt() -> None:
    """web/, api/, cli/ and the server translate and call services: no SQL of their own, no audit entry
    written by hand, no ciphertext opened outside the vault."""
    assert [v for path in sorted(EDGES) for v in _edge_violations(path)] == []
