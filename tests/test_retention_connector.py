"""Retention events read from the organization's own datastore (APPI-22): the date columns a map names
start the rules of the persons mamoru holds, once; rows of other people and dates to come are left."""

from __future__ import annotations

import sqlite3
from datetime import date
from pathlib import Path

import orjson
import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

from mamoru.cli.main import app
from mamoru.connectors.events import record_from_datastore
from mamoru.connectors.maps import parse_map
from mamoru.ledger.tables import Acquisition, RetentionEvent
from mamoru.policy.errors import PolicyError
from mamoru.workspace import Workspace
from tests.test_ledger import NOW
from tests.test_retention import _employee

HR_MAP = """schema: mamoru.dataset/1
name: hr
url_env: HR_DATABASE_URL
tables:
  - name: staff
    primary_key: id
    identities: {email: email}
    events: {end_of_employment: left_on}
    fields:
      - {name: id}
      - {name: email, categories: [contact], erase: mask}
      - {name: left_on, categories: [hr_record]}
"""


def _hr(workspace: Workspace, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "hr.db"
    with sqlite3.connect(path) as conn:
        conn.executescript(
            """
            CREATE TABLE staff (id INTEGER PRIMARY KEY, email TEXT, left_on DATE);
            INSERT INTO staff VALUES (1, 'hanako@example.jp', '2026-01-31');  -- held by mamoru, left
            INSERT INTO staff VALUES (2, 'taro@example.jp', '2026-03-31');    -- not held by mamoru
            INSERT INTO staff VALUES (3, 'jiro@example.jp', '2999-03-31');    -- a date still to come
            INSERT INTO staff VALUES (4, 'saburo@example.jp', NULL);          -- still employed
            """
        )
    monkeypatch.setenv("HR_DATABASE_URL", f"sqlite:///{path}")
    folder = workspace.settings.home / "datasets"
    folder.mkdir(exist_ok=True)
    (folder / "hr.yaml").write_text(HR_MAP, encoding="utf-8")


def test_appi_22_an_end_of_employment_in_the_hr_database_starts_the_rule_once(
    workspace: Workspace, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    subject = _employee(workspace)  # hanako@example.jp, under the personnel entry (5 years from leaving)
    _hr(workspace, tmp_path, monkeypatch)
    with workspace.db.session() as session:
        done = record_from_datastore(session, workspace, "hr", actor="staff:pm01", now=NOW)
    assert (done.recorded, done.started, done.not_held, done.not_yet) == (1, 1, 1, 1)
    with workspace.db.session() as session:
        (acquisition,) = session.scalars(select(Acquisition).where(Acquisition.subject_id == subject))
        assert acquisition.retain_until == date(2031, 1, 31)
        event = session.scalar(select(RetentionEvent))
        assert event is not None and event.source == "connector:hr" and event.subject_id == subject
    # a second run finds the same rows and records nothing again
    with workspace.db.session() as session:
        again = record_from_datastore(session, workspace, "hr", actor="staff:pm01", now=NOW)
        assert again.recorded == 0
        assert session.scalar(select(func.count()).select_from(RetentionEvent)) == 1


def test_appi_22_the_operator_reads_the_events_from_the_datastore_on_the_command_line(
    workspace: Workspace, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    subject = _employee(workspace)
    _hr(workspace, tmp_path, monkeypatch)
    runner = CliRunner()
    neither = runner.invoke(app, ["retention", "import"])
    assert neither.exit_code == 2 and "--connector" in neither.output
    unknown = runner.invoke(app, ["retention", "import", "--connector", "payroll"])
    assert unknown.exit_code == 2 and "payroll" in unknown.output
    read = runner.invoke(app, ["retention", "import", "--connector", "hr", "--json"])
    assert read.exit_code == 0, read.output
    assert orjson.loads(read.output) == {"events": 1, "started": 1, "not_held": 1, "not_yet": 1}
    swept = runner.invoke(app, ["retention", "sweep", "--today", "2031-02-01", "--dry-run", "--json"])
    assert orjson.loads(swept.output)["due"] == [subject]


def test_a_map_names_only_known_events_in_its_own_date_columns(reference) -> None:  # type: ignore[no-untyped-def]
    wrong = HR_MAP.replace("end_of_employment: left_on", "retirement: left_date")
    with pytest.raises(PolicyError) as caught:
        parse_map(wrong, "hr.yaml", reference.policy)
    text = caught.value.render("en")
    assert "'left_date' is not a field of staff" in text and "end_of_employment" in text
