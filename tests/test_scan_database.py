"""Database scans that someone can act on (issue 26, item 4): every finding streamed as a JSON line with
its table, column and primary key, tables read in batches (never a whole table in memory), the sealed
run keeping the findings, and the office's "not personal" marks applied and audited; on SQLite,
PostgreSQL and MariaDB."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Column, Integer, MetaData, String, Table, create_engine, event, select
from sqlalchemy.engine import Engine
from typer.testing import CliRunner

from mamoru.audit.tables import AuditEntry
from mamoru.cli.main import app
from mamoru.people.auth import set_password
from mamoru.scan import database, service
from mamoru.scan.analyzer import Analyzer
from mamoru.scan.report import Location
from mamoru.scan.tables import ScanDismissal, ScanRun
from mamoru.server import create_app
from mamoru.workspace import Workspace
from tests.demo_copies import demo_copy
from tests.test_scan import EMAILS, MY_NUMBERS, NAMES, PHONES, _secrets
from tests.test_scan import scan_db_url as scan_db_url  # the fixture: a fresh database of each kind

ALL_KINDS = pytest.mark.parametrize(
    "scan_db_url",
    ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres), "mariadb"],
    indirect=True,
)
ANALYZER = Analyzer()


def _fill(url: str, rows: int = 4) -> None:
    """``members`` (one-column key), ``visits`` (a composite key), ``loose`` (no key at all)."""
    md = MetaData()
    members = Table(
        "members",
        md,
        Column("id", Integer, primary_key=True, autoincrement=False),
        Column("email", String(120)),
        Column("phone", String(40)),
        Column("sku", String(40)),
    )
    visits = Table(
        "visits",
        md,
        Column("site", String(10), primary_key=True),
        Column("seq", Integer, primary_key=True, autoincrement=False),
        Column("visitor", String(100)),
    )
    loose = Table("loose", md, Column("mynum", String(20)))
    engine = create_engine(url)
    md.create_all(engine)
    with engine.begin() as conn:
        conn.execute(
            members.insert(),
            [
                {"id": i, "email": EMAILS[i % 4], "phone": PHONES[i % 4], "sku": f"SKU-{i:05d}"}
                for i in range(rows)
            ],
        )
        conn.execute(
            visits.insert(),
            [{"site": "osaka" if i % 2 else "tokyo", "seq": i, "visitor": NAMES[i]} for i in range(4)],
        )
        conn.execute(loose.insert(), [{"mynum": n} for n in MY_NUMBERS])
    engine.dispose()


def _lines(stdout: str) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    *lines, report = [json.loads(line) for line in stdout.splitlines()]
    return lines, report


@ALL_KINDS
def test_when_a_database_is_scanned_with_json_then_each_finding_is_a_line_with_table_column_and_key(
    scan_db_url: str, workspace: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    _fill(scan_db_url)
    monkeypatch.setenv("SHOP_SCAN_URL", scan_db_url)
    out = CliRunner().invoke(app, ["scan", "--db-url-env", "SHOP_SCAN_URL", "--json"])
    assert out.exit_code == 1, out.output  # unmapped tables: gaps
    lines, report = _lines(out.stdout)
    assert report["type"] == "report" and {f["type"] for f in lines} == {"finding"}
    # tables in name order, each table's findings before the next table's
    tables = [f["table"] for f in lines]
    assert tables == sorted(tables) and set(tables) == {"loose", "members", "visits"}
    emails = [f for f in lines if f["table"] == "members" and f["column"] == "email"]
    assert [f["key"] for f in emails] == [0, 1, 2, 3] and [f["row"] for f in emails] == [1, 2, 3, 4]
    for f in emails:
        assert f["kind"] == "email" and f["masked"] and "@" in f["masked"]
        assert f["explanation"] and f["recognizer"] and len(f["fingerprint"]) == 32
    visitors = [f for f in lines if f["table"] == "visits"]
    assert visitors and all(f["column"] == "visitor" and f["kind"] == "person" for f in visitors)
    # a composite key is an object, in the order of the key (site, then seq)
    assert [f["key"] for f in visitors] == [
        {"site": "osaka", "seq": 1},
        {"site": "osaka", "seq": 3},
        {"site": "tokyo", "seq": 0},
        {"site": "tokyo", "seq": 2},
    ]
    loose = [f for f in lines if f["table"] == "loose"]
    assert len(loose) == 4 and all(f["key"] is None and f["kind"] == "my_number" for f in loose)
    assert scan_db_url.split("@")[-1] not in out.stdout
    for value in _secrets():
        assert value not in out.output
    # the sealed run keeps every finding that was streamed, keys included
    with workspace.db.session() as session:
        [run] = session.scalars(select(ScanRun)).all()
        assert run.target_kind == "database" and run.id == report["run"]
        for value in _secrets():
            assert value.encode() not in run.sealed_report
        kept = service.report_of(workspace, run)
    occurrences = [o for loc in kept["locations"] for o in loc["occurrences"]]
    assert len(occurrences) == len(lines)
    assert {json.dumps(o["key"], sort_keys=True) for o in occurrences} >= {
        json.dumps(f["key"], sort_keys=True) for f in lines
    }


def _counting(engine: Engine) -> list[tuple[str, bool]]:
    """Every SELECT the engine runs on the scanned tables, and whether it asked for a server-side cursor."""
    seen: list[tuple[str, bool]] = []

    @event.listens_for(engine, "before_cursor_execute")
    def count(conn, cursor, statement, parameters, context, executemany):  # type: ignore[no-untyped-def]
        s = " ".join(statement.split()).lower()
        if s.startswith("select") and (" from members" in s or " from loose" in s):
            seen.append((s, bool(context.execution_options.get("stream_results"))))

    return seen


@ALL_KINDS
def test_when_a_large_table_is_scanned_then_it_is_read_a_batch_at_a_time_and_each_batch_is_handed_on(
    scan_db_url: str,
) -> None:
    _fill(scan_db_url, rows=250)
    engine = create_engine(scan_db_url)
    seen = _counting(engine)
    log: list[int] = []

    def found(part: list[Location]) -> None:
        if part[0].container == "members":  # how many pages had been read when this batch came
            log.append(sum(1 for s, _ in seen if " from members" in s))

    try:
        result = database.scan_engine(
            engine, target="$T", tables=["members", "loose"], batch_rows=100, analyzer=ANALYZER, found=found
        )
    finally:
        engine.dispose()
    keyed = [s for s, _ in seen if " from members" in s]
    # 250 rows in pages of 100: three queries, each with a LIMIT, the later ones after the last key
    assert len(keyed) == 3 and all(" limit " in s for s in keyed)
    assert all(" where " not in keyed[0] and " where " in s for s in keyed[1:])
    # the table without a key is read through a server-side cursor in one streamed query
    streamed = [stream for s, stream in seen if " from loose" in s]
    assert streamed == [True]
    # each batch's findings were handed on before the next batch was read
    assert log == [1, 2, 3]
    [email] = [loc for loc in result.locations if loc.where == "members.email"]
    assert email.rows_sampled == 250 and email.hits["email"].count == 250
    assert sorted(o.key for o in email.occurrences) == list(range(250))


def test_when_batches_are_read_then_no_batch_is_larger_than_asked_and_max_rows_holds(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'big.db'}"
    _fill(url, rows=1050)
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            table = Table("members", MetaData(), autoload_with=conn)
            sizes = [len(b) for b in database.batches(conn, table, batch_rows=500)]
            assert sizes == [500, 500, 50]
            assert [len(b) for b in database.batches(conn, table, batch_rows=500, max_rows=700)] == [500, 200]
            loose = Table("loose", MetaData(), autoload_with=conn)
            assert [len(b) for b in database.batches(conn, loose, batch_rows=3)] == [3, 1]
    finally:
        engine.dispose()


def test_when_a_key_column_holds_personal_data_then_the_key_is_masked(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'k.db'}"
    md = MetaData()
    t = Table("subscribers", md, Column("email", String(120), primary_key=True), Column("phone", String(40)))
    engine = create_engine(url)
    md.create_all(engine)
    with engine.begin() as conn:
        conn.execute(t.insert(), [{"email": e, "phone": p} for e, p in zip(EMAILS, PHONES, strict=True)])
    try:
        result = database.scan_engine(engine, target="$T", analyzer=ANALYZER)
    finally:
        engine.dispose()
    lines = [line for loc in result.locations for line in loc.finding_lines()]
    assert {f["column"] for f in lines} == {"email", "phone"}
    for f in lines:
        assert f["key"] and "*" in f["key"] and f["key"] not in EMAILS


@ALL_KINDS
def test_appi_23_log_a_database_finding_marked_not_personal_is_left_out_of_the_next_scan_and_audited(
    scan_db_url: str, workspace: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    _fill(scan_db_url)
    monkeypatch.setenv("SHOP_SCAN_URL", scan_db_url)
    first = service.scan_database(workspace, "SHOP_SCAN_URL", tables=["loose"])
    [loc] = first.locations
    assert len(loc.occurrences) == 4 and all(len(o.fingerprint) == 32 for o in loc.occurrences)
    code = loc.occurrences[0]
    runner = CliRunner()
    marked = runner.invoke(
        app, ["scan", "--not-personal", code.fingerprint, "--kind", "my_number", "--reason", "a product code"]
    )
    assert marked.exit_code == 0, marked.output
    out = runner.invoke(app, ["scan", "--db-url-env", "SHOP_SCAN_URL", "--table", "loose", "--json"])
    lines, report = _lines(out.stdout)
    assert len(lines) == 3 and code.fingerprint not in {f["fingerprint"] for f in lines}
    assert report["totals"]["my_number"] == 3
    # the mark holds for this table of this database only: the same value elsewhere is still reported
    other = service.dismissals(workspace).fingerprint("my_number", "$OTHER_URL/loose", MY_NUMBERS[0])
    assert other and other != code.fingerprint
    with workspace.db.session() as session:
        [mark] = session.scalars(select(ScanDismissal)).all()
        assert mark.entity == "my_number" and mark.marked_by == "cli"
        leaves = b"".join(bytes(e.leaf) for e in session.scalars(select(AuditEntry)))
    assert b"scan.not_personal" in leaves
    for value in MY_NUMBERS:
        assert value.encode() not in leaves


def _sign_in(c: TestClient, login: str) -> str:
    form = c.get("/console/login")
    csrf = re.search(r'name="csrf" value="([^"]+)"', form.text)
    assert csrf
    c.post(
        "/console/login", data={"login": login, "password": "correct horse battery", "csrf": csrf.group(1)}
    )
    page = re.search(r'name="csrf" value="([^"]+)"', c.get("/console/").text)
    assert page
    return page.group(1)


def test_when_the_office_marks_a_database_finding_on_the_console_then_the_next_scan_leaves_it_out(
    workspace: Workspace, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    demo_copy(workspace, 3)
    with workspace.db.session() as session:
        set_password(session, "po01", "correct horse battery", actor="test")  # the privacy office
    url = f"sqlite:///{tmp_path / 'shop.db'}"
    _fill(url)
    monkeypatch.setenv("SHOP_SCAN_URL", url)
    result = service.scan_database(workspace, "SHOP_SCAN_URL", tables=["members"])
    with workspace.db.session() as session:
        run_id = service.record(session, workspace, result, actor="test", started_at=datetime.now(UTC)).id
    [email] = [loc for loc in result.locations if loc.column == "email"]
    target = email.occurrences[2]
    with TestClient(create_app(workspace)) as c:
        csrf = _sign_in(c, "po01")
        page = c.get("/console/scans?lang=ja")
        assert page.status_code == 200 and "主キー" in page.text and target.fingerprint in page.text
        assert "key 2" in c.get("/console/scans?lang=en").text
        posted = c.post(
            "/console/scans/not-personal?lang=ja",
            data={
                "csrf": csrf,
                "fingerprint": target.fingerprint,
                "entity": "email",
                "reason": "共用の窓口アドレス",
                "run": str(run_id),
            },
            follow_redirects=False,
        )
        assert posted.status_code == 303 and "marked=1" in posted.headers["location"]
    again = service.scan_database(workspace, "SHOP_SCAN_URL", tables=["members"])
    [email] = [loc for loc in again.locations if loc.column == "email"]
    assert [o.key for o in email.occurrences] == [0, 1, 3]


def test_when_a_database_scan_gets_bad_input_then_it_says_so_in_both_languages_and_records_nothing(
    workspace: Workspace, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    runner = CliRunner()
    url = f"sqlite:///{tmp_path / 'shop.db'}"
    _fill(url)
    monkeypatch.setenv("SHOP_SCAN_URL", url)
    unknown = runner.invoke(app, ["scan", "--db-url-env", "SHOP_SCAN_URL", "--table", "nope"])
    assert unknown.exit_code == 2, unknown.output
    text = " ".join(unknown.output.split())
    assert "no table 'nope'" in text and "表「nope」はありません" in text and "members" in text
    monkeypatch.setenv("GONE_URL", f"sqlite:///{tmp_path / 'gone.db'}")
    gone = runner.invoke(app, ["scan", "--db-url-env", "GONE_URL"])
    assert gone.exit_code == 2 and "cannot connect" in gone.output and "接続できません" in gone.output
    assert not (tmp_path / "gone.db").exists()  # not made empty by the scan
    monkeypatch.setenv("DOWN_URL", "postgresql://scanner:s3cret-pw@127.0.0.1:1/shop")
    down = runner.invoke(app, ["scan", "--db-url-env", "DOWN_URL"])
    text = " ".join(down.output.split())
    assert down.exit_code == 2 and "cannot connect: host 127.0.0.1:1, database 'shop'" in text
    assert "接続できません" in text and "s3cret-pw" not in down.output
    alone = runner.invoke(app, ["scan", str(tmp_path), "--table", "members"])
    assert alone.exit_code == 2 and "--table" in alone.output
    with workspace.db.session() as session:
        assert session.scalars(select(ScanRun)).all() == []
