"""Discovery end to end: columns from headers and samples, every file format, parallel workers, large
files in chunks, databases (SQLite, PostgreSQL, MariaDB), the ledger gap report, `mamoru scan`, the
sealed runs, the console page, and the Presidio adapters."""

from __future__ import annotations

import csv
import json
import logging
import os
import re
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Column, Integer, MetaData, String, Table, create_engine, select
from typer.testing import CliRunner

from mamoru.audit.tables import AuditEntry
from mamoru.cli.main import app
from mamoru.connectors.maps import parse_map
from mamoru.demo.share import write_demo_share
from mamoru.law import mynumber
from mamoru.people.auth import set_password
from mamoru.scan import columns, files, gaps, service
from mamoru.scan.analyzer import Analyzer
from mamoru.scan.mask import mask
from mamoru.scan.report import Location, ScanResult
from mamoru.scan.tables import ScanDismissal, ScanRun
from mamoru.server import create_app
from mamoru.workspace import Workspace
from tests.conftest import IN_CI
from tests.demo_copies import demo_copy

ANALYZER = Analyzer()
MY_NUMBERS = [
    f"{b}{mynumber.check_digit(b)}" for b in ("12345678901", "98765432109", "55501234567", "31415926535")
]
NAMES = ["山田 太郎", "佐藤 花子", "鈴木 一郎", "高橋 美咲"]
PHONES = ["090-1234-5678", "080-2222-3333", "03-5555-6666", "070-9999-0000"]
EMAILS = ["taro@example.jp", "hanako@example.jp", "ichiro@example.jp", "misaki@example.jp"]


def _secrets() -> list[str]:
    """Every full value the fixtures write: none of them may appear in a report, a log or the audit log."""
    return MY_NUMBERS + NAMES + PHONES + EMAILS


def _write_csv(path: Path, header: list[str], rows: list[list[str]], encoding: str = "utf-8") -> None:
    with path.open("w", encoding=encoding, newline="") as fh:
        w = csv.writer(fh)
        w.writerow(header)
        w.writerows(rows)


def _staff_rows() -> list[list[str]]:
    return [[f"E{i}", NAMES[i], PHONES[i], EMAILS[i], MY_NUMBERS[i]] for i in range(4)]


# --- columns ----------------------------------------------------------------------------------------


class CountingAnalyzer(Analyzer):
    """Counts calls, to prove a column costs one analyzer call, not one a cell."""

    calls = 0

    def analyze(self, text: str):  # type: ignore[no-untyped-def]
        type(self).calls += 1
        return super().analyze(text)


def test_when_a_column_is_classified_then_the_analyzer_runs_once_for_all_its_values() -> None:
    counting = CountingAnalyzer()
    cls = columns.classify(counting, "電話番号", PHONES * 25)
    assert CountingAnalyzer.calls == 1
    assert cls.cells == {"phone": 100}
    assert all(s.endswith(("78", "33", "66", "00")) and "*" in s for s in cls.samples["phone"])


def test_when_a_header_names_the_birth_date_then_its_dates_count_and_other_dates_do_not() -> None:
    dates = ["1985/05/03", "1990/12/01", "1979/02/28"]
    assert columns.classify(ANALYZER, "生年月日", dates).cells == {"birth_date": 3}
    assert columns.classify(ANALYZER, "入社日", dates).cells == {}
    assert columns.classify(ANALYZER, "date_of_birth", dates).cells == {"birth_date": 3}


def test_when_a_header_gives_context_then_twelve_digits_are_my_numbers_only_under_the_right_one() -> None:
    assert columns.classify(ANALYZER, "マイナンバー", MY_NUMBERS).cells == {"my_number": 4}
    assert "my_number" not in columns.classify(ANALYZER, "注文番号", MY_NUMBERS).cells


def test_when_a_name_column_has_unusual_names_then_the_header_decides() -> None:
    cls = columns.classify(ANALYZER, "氏名", ["勅使河原 凛", "東海林 透", "五百旗頭 望"])
    assert "person" in cls.cells
    assert columns.classify(ANALYZER, "会社名", ["勅使河原商店", "東海林工業"]).cells == {}
    assert columns.classify(ANALYZER, "product_name", ["Widget A", "Gadget B"]).cells == {}


# (header, values, the entity every value is found as, or None: nothing found). Values that say nothing
# on their own: the header is the only context a CSV export gives.
HEADER_ONLY_CASES = [
    ("acct_no", ["1510304", "2345678"], "bank_account"),
    ("口座番号", ["1510304", "0012345"], "bank_account"),
    ("口座残高", ["1510304", "2345678"], None),
    ("zip_code", ["0028333", "1500001"], "postal_code"),
    ("お届け先郵便番号", ["5583429", "100-0001"], "postal_code"),
    ("zip", ["76386", "02134-1234"], "postal_code"),
    ("kana", ["ヒガ サユリ", "イガラシケンイチ"], "person"),
    ("英字氏名", ["YANAGIDA Ryosuke", "ONODERA Hina"], "person"),
    ("last_name", ["Onodera", "O'Brien"], "person"),
    ("first_name", ["Takuma", "Yui"], "person"),
    ("連名1", ["結衣", "翔"], "person"),
    ("連名1敬称", ["様", "先生"], None),
    ("住所2", ["パレス696号室", "コーポ丸山 201"], "address"),
    ("home_address", ["8392 Amber Camp, Milesberg, VI", "12 Elm Street Apt. 3, Dover, DE"], "address"),
    ("ip_address", ["10.0.0.1", "192.168.1.20"], None),
    ("passport_no", ["425848188", "TK1234567"], "passport"),
    ("mobile", ["948.556.2291x855", "+1-202-555-0143"], "phone"),
    ("被保険者証記号", ["96931", "千代田12"], "health_insurance"),
    ("被保険者証番号", ["5409", "12"], "health_insurance"),
    ("insurance_premium", ["12000", "9800"], None),
    ("card_number", ["3056-9309-0259-04", "4111 1111 1111 1111"], "credit_card"),
    ("郵便番号", ["未定", "確認中", "1500001"], None),  # the header decides only where most values fit
]


@pytest.mark.parametrize(("header", "values", "entity"), HEADER_ONLY_CASES)
def test_when_only_the_header_says_what_a_value_is_then_a_value_of_its_shape_counts(
    header: str, values: list[str], entity: str | None
) -> None:
    found = columns.analyze_cells(ANALYZER, header, values)
    if entity is None:
        assert found == []
        return
    assert [(row, f.entity) for row, f in found] == [(row, entity) for row in range(len(values))]
    assert all((f.start, f.end) == (0, len(values[row])) for row, f in found)


def test_when_the_header_decides_then_the_occurrence_says_which_header() -> None:
    cls = columns.classify(ANALYZER, "acct_no", ["1510304", "2345678", "7654321"])
    assert cls.cells == {"bank_account": 3}
    assert cls.occurrences[0].recognizer == "columns"
    assert "'acct_no'" in cls.occurrences[0].explanation


@pytest.mark.parametrize("header", ["id", "会員ID", "customer_id", "管理番号", "注文番号"])
def test_when_a_luhn_valid_number_is_an_internal_id_then_it_is_not_a_card(header: str) -> None:
    ids = ["4111111111111111", "4012888888881881"]
    assert columns.analyze_cells(ANALYZER, header, ids) == []
    assert {f.entity for _, f in columns.analyze_cells(ANALYZER, "card_number", ids)} == {"credit_card"}


def test_when_a_column_is_mostly_empty_or_unrelated_then_nothing_is_claimed() -> None:
    assert columns.classify(ANALYZER, "memo", [None, "", "特になし", "確認済み"]).cells == {}
    assert columns.classify(ANALYZER, "note", []).values == 0


# --- files ------------------------------------------------------------------------------------------


@pytest.fixture
def share(tmp_path: Path) -> Path:
    """One file of every supported kind, with known values."""
    from docx import Document
    from fpdf import FPDF
    from openpyxl import Workbook

    root = tmp_path / "share"
    (root / "hr").mkdir(parents=True)
    (root / "misc").mkdir()
    _write_csv(
        root / "hr" / "staff.csv", ["社員番号", "氏名", "電話番号", "メール", "マイナンバー"], _staff_rows()
    )
    _write_csv(
        root / "hr" / "staff-sjis.csv",
        ["社員番号", "氏名", "電話番号", "メール", "マイナンバー"],
        _staff_rows(),
        "cp932",
    )
    (root / "hr" / "staff.tsv").write_text(
        "氏名\t電話\n" + "\n".join(f"{n}\t{p}" for n, p in zip(NAMES, PHONES, strict=True)), encoding="utf-8"
    )
    wb = Workbook()
    ws = wb.active
    ws.title = "名簿"
    ws.append(["氏名", "メールアドレス", "既往歴"])
    for n, e, d in zip(NAMES, EMAILS, ["糖尿病", "なし", "高血圧症", "喘息"], strict=True):
        ws.append([n, e, d])
    wb.save(root / "hr" / "roster.xlsx")
    doc = Document()
    doc.add_paragraph(f"{NAMES[0]}様")
    doc.add_paragraph(f"ご連絡先：{PHONES[0]}　メール：{EMAILS[0]}")
    table = doc.add_table(rows=1, cols=2)
    table.rows[0].cells[0].text = "個人番号"
    table.rows[0].cells[1].text = MY_NUMBERS[0]
    doc.save(str(root / "misc" / "letter.docx"))
    pdf = FPDF()
    pdf.add_page()
    pdf.set_font("Helvetica", size=11)
    pdf.cell(
        0, 8, f"Contact: Taro Yamada, phone {PHONES[1]}, mail {EMAILS[1]}", new_x="LMARGIN", new_y="NEXT"
    )
    pdf.output(str(root / "misc" / "report.pdf"))
    (root / "misc" / "notes.txt").write_text(
        f"会議メモ：{NAMES[2]}さんより連絡。TEL {PHONES[2]}\n特記事項なし。\n", encoding="utf-8"
    )
    (root / "misc" / "empty.txt").write_text("本日の会議は特許情報の利用について。\n", encoding="utf-8")
    (root / "misc" / ".hidden.txt").write_text(f"マイナンバー {MY_NUMBERS[3]}\n", encoding="utf-8")
    (root / "misc" / "image.png").write_bytes(b"\x89PNG\r\n")
    return root


def _entities(result: ScanResult) -> dict[str, set[str]]:
    out: dict[str, set[str]] = {}
    for loc in result.locations:
        out.setdefault(Path(loc.container).name + (f"#{loc.column}" if loc.column else ""), set()).update(
            loc.hits
        )
    return out


def test_when_a_share_is_scanned_with_workers_then_every_format_is_read(share: Path) -> None:
    result = files.scan_paths([share], workers=2)
    found = _entities(result)
    # Every document is read; the hidden file and the image are not (the hidden file's number unseen).
    documents = [
        f for f in share.rglob("*") if f.is_file() and not f.name.startswith(".") and f.suffix != ".png"
    ]
    assert result.files_scanned == len(documents)
    assert not any(Path(loc.container).name in (".hidden.txt", "image.png") for loc in result.locations)
    assert found["staff.csv#マイナンバー"] == {"my_number"}
    assert found["staff.csv#電話番号"] == {"phone"}
    assert found["staff.csv#氏名"] == {"person"}
    assert found["staff-sjis.csv#マイナンバー"] == {"my_number"}  # Shift_JIS is detected
    assert found["staff.tsv#電話"] == {"phone"}
    assert found["roster.xlsx#名簿!既往歴"] == {"special_care"}
    assert found["roster.xlsx#名簿!メールアドレス"] == {"email"}
    assert {"person", "phone", "email", "my_number"} <= found["letter.docx"]
    assert {"person", "phone", "email"} <= found["report.pdf"]
    assert {"person", "phone"} <= found["notes.txt"]
    assert "empty.txt" not in found


def test_when_one_worker_or_two_scan_then_the_result_is_the_same(share: Path) -> None:
    one = files.scan_paths([share], workers=1).to_json()
    two = files.scan_paths([share], workers=2).to_json()
    one.pop("seconds")
    two.pop("seconds")
    assert one == two


def test_when_a_large_file_is_read_in_chunks_then_every_value_is_counted_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(files, "CHUNK_CHARS", 1000)
    path = tmp_path / "big.txt"
    lines = [f"{i:05d} 連絡先 TEL 090-{i:04d}-{(i * 7) % 10000:04d} 以上\n" for i in range(2000)]
    path.write_text("".join(lines), encoding="utf-8")
    chunks = list(files.text_chunks(path))
    assert len(chunks) > 50 and all(c.endswith("\n") for c in chunks)
    [loc] = files.scan_file(path, ANALYZER)
    assert loc.hits["phone"].count == 2000


def test_when_a_file_is_broken_then_it_is_named_and_the_rest_is_scanned(tmp_path: Path) -> None:
    (tmp_path / "broken.xlsx").write_bytes(b"not a workbook")
    (tmp_path / "ok.txt").write_text(f"電話 {PHONES[0]}\n", encoding="utf-8")
    result = files.scan_paths([tmp_path], workers=1)
    assert result.errors and "broken.xlsx" in result.errors[0] and "could not be read" in result.errors[0]
    assert [Path(loc.container).name for loc in result.locations] == ["ok.txt"]


def test_when_findings_are_reported_then_no_full_value_is_shown(share: Path) -> None:
    report = json.dumps(files.scan_paths([share], workers=1).to_json(), ensure_ascii=False)
    for value in _secrets():
        assert value not in report, value
    assert mask("090-1234-5678") == "***-****-**78"
    assert mask("山田 太郎") == "山* **"
    assert mask("123456789018") == "**********18"


# --- gaps (pure) ------------------------------------------------------------------------------------


def _categories(workspace: Workspace) -> dict[str, object]:
    return {c.id: c for c in workspace.policy.policy.categories}


def test_jis_1_personal_data_found_where_the_ledger_has_none_is_a_gap(
    tmp_path: Path, workspace: Workspace
) -> None:
    covered, bare, public = tmp_path / "hr", tmp_path / "downloads", tmp_path / "public"
    result = ScanResult("files", str(tmp_path))
    for folder, file, entities in (
        (covered, "staff.csv", {"person": 3, "my_number": 3}),
        (covered, "memo.txt", {"person": 1}),
        (bare, "export.txt", {"phone": 2}),
        (public, "report.pdf", {"email": 1}),
        (bare, "company.txt", {"corporate_number": 4}),  # not personal: no gap
    ):
        loc = Location("file", str(folder / file), str(folder / file))
        for e, n in entities.items():
            loc.hit(e).count = n
        result.locations.append(loc)
    shares = [gaps.ShareView(covered.resolve(), ("L-personnel",)), gaps.ShareView(public.resolve(), ())]
    ledger = {
        "L-personnel": ["identity", "contact", "hr_record", "health"],
        "L-my_number_staff": ["my_number"],
    }
    found = {
        (Path(g.where).name, g.problem, tuple(g.entities))
        for g in gaps.file_gaps(result, shares, ledger, _categories(workspace))
    }  # type: ignore[arg-type]
    assert found == {
        ("staff.csv", "category_missing", ("my_number",)),
        ("export.txt", "unregistered_location", ("phone",)),
        ("report.pdf", "no_ledger_entry", ("email",)),
    }


def test_appi_20b_special_care_data_outside_a_special_care_category_is_a_gap(
    tmp_path: Path, workspace: Workspace
) -> None:
    loc = Location("file_column", f"{tmp_path}/s.xlsx#既往歴", f"{tmp_path}/s.xlsx", column="既往歴")
    loc.hit("special_care").count = 3
    result = ScanResult("files", str(tmp_path), locations=[loc])
    shares = [gaps.ShareView(tmp_path.resolve(), ("L-services",))]
    cats = _categories(workspace)
    [gap] = gaps.file_gaps(result, shares, {"L-services": ["identity", "contact"]}, cats)  # type: ignore[arg-type]
    assert gap.problem == "category_missing" and gap.entities == ["special_care"]
    assert gaps.file_gaps(result, shares, {"L-services": ["identity", "health"]}, cats) == []  # type: ignore[arg-type]


SHOP_MAP = """schema: mamoru.dataset/1
name: shop
url_env: SHOP_SCAN_URL
ledger_entries: [L-services]
tables:
  - name: customers
    primary_key: id
    identities: {email: email}
    fields:
      - {name: id}
      - {name: email, categories: [contact]}
      - {name: full_name, categories: [identity]}
      - {name: phone}
      - {name: card, categories: [contact]}
"""


def test_when_a_database_scan_meets_its_map_then_undeclared_columns_and_tables_are_gaps(
    workspace: Workspace,
) -> None:
    shop = parse_map(SHOP_MAP, "shop.yaml", workspace.policy.policy)
    result = ScanResult("database", "$SHOP_SCAN_URL")
    for where, container, column, entity in (
        ("customers.email", "customers", "email", "email"),
        ("customers.full_name", "customers", "full_name", "person"),
        ("customers.phone", "customers", "phone", "phone"),
        ("customers.card", "customers", "card", "credit_card"),
        ("staff.name", "staff", "name", "person"),
    ):
        loc = Location("db_column", where, container, column=column, basis="values")
        loc.hit(entity).count = 5
        result.locations.append(loc)
    ledger = {"L-services": ["identity", "contact", "payment"]}
    cats = _categories(workspace)
    found = {(g.where, g.problem) for g in gaps.database_gaps(result, [shop], ledger, cats)}  # type: ignore[arg-type]
    assert found == {
        ("customers.phone", "undeclared_column"),
        ("customers.card", "category_missing"),
        ("staff", "unmapped_table"),
    }
    unmapped = {g.problem for g in gaps.database_gaps(result, [], ledger, cats)}  # type: ignore[arg-type]
    assert unmapped == {"unregistered_location"}


# --- databases --------------------------------------------------------------------------------------


@pytest.fixture
def ledgered(workspace: Workspace) -> Workspace:
    """The workspace with the demo organization's ledger (L-services, L-personnel, L-my_number_staff …)."""
    demo_copy(workspace, 3)
    return workspace


def _fill_customers(url: str) -> None:
    md = MetaData()
    customers = Table(
        "customers",
        md,
        Column("id", Integer, primary_key=True, autoincrement=False),
        Column("email", String(120)),
        Column("full_name", String(100)),
        Column("phone", String(40)),
        Column("card", String(40)),
        Column("sku", String(40)),
    )
    staff = Table(
        "legacy_staff",
        md,
        Column("id", Integer, primary_key=True, autoincrement=False),
        Column("mynum", String(20)),
    )
    engine = create_engine(url)
    md.create_all(engine)
    cards = ["4111 1111 1111 1111", "5555 5555 5555 4444", "3530 1113 3330 0000", "4012 8888 8888 1881"]
    with engine.begin() as conn:
        conn.execute(
            customers.insert(),
            [
                {
                    "id": i,
                    "email": EMAILS[i],
                    "full_name": NAMES[i],
                    "phone": PHONES[i],
                    "card": cards[i],
                    "sku": f"SKU-{i:05d}",
                }
                for i in range(4)
            ],
        )
        conn.execute(staff.insert(), [{"id": i, "mynum": MY_NUMBERS[i]} for i in range(4)])
    engine.dispose()


@pytest.fixture
def scan_db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    kind = getattr(request, "param", "sqlite")
    if kind == "sqlite":
        return f"sqlite:///{tmp_path / 'shop.db'}"
    import secrets as _secrets_mod

    if kind == "postgresql":
        import psycopg

        from tests.conftest import PG_ADMIN_URL, _postgres_or_skip

        _postgres_or_skip()
        admin = PG_ADMIN_URL.replace("+psycopg", "")
        pg_name = f"mamoru_scan_{_secrets_mod.token_hex(4)}"
        with psycopg.connect(admin, autocommit=True) as pg:
            pg.execute(f'CREATE DATABASE "{pg_name}"')

        def drop() -> None:
            with psycopg.connect(admin, autocommit=True) as pg:
                pg.execute(f'DROP DATABASE IF EXISTS "{pg_name}" WITH (FORCE)')

        request.addfinalizer(drop)
        return admin.rsplit("/", 1)[0].replace("postgresql://", "postgresql+psycopg://") + "/" + pg_name
    import pymysql

    try:
        conn = pymysql.connect(host="127.0.0.1", user="root", password="", connect_timeout=3)
    except pymysql.MySQLError as exc:
        if IN_CI:
            pytest.fail(f"MariaDB unreachable under CI=true: {exc}")
        pytest.skip(f"MariaDB unreachable on 127.0.0.1:3306: {exc}")
    name = f"mamoru_scan_{_secrets_mod.token_hex(4)}"
    with conn.cursor() as cur:
        cur.execute(f"CREATE DATABASE {name} CHARACTER SET utf8mb4")
    request.addfinalizer(lambda: (conn.cursor().execute(f"DROP DATABASE IF EXISTS {name}"), conn.close()))
    return f"mysql+pymysql://root@127.0.0.1:3306/{name}?charset=utf8mb4"


@pytest.mark.parametrize(
    "scan_db_url",
    ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres), "mariadb"],
    indirect=True,
)
def test_when_mamoru_scan_reads_a_database_then_columns_and_gaps_are_reported(
    scan_db_url: str, ledgered: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    workspace = ledgered
    _fill_customers(scan_db_url)
    (workspace.settings.home / "datasets").mkdir(exist_ok=True)
    (workspace.settings.home / "datasets" / "shop.yaml").write_text(SHOP_MAP, encoding="utf-8")
    monkeypatch.setenv("SHOP_SCAN_URL", scan_db_url)
    out = CliRunner().invoke(app, ["scan", "--db-url-env", "SHOP_SCAN_URL", "--json"])
    assert out.exit_code == 1, out.output
    *lines, report = [json.loads(line) for line in out.stdout.splitlines()]
    assert report["type"] == "report"
    emails = [f for f in lines if f["kind"] == "email"]
    assert emails and all(f["table"] and f["column"] and f["row"] >= 1 for f in emails)
    kinds = {loc["where"]: {f["entity"] for f in loc["findings"]} for loc in report["locations"]}
    assert kinds == {
        "customers.email": {"email"},
        "customers.full_name": {"person"},
        "customers.phone": {"phone"},
        "customers.card": {"credit_card"},
        "legacy_staff.mynum": {"my_number"},
    }
    assert {(g["where"], g["problem"]) for g in report["gaps"]} == {
        ("customers.phone", "undeclared_column"),
        ("customers.card", "category_missing"),
        ("legacy_staff", "unmapped_table"),
    }
    assert report["target"] == "$SHOP_SCAN_URL"
    assert scan_db_url.split("@")[-1] not in out.stdout  # the URL is never printed
    for value in _secrets():
        assert value not in out.stdout


def test_when_a_map_is_drafted_then_the_scanner_proposes_categories_from_the_values(
    tmp_path: Path, workspace: Workspace
) -> None:
    from mamoru.scan import draft

    url = f"sqlite:///{tmp_path / 'legacy.db'}"
    md = MetaData()
    legacy = Table(
        "legacy",
        md,
        Column("id", Integer, primary_key=True),
        Column("c1", String(40)),
        Column("c2", String(20)),
        Column("c3", String(20)),
        Column("c4", String(20)),
    )
    engine = create_engine(url)
    md.create_all(engine)
    with engine.begin() as conn:
        conn.execute(
            legacy.insert(),
            [
                {"id": i, "c1": f"{NAMES[i]}様", "c2": MY_NUMBERS[i], "c3": PHONES[i], "c4": f"SKU-{i}"}
                for i in range(4)
            ],
        )
    engine.dispose()
    data, _notes = draft.draft(url, name="legacy", url_env="LEGACY_URL", policy=workspace.policy.policy)
    [table] = data["tables"]
    cats = {f["name"]: f.get("categories") for f in table["fields"]}
    # a key column is classified too (issue 27): an id that names the person is an identifier
    assert cats == {
        "id": ["identity"],
        "c1": ["identity"],
        "c2": ["my_number"],
        "c3": ["contact"],
        "c4": None,
    }
    assert table["identities"] == {"phone": "c3"}


# --- the command, the record, the audit log -----------------------------------------------------


def test_when_mamoru_scan_runs_then_gaps_exit_1_and_the_run_is_kept_sealed(
    share: Path, ledgered: Workspace, caplog: pytest.LogCaptureFixture
) -> None:
    workspace = ledgered
    caplog.set_level(logging.DEBUG)
    (workspace.settings.home / "file-shares.yaml").write_text(
        f"schema: mamoru.file-shares/1\nshares:\n  - {{path: {share / 'hr'}, ledger_entries: [L-personnel, L-my_number_staff]}}\n",
        encoding="utf-8",
    )
    runner = CliRunner()
    covered = runner.invoke(app, ["scan", str(share / "hr")])
    assert covered.exit_code == 0, covered.output
    assert "no ledger gaps" in covered.stdout
    out = runner.invoke(app, ["scan", str(share), "--json", "--workers", "2"])
    assert out.exit_code == 1, out.output
    *lines, report = [json.loads(line) for line in out.stdout.splitlines()]
    assert report["type"] == "report" and {f["type"] for f in lines} == {"finding"}
    in_notes = [f for f in lines if Path(f["file"]).name == "notes.txt"]
    assert in_notes and all(f["line"] >= 1 and f["explanation"] and f["masked"] for f in in_notes)
    assert {Path(g["where"]).name for g in report["gaps"]} == {"letter.docx", "report.pdf", "notes.txt"}
    with workspace.db.session() as session:
        runs = session.scalars(select(ScanRun).order_by(ScanRun.id)).all()
        assert [r.gap_count for r in runs] == [0, 3]
        assert runs[1].totals["my_number"] >= 3
        for value in _secrets():
            assert value.encode() not in runs[1].sealed_report
        reopened = service.report_of(workspace, runs[1])
        assert reopened["gaps"] == report["gaps"]
        kept = sum(len(loc["occurrences"]) for loc in reopened["locations"])
        assert kept == len(lines)  # the sealed run keeps every finding that was streamed
        leaves = b"".join(bytes(e.leaf) for e in session.scalars(select(AuditEntry)))
    assert b"scan.completed" in leaves
    for value in _secrets():
        assert value.encode() not in leaves
        assert value not in caplog.text
        assert value not in out.output


def test_when_scan_gets_bad_input_then_it_exits_2_and_records_nothing(
    workspace: Workspace, tmp_path: Path
) -> None:
    runner = CliRunner()
    assert runner.invoke(app, ["scan"]).exit_code == 2
    assert runner.invoke(app, ["scan", str(tmp_path), "--db-url-env", "X"]).exit_code == 2
    missing = runner.invoke(app, ["scan", str(tmp_path / "nope")])
    assert missing.exit_code == 2 and "no such file or folder" in missing.output
    unset = runner.invoke(app, ["scan", "--db-url-env", "MAMORU_TEST_UNSET_VAR"])
    assert unset.exit_code == 2 and "not set" in unset.output
    (workspace.settings.home / "file-shares.yaml").write_text(
        "schema: mamoru.file-shares/1\nshares: [{pth: x}]\n"
    )
    bad = runner.invoke(app, ["scan", str(tmp_path)])
    assert (
        bad.exit_code == 2
        and "file-shares.yaml:2:" in bad.output
        and "shares[0].pth: unknown field" in bad.output
    )
    os.environ.pop("MAMORU_TEST_UNSET_VAR", None)
    with workspace.db.session() as session:
        assert session.scalars(select(ScanRun)).all() == []


# --- demo, console, Presidio ------------------------------------------------------------------------


@pytest.fixture
def console(workspace: Workspace) -> Iterator[TestClient]:
    plan = demo_copy(workspace, 3)
    with workspace.db.session() as session:
        for member in plan.staff:
            set_password(session, member.login, "correct horse battery", actor="test")
    root = write_demo_share(workspace.settings.home, 3)
    result = service.scan_files(workspace, [root], workers=1)
    with workspace.db.session() as session:
        service.record(session, workspace, result, actor="test", started_at=datetime.now(UTC))
    with TestClient(create_app(workspace)) as c:
        yield c


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


def test_when_the_demo_share_is_scanned_then_the_console_shows_its_three_gaps(console: TestClient) -> None:
    csrf = _sign_in(console, "po01")
    page = console.get("/console/scans?lang=en")
    assert page.status_code == 200
    assert (
        "Not on the ledger" in page.text
        and "Kind not declared" in page.text
        and "No ledger entry" in page.text
    )
    assert "export-2026-11.txt" in page.text and "staff-list.csv" in page.text
    ja = console.get("/console/scans?lang=ja")
    assert "台帳に記載のない場所" in ja.text
    assert "台帳項目 L-personnel にこの区分の宣言がありません" in ja.text  # the detail in Japanese too
    assert "個人情報を置かないと宣言された場所です" in ja.text
    again = console.post("/console/scans/run?lang=en", data={"csrf": csrf}, follow_redirects=False)
    assert again.status_code == 303 and "error" not in again.headers["location"]
    after = console.get("/console/scans?lang=en").text
    assert after.count("<details open") + after.count("<details>\n<summary>#") == 2  # two runs
    # each finding one by one: its line, kind, masked value and the recognizer's explanation
    assert "Findings one by one" in after and "Why it was reported" in after
    assert "検出の理由" in console.get("/console/scans?lang=ja").text
    # the office marks one finding not personal from the page: remembered, audited
    mark = re.search(
        r'name="fingerprint" value="([a-z2-7]{32})"><input type="hidden" name="entity" value="([a-z_]+)"',
        after,
    )
    assert mark
    done = console.post(
        "/console/scans/not-personal?lang=en",
        data={"csrf": csrf, "fingerprint": mark.group(1), "entity": mark.group(2), "reason": "test data"},
        follow_redirects=False,
    )
    assert done.status_code == 303 and "marked=1" in done.headers["location"]
    assert "Marked not personal" in console.get(done.headers["location"]).text


def test_when_the_nightly_task_runs_then_the_shares_are_scanned_and_the_run_kept(
    workspace: Workspace,
) -> None:
    from mamoru.work.queue import submit
    from mamoru.work.tasks import SCHEDULE, TASKS

    assert SCHEDULE["scan.shares"] == 86400
    assert TASKS["scan.shares"](workspace, {}) == {"shares": 0, "gaps": 0}  # no file-shares.yaml yet
    root = write_demo_share(workspace.settings.home, 5)
    submit(workspace, "scan.shares", actor="staff:po01")  # no broker: runs here
    in_shares = [f for f in root.rglob("*") if f.is_file() and f.relative_to(root).parts[0] != "downloads"]
    with workspace.db.session() as session:
        [run] = session.scalars(select(ScanRun)).all()
        # Every file of the shares is read (downloads/ is no share); with no ledger in this workspace,
        # every one of them names unknown ledger entries or is declared to hold none: a gap each.
        assert run.actor == "staff:po01" and run.target_kind == "files"
        assert run.files_scanned == len(in_shares) and run.gap_count == len(in_shares)


def test_when_a_department_user_opens_discovery_then_it_is_refused(console: TestClient) -> None:
    _sign_in(console, "sa01")
    assert console.get("/console/scans?lang=en").status_code == 403


def test_when_presidio_users_register_the_recognizers_then_presidio_finds_japanese_values() -> None:
    os.environ.setdefault("TLDEXTRACT_PUBLIC_SUFFIX_LIST_URLS", "")
    spacy = pytest.importorskip("spacy")
    presidio = pytest.importorskip("presidio_analyzer")
    from presidio_analyzer.nlp_engine import SpacyNlpEngine

    from mamoru.scan.presidio import recognizers

    nlp = SpacyNlpEngine(models=[{"lang_code": "ja", "model_name": "blank"}])
    nlp.nlp = {"ja": spacy.blank("xx")}  # passed explicitly: nothing is downloaded
    registry = presidio.RecognizerRegistry(supported_languages=["ja"])
    for rec in recognizers("ja"):
        registry.add_recognizer(rec)
    engine = presidio.AnalyzerEngine(registry=registry, nlp_engine=nlp, supported_languages=["ja"])
    text = f"氏名：{NAMES[0]} 個人番号：{MY_NUMBERS[0]} 電話 {PHONES[0]} 注文番号 {MY_NUMBERS[1]}"
    got = {(r.entity_type, text[r.start : r.end]) for r in engine.analyze(text, language="ja")}
    assert got == {("PERSON", NAMES[0]), ("JP_MY_NUMBER", MY_NUMBERS[0]), ("PHONE_NUMBER", PHONES[0])}
    [mn] = [
        r
        for r in engine.analyze(text, language="ja", return_decision_process=True)
        if r.entity_type == "JP_MY_NUMBER"
    ]
    assert mn.analysis_explanation.validation_result is True


def test_when_a_file_is_scanned_then_each_finding_gives_its_line_kind_masked_value_and_explanation(
    tmp_path: Path,
) -> None:
    note = tmp_path / "memo.txt"
    note.write_text(
        "件名：連絡\n\n電話 03-1234-5678\nメール taro@example.jp\n個人番号 123456789018\n", encoding="utf-8"
    )
    table = tmp_path / "staff.csv"
    table.write_text("id,email\n1,a@example.jp\n2,none\n3,b@example.jp\n", encoding="utf-8")
    result = files.scan_paths([tmp_path], workers=1)
    lines = [line for loc in result.locations for line in loc.finding_lines()]
    by_kind = {(Path(f["file"]).name, f["kind"]): f for f in lines}
    assert by_kind[("memo.txt", "phone")]["line"] == 3
    assert by_kind[("memo.txt", "email")]["line"] == 4
    my_number = by_kind[("memo.txt", "my_number")]
    assert my_number["line"] == 5 and "123456789018" not in my_number["masked"]
    assert "validated" in my_number["explanation"] and "個人番号" in my_number["explanation"]
    rows = sorted(f["row"] for f in lines if f["file"].endswith("staff.csv"))
    assert rows == [1, 3] and all(f["column"] == "email" for f in lines if f["file"].endswith("staff.csv"))


def test_appi_23_log_a_finding_marked_not_personal_is_left_out_of_the_next_scan_and_audited(
    workspace: Workspace, tmp_path: Path
) -> None:
    folder = tmp_path / "sales"
    folder.mkdir()
    # A product code that passes the My Number check digit, and a real My Number on the next line.
    (folder / "catalogue.txt").write_text("個人番号 123456789018\n個人番号 987654321093\n", encoding="utf-8")
    first = service.scan_files(workspace, [folder], workers=1)
    [loc] = first.locations
    occurrences = {o.line: o for o in loc.occurrences if o.entity == "my_number"}
    assert set(occurrences) == {1, 2} and all(len(o.fingerprint) == 32 for o in occurrences.values())
    code = occurrences[1]
    assert "123456789018" not in code.fingerprint
    # bad input changes nothing
    runner = CliRunner()
    bad = runner.invoke(
        app, ["scan", "--not-personal", "not-a-fingerprint", "--kind", "my_number", "--reason", "x"]
    )
    assert bad.exit_code == 2 and "fingerprint" in bad.output
    no_reason = runner.invoke(app, ["scan", "--not-personal", code.fingerprint, "--kind", "my_number"])
    assert no_reason.exit_code == 2 and "reason" in no_reason.output
    with workspace.db.session() as session:
        assert session.scalars(select(ScanDismissal)).all() == []
    marked = runner.invoke(
        app, ["scan", "--not-personal", code.fingerprint, "--kind", "my_number", "--reason", "a product code"]
    )
    assert marked.exit_code == 0, marked.output
    again = service.scan_files(workspace, [folder], workers=1)
    lines = [o.line for loc in again.locations for o in loc.occurrences if o.entity == "my_number"]
    assert lines == [2]  # the marked value is left out, the other is still reported
    assert again.totals()["my_number"] == 1
    with workspace.db.session() as session:
        [mark] = session.scalars(select(ScanDismissal)).all()
        assert mark.reason == "a product code" and mark.marked_by == "cli"
        leaves = b"".join(bytes(e.leaf) for e in session.scalars(select(AuditEntry)))
    assert b"scan.not_personal" in leaves and b"123456789018" not in leaves
