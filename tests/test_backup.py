"""Backup and restore (SQLite to SQLite, SQLite to PostgreSQL): the keys stay apart, the restored
workspace reads the same people, the audit log verifies, and bad restores change nothing. And the
upgrade path: a database made at the first migration, with data, migrates to head."""

from __future__ import annotations

import shutil
import zipfile
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import func, select, text
from typer.testing import CliRunner

from mamoru.backup import BackupInvalid, restore
from mamoru.cli.main import app
from mamoru.demo.people import load_demo_people
from mamoru.ledger.tables import DataSubject
from mamoru.settings import Settings
from mamoru.store.db import Database
from mamoru.workspace import Workspace
from tests.demo_copies import demo_copy

KEY_FILES = ("master.key", "audit-signing.key", "mynumber.key", "policy.yaml")


def _source(workspace: Workspace) -> tuple[str, dict[str, str]]:
    demo_copy(workspace, 2)
    with workspace.db.session() as session:
        load_demo_people(session, workspace.vault, workspace.policy.policy, datetime.now(UTC))
    with workspace.db.session() as session:
        subject = session.scalars(select(DataSubject.id).order_by(DataSubject.id)).first()
        assert subject is not None
        values = workspace.vault.decrypt(session, subject, ["name", "email"])
    return subject, values


@pytest.mark.parametrize("target", ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def test_backup_and_restore_reads_the_same_people_and_the_audit_log_verifies(
    workspace: Workspace,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    request: pytest.FixtureRequest,
    target: str,
) -> None:
    subject, values = _source(workspace)
    out = tmp_path / "backup.zip"
    runner = CliRunner()
    made = runner.invoke(app, ["backup", str(out), "--keystores"])
    assert made.exit_code == 0, made.output
    assert "not in a backup" in made.output
    with zipfile.ZipFile(out) as archive:
        names = archive.namelist()
    assert "keystores/keys.db" in names and not any(n.endswith((".key", "master")) for n in names)

    home = tmp_path / "restored"
    home.mkdir()
    for name in KEY_FILES:
        shutil.copy2(workspace.settings.home / name, home / name)
    (home / "master.key").chmod(0o600)
    monkeypatch.setenv("MAMORU_HOME", str(home))
    if target == "postgresql":
        monkeypatch.setenv("MAMORU_DATABASE_URL", request.getfixturevalue("pg_url2"))
    else:
        monkeypatch.delenv("MAMORU_DATABASE_URL", raising=False)
    restored = runner.invoke(app, ["restore", str(out), "--keystores"])
    assert restored.exit_code == 0, restored.output
    assert "audit log verifies" in restored.output

    ws = Workspace.open(Settings())
    try:
        with ws.db.session() as session:
            assert ws.vault.decrypt(session, subject, ["name", "email"]) == values
            with workspace.db.session() as before:
                assert session.scalar(select(func.count()).select_from(DataSubject)) == before.scalar(
                    select(func.count()).select_from(DataSubject)
                )
        again = runner.invoke(app, ["restore", str(out)])
        assert again.exit_code == 2 and "already holds data" in again.output
    finally:
        ws.close()


def test_a_damaged_backup_is_refused_before_anything_changes(workspace: Workspace, tmp_path: Path) -> None:
    _source(workspace)
    out = tmp_path / "backup.zip"
    assert CliRunner().invoke(app, ["backup", str(out)]).exit_code == 0
    damaged = tmp_path / "damaged.zip"
    with zipfile.ZipFile(out) as src, zipfile.ZipFile(damaged, "w") as dst:
        for item in src.infolist():
            data = src.read(item)
            if item.filename == "tables/staff.jsonl":
                data = data.replace(b"sa01", b"sa09")
            dst.writestr(item, data)
    target = Database(f"sqlite:///{tmp_path / 'empty.db'}")
    with pytest.raises(BackupInvalid, match=r"staff\.jsonl"):
        restore(target, damaged)
    assert target.current_revision() is None  # not even a schema was made
    target.dispose()


def test_a_database_made_at_the_first_migration_with_data_upgrades_to_head(tmp_path: Path) -> None:
    db = Database(f"sqlite:///{tmp_path / 'old.db'}")
    db.migrate("0001")
    now = datetime(2025, 4, 1, tzinfo=UTC)
    with db.engine.begin() as conn:
        conn.execute(
            text("INSERT INTO data_subjects (id, kind, created_at) VALUES (:id, 'customer', :at)"),
            {"id": "00000000-0000-4000-8000-000000000001", "at": now},
        )
        conn.execute(
            text(
                "INSERT INTO staff (login, department, joined_on, created_at) "
                "VALUES ('old01', 'sales', '2025-04-01', :at)"
            ),
            {"at": now},
        )
    db.migrate("head")
    with db.engine.connect() as conn:
        row = conn.execute(text("SELECT kind, failed_logins FROM staff WHERE login = 'old01'")).one()
        assert tuple(row) == ("employee", 0)  # columns added since got their defaults
        assert conn.execute(text("SELECT count(*) FROM data_subjects")).scalar() == 1
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext

    from mamoru.schema import metadata

    with db.engine.connect() as conn:
        assert compare_metadata(MigrationContext.configure(conn), metadata) == []
    db.dispose()
