"""Connectors to the organization's own databases, on SQLite, PostgreSQL and MariaDB, with a realistic
schema (customers, addresses, orders and their items, invoices under a statutory hold, support tickets
with replies, employees with dependents) and a cycle of references. Every effect is checked by querying
the databases directly."""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import (
    Column,
    Date,
    ForeignKey,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    create_engine,
    select,
)

from mamoru.connectors.maps import load_map, parse_map
from mamoru.connectors.sql import MASK, ErasureRefused, ForeignKeyLink, SqlConnector
from mamoru.law.requests import RequestKind
from mamoru.policy.errors import PolicyError
from mamoru.workspace import Workspace
from tests.conftest import IN_CI
from tests.requests_helpers import approve_and_run, load_office, package, person, verified

CASES = Path(__file__).parent / "connector_cases"
MARIADB = os.environ.get("MAMORU_TEST_MARIADB_URL", "mysql+pymysql://root@127.0.0.1:3306")
SUBJECT = "hanako.sato@example.jp"
OTHER = "taro.suzuki@example.jp"

md = MetaData()
customers = Table(
    "customers",
    md,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("email", String(120), unique=True),
    Column("phone", String(40)),
    Column("full_name", String(100)),
    Column("address_id", Integer, ForeignKey("addresses.id", use_alter=True, name="fk_customer_address")),
)
addresses = Table(
    "addresses",
    md,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("customer_id", Integer, ForeignKey("customers.id")),
    Column("line", String(200)),
    Column("postal_code", String(10)),
)
orders = Table(
    "orders",
    md,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("customer_id", Integer, ForeignKey("customers.id")),
    Column("total_yen", Integer),
    Column("ordered_at", Date),
)
order_items = Table(
    "order_items",
    md,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("order_id", Integer, ForeignKey("orders.id")),
    Column("sku", String(40)),
)
invoices = Table(
    "invoices",
    md,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("customer_id", Integer, ForeignKey("customers.id")),
    Column("amount_yen", Integer),
)
tickets = Table(
    "tickets",
    md,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("customer_id", Integer, ForeignKey("customers.id"), nullable=True),
    Column("parent_id", Integer, ForeignKey("tickets.id"), nullable=True),
    Column("body", Text),
)
employees = Table(
    "employees",
    md,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("number", String(20), unique=True),
    Column("email", String(120)),
    Column("manager_id", Integer, ForeignKey("employees.id"), nullable=True),
)
dependents = Table(
    "dependents",
    md,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("employee_id", Integer, ForeignKey("employees.id")),
    Column("name", String(100)),
)


def fill(url: str, subject: str = SUBJECT) -> None:
    """The subject and one other person in every table (the subject is a customer and an employee)."""
    engine = create_engine(url)
    md.drop_all(engine)
    md.create_all(engine)
    with engine.begin() as conn:
        conn.execute(
            customers.insert(),
            [
                {
                    "id": 1,
                    "email": subject,
                    "phone": "090-1111-2222",
                    "full_name": "佐藤花子",
                    "address_id": None,
                },
                {
                    "id": 2,
                    "email": OTHER,
                    "phone": "090-3333-4444",
                    "full_name": "鈴木太郎",
                    "address_id": None,
                },
            ],
        )
        conn.execute(
            addresses.insert(),
            [
                {"id": 1, "customer_id": 1, "line": "東京都千代田区一丁目1番1号", "postal_code": "100-0001"},
                {
                    "id": 2,
                    "customer_id": 2,
                    "line": "大阪府大阪市北区二丁目2番2号",
                    "postal_code": "530-0001",
                },
            ],
        )
        conn.execute(customers.update().where(customers.c.id == 1).values(address_id=1))
        conn.execute(customers.update().where(customers.c.id == 2).values(address_id=2))
        conn.execute(
            orders.insert(),
            [
                {"id": 1, "customer_id": 1, "total_yen": 1200, "ordered_at": date(2026, 1, 5)},
                {"id": 2, "customer_id": 1, "total_yen": 800, "ordered_at": date(2026, 2, 7)},
                {"id": 3, "customer_id": 2, "total_yen": 500, "ordered_at": date(2026, 3, 9)},
            ],
        )
        conn.execute(
            order_items.insert(),
            [
                {"id": 1, "order_id": 1, "sku": "A-1"},
                {"id": 2, "order_id": 2, "sku": "B-2"},
                {"id": 3, "order_id": 3, "sku": "C-3"},
            ],
        )
        conn.execute(
            invoices.insert(),
            [{"id": 1, "customer_id": 1, "amount_yen": 1200}, {"id": 2, "customer_id": 2, "amount_yen": 500}],
        )
        conn.execute(
            tickets.insert(),
            [
                {"id": 1, "customer_id": 1, "parent_id": None, "body": "配送について"},
                {"id": 2, "customer_id": None, "parent_id": 1, "body": "回答: 明日お届けします"},
                {"id": 3, "customer_id": 2, "parent_id": None, "body": "返品したい"},
            ],
        )
        conn.execute(
            employees.insert(),
            [
                {"id": 2, "number": "E-0002", "email": OTHER, "manager_id": None},
                {"id": 1, "number": "E-0001", "email": subject, "manager_id": 2},
            ],
        )
        conn.execute(
            dependents.insert(),
            [
                {"id": 1, "employee_id": 1, "name": "佐藤一郎"},
                {"id": 2, "employee_id": 1, "name": "佐藤二郎"},
                {"id": 3, "employee_id": 2, "name": "鈴木花子"},
            ],
        )
    engine.dispose()


def ids(url: str, table: Table) -> list[int]:
    engine = create_engine(url)
    with engine.connect() as conn:
        found = sorted(r[0] for r in conn.execute(select(table.c.id)))
    engine.dispose()
    return found


def row(url: str, table: Table, key: int) -> dict[str, object]:
    engine = create_engine(url)
    with engine.connect() as conn:
        found = dict(conn.execute(select(table).where(table.c.id == key)).mappings().one())
    engine.dispose()
    return found


@pytest.fixture
def mariadb_url() -> Iterator[str]:
    import pymysql

    name = f"mamoru_conn_{secrets.token_hex(4)}"
    try:
        conn = pymysql.connect(host="127.0.0.1", user="root", password="", connect_timeout=3)
    except pymysql.MySQLError as exc:
        if IN_CI:
            pytest.fail(f"MariaDB unreachable under CI=true: {exc}")
        pytest.skip(f"MariaDB unreachable on 127.0.0.1:3306: {exc}")
    with conn.cursor() as cur:
        cur.execute(f"CREATE DATABASE {name} CHARACTER SET utf8mb4")
    try:
        yield f"{MARIADB}/{name}?charset=utf8mb4"
    finally:
        with conn.cursor() as cur:
            cur.execute(f"DROP DATABASE IF EXISTS {name}")
        conn.close()


@pytest.fixture(params=["sqlite", "postgresql", "mariadb"])
def shop_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'shop.db'}"
    if request.param == "postgresql":
        return str(request.getfixturevalue("pg_url2")).replace("postgresql://", "postgresql+psycopg://")
    return str(request.getfixturevalue("mariadb_url"))


@pytest.fixture
def shop(shop_url: str, reference) -> Iterator[tuple[SqlConnector, str]]:  # type: ignore[no-untyped-def]
    fill(shop_url)
    connector = SqlConnector(load_map(CASES / "shop.yaml", reference.policy), shop_url)
    yield connector, shop_url
    connector.dispose()


def _access(connector: SqlConnector, categories: set[str]) -> tuple[dict[str, int], dict[str, list[bytes]]]:
    parts: dict[str, list[bytes]] = {}
    counts = connector.access(
        {"email": SUBJECT}, categories, lambda t, line: parts.setdefault(t, []).append(line)
    )
    return counts, parts


ALL = {"identity", "contact", "transaction", "payment", "hr_record", "family"}


def test_access_follows_references_both_ways_and_returns_exactly_the_subjects_rows(
    shop: tuple[SqlConnector, str],
) -> None:
    connector, _ = shop
    counts, parts = _access(connector, ALL)
    assert counts == {
        "customers": 1,
        "addresses": 1,
        "orders": 2,
        "order_items": 2,
        "invoices": 1,
        "tickets": 2,  # the reply is reached through the ticket's self-reference
        "employees": 1,
        "dependents": 2,
    }
    text = b"".join(b"".join(v) for v in parts.values()).decode()
    assert "佐藤花子" in text and "回答" in text and OTHER not in text and "鈴木" not in text


def test_appi_33_keys_in_many_batches_disclose_every_row_exactly_once(
    shop: tuple[SqlConnector, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from mamoru.connectors import sql

    # every key its own query and every row its own fetch: the batching cannot lose or repeat a row
    for name in ("CHUNK", "ARRAY_CHUNK", "FETCH"):
        monkeypatch.setattr(sql, name, 1)
    connector, _ = shop
    counts, parts = _access(connector, ALL)
    lines = [line for chunks in parts.values() for chunk in chunks for line in chunk.splitlines()]
    assert counts == _access(connector, ALL)[0] and counts["orders"] == 2 and counts["dependents"] == 2
    assert len(lines) == sum(counts.values()) == len(set(lines))


@pytest.mark.postgres
def test_appi_33_string_keys_travel_to_postgresql_as_they_are(pg_url2: str) -> None:
    from mamoru.connectors.sql import _in

    awkward = ["a", 'b"c', "d\\e", "x,y}{", "", " sp ", "NULL", "日本", "it's", '\\"', "tab\t", "nl\n"]
    engine = create_engine(pg_url2.replace("postgresql://", "postgresql+psycopg://"))
    try:
        with engine.begin() as conn:
            conn.exec_driver_sql("CREATE TABLE keyed (k varchar(20) PRIMARY KEY)")
            keyed = Table("keyed", MetaData(), autoload_with=conn)
            conn.execute(keyed.insert(), [{"k": k} for k in [*awkward, "other"]])
            found = conn.execute(
                select(keyed.c.k).where(_in([keyed.c.k], [(k,) for k in awkward], array=True))
            )
            assert sorted(found.scalars()) == sorted(awkward)
    finally:
        engine.dispose()


def test_access_gives_only_the_categories_asked_for(shop: tuple[SqlConnector, str]) -> None:
    counts, parts = _access(shop[0], {"contact"})
    assert "orders" not in counts and "dependents" not in counts
    assert b"full_name" not in b"".join(parts["customers"]) and b"email" in b"".join(parts["customers"])


def test_correction_updates_the_mapped_fields_in_the_datastore(shop: tuple[SqlConnector, str]) -> None:
    connector, url = shop
    result = connector.correct(
        {"email": SUBJECT}, {"address": "東京都港区芝公園四丁目2番8号", "name": "佐藤 花子"}
    )
    assert result["corrected_rows"] == {"customers": 1, "addresses": 1}
    assert row(url, addresses, 1)["line"] == "東京都港区芝公園四丁目2番8号"
    assert row(url, customers, 1)["full_name"] == "佐藤 花子"
    assert row(url, addresses, 2)["line"] == "大阪府大阪市北区二丁目2番2号"


def test_erasure_deletes_masks_and_holds_in_dependency_order_and_is_idempotent(
    shop: tuple[SqlConnector, str],
) -> None:
    connector, url = shop
    result = connector.erase({"email": SUBJECT})
    assert result["deleted_rows"] == {
        "order_items": 2,
        "orders": 2,
        "tickets": 2,
        "dependents": 2,
        "employees": 1,
    }
    assert result["held"] == {
        "invoices": "Corporation Tax Act Art. 126: books and invoices are kept for 7 years"
    }
    assert ids(url, orders) == [3] and ids(url, order_items) == [3] and ids(url, tickets) == [3]
    assert ids(url, employees) == [2] and ids(url, dependents) == [3] and ids(url, invoices) == [1, 2]
    masked = row(url, customers, 1)
    # the marker is a fixed word and a random part: never a value of the row (its key may be personal)
    assert (
        masked["email"].startswith(MASK) and masked["phone"] is None and masked["full_name"].startswith(MASK)
    )
    assert masked["email"] != masked["full_name"] and SUBJECT not in masked["email"]
    assert (
        row(url, addresses, 1)["line"].startswith(MASK)
        and row(url, addresses, 2)["postal_code"] == "530-0001"
    )
    assert result["masked_rows"] == {"customers": 1, "addresses": 1}
    assert row(url, customers, 2)["email"] == OTHER
    again = connector.erase({"email": SUBJECT})  # after a crash, the rerun finds nothing left to do
    assert again["deleted_rows"] == {} and again["masked_rows"] == {}


def _everything(url: str) -> dict[str, list[tuple[object, ...]]]:
    engine = create_engine(url)
    with engine.connect() as conn:
        found = {t.name: sorted(tuple(r) for r in conn.execute(select(t))) for t in md.sorted_tables}
    engine.dispose()
    return found


MANAGER = "      - {column: manager_id, to: employees.id, follow: none, on_erase: set_null}\n"


def _with_manager_reference(shop: tuple[SqlConnector, str], reference, on_erase: str | None) -> SqlConnector:  # type: ignore[no-untyped-def]
    """The shop's map with the employees' manager reference as given (None: not declared at all)."""
    source = (CASES / "shop.yaml").read_text(encoding="utf-8")
    assert MANAGER in source
    if on_erase is None:
        source = source.replace("    references:\n" + MANAGER, "")
    else:
        source = source.replace(MANAGER, MANAGER.replace("set_null", on_erase))
    return SqlConnector(parse_map(source, "shop.yaml", reference.policy), shop[1])


def test_the_live_schema_names_every_foreign_key_the_map_does_not_declare(
    shop: tuple[SqlConnector, str], reference
) -> None:  # type: ignore[no-untyped-def]
    assert shop[0].undeclared_foreign_keys() == []
    undeclared = _with_manager_reference(shop, reference, None)
    try:
        assert undeclared.undeclared_foreign_keys() == [
            ForeignKeyLink("employees", "manager_id", "employees", "id")
        ]
    finally:
        undeclared.dispose()


def test_an_erasure_that_would_break_an_undeclared_foreign_key_is_refused_before_anything_changes(
    shop: tuple[SqlConnector, str], reference
) -> None:  # type: ignore[no-untyped-def]
    url = shop[1]
    before = _everything(url)
    connector = _with_manager_reference(shop, reference, None)
    try:
        with pytest.raises(ErasureRefused) as caught:
            connector.erase({"email": OTHER})  # the manager of the subject: her row points at his
    finally:
        connector.dispose()
    assert "employees.manager_id" in str(caught.value) and "does not declare" in str(caught.value)
    assert OTHER not in str(caught.value) and "鈴木" not in str(caught.value)
    assert _everything(url) == before


def test_a_declared_self_reference_is_cleared_or_restricts_as_the_map_says(
    shop: tuple[SqlConnector, str], reference
) -> None:  # type: ignore[no-untyped-def]
    _, url = shop
    before = _everything(url)
    restrict = _with_manager_reference(shop, reference, "restrict")
    try:
        with pytest.raises(ErasureRefused, match=r"employees\.manager_id .*on_erase: restrict"):
            restrict.check_erasure({"email": OTHER})
        with pytest.raises(ErasureRefused):
            restrict.erase({"email": OTHER})
    finally:
        restrict.dispose()
    assert _everything(url) == before
    result = shop[0].erase({"email": OTHER})  # the map as it is: set_null
    assert result["deleted_rows"]["employees"] == 1  # the manager only: who he manages is not his data
    assert ids(url, employees) == [1] and row(url, employees, 1)["manager_id"] is None
    assert ids(url, dependents) == [1, 2]


def test_connectors_check_live_reports_the_undeclared_foreign_key(
    workspace: Workspace, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from typer.testing import CliRunner

    from mamoru.cli.main import app

    url = f"sqlite:///{tmp_path / 'shop.db'}"
    fill(url)
    folder = workspace.settings.home / "datasets"
    folder.mkdir(exist_ok=True)
    source = (CASES / "shop.yaml").read_text(encoding="utf-8").replace("    references:\n" + MANAGER, "")
    (folder / "shop.yaml").write_text(source, encoding="utf-8")
    monkeypatch.setenv("SHOP_DATABASE_URL", url)
    result = CliRunner().invoke(app, ["connectors", "check", "--live"])
    assert result.exit_code == 1, result.output
    assert "employees.manager_id -> employees.id is not declared" in result.output
    assert url not in result.output
    plain = CliRunner().invoke(app, ["connectors", "check"])
    assert plain.exit_code == 2 and "--live" in plain.output


def test_a_map_with_a_bad_reference_is_refused_with_file_and_line(reference) -> None:  # type: ignore[no-untyped-def]
    source = (CASES / "shop.yaml").read_text(encoding="utf-8").replace("to: orders.id", "to: orders.uid")
    source = source.replace("categories: [family]", "categories: [families]")
    with pytest.raises(PolicyError) as caught:
        parse_map(source, "shop.yaml", reference.policy)
    text = str(caught.value)
    assert (
        "shop.yaml:" in text
        and "'uid' is not a field of orders" in text
        and "'families' is not a category" in text
    )


def test_requests_reach_three_databases_disclose_correct_and_erase(
    workspace: Workspace, tmp_path: Path, request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A person known to mamoru and present in SQLite, PostgreSQL and MariaDB datastores."""
    plan = load_office(workspace)
    customer = person(plan, "customer")
    email = customer.values["email"]
    urls = {
        "shop_sqlite": f"sqlite:///{tmp_path / 'shop.db'}",
        "shop_pg": str(request.getfixturevalue("pg_url2")).replace("postgresql://", "postgresql+psycopg://"),
        "shop_maria": str(request.getfixturevalue("mariadb_url")),
    }
    folder = workspace.settings.home / "datasets"
    folder.mkdir(exist_ok=True)
    base = (CASES / "shop.yaml").read_text(encoding="utf-8")
    for name, url in urls.items():
        fill(url, subject=email)
        env = f"{name.upper()}_URL"
        monkeypatch.setenv(env, url)
        (folder / f"{name}.yaml").write_text(
            base.replace("name: shop\n", f"name: {name}\n").replace("SHOP_DATABASE_URL", env),
            encoding="utf-8",
        )

    disclosed = verified(workspace, RequestKind.DISCLOSURE, email)
    assert approve_and_run(workspace, disclosed, fee_received=True) == "completed"
    members = package(workspace, disclosed)
    for name in urls:
        assert members[f"datastores/{name}/orders.jsonl"].count(b"\n") == 2
        assert b"\xe4\xbd\x90\xe8\x97\xa4" in members[f"datastores/{name}/dependents.jsonl"]  # 佐藤

    corrected = verified(
        workspace,
        RequestKind.CORRECTION,
        email,
        corrections=[{"field": "address", "value": "東京都港区芝公園四丁目2番8号"}],
    )
    assert approve_and_run(workspace, corrected) == "completed"
    for url in urls.values():
        assert row(url, addresses, 1)["line"] == "東京都港区芝公園四丁目2番8号"

    erased = verified(workspace, RequestKind.ERASE, email, grounds=["no_longer_needed"])
    assert approve_and_run(workspace, erased) == "completed"
    for url in urls.values():
        assert ids(url, orders) == [3] and ids(url, dependents) == [3] and ids(url, invoices) == [1, 2]
        assert row(url, customers, 1)["email"].startswith(MASK)


def test_a_fides_dataset_imports_into_a_valid_map_that_finds_the_subject(tmp_path: Path, reference) -> None:  # type: ignore[no-untyped-def]
    import yaml

    from mamoru.connectors import interop

    maps = interop.from_fides(
        (CASES / "fides_shop.yml").read_text(encoding="utf-8"),
        url_env="SHOP_DATABASE_URL",
        policy=reference.policy,
    )
    assert [m.map["name"] for m in maps] == ["fides_shop"]
    text = interop.to_yaml(maps[0].map, "imported", maps[0].notes)
    imported = parse_map(text, "fides_shop.yaml", reference.policy)
    customers_map = imported.table("customers")
    assert customers_map.identities == {"email": "email"} and customers_map.references[0].follow == "parent"
    assert imported.table("orders").references[0].follow == "child"
    assert imported.table("orders").fields[2].categories == ["payment"]
    url = f"sqlite:///{tmp_path / 'shop.db'}"
    fill(url)
    connector = SqlConnector(imported, url)
    parts: dict[str, list[bytes]] = {}
    counts = connector.access({"email": SUBJECT}, ALL, lambda t, line: parts.setdefault(t, []).append(line))
    connector.dispose()
    assert counts == {"customers": 1, "addresses": 1, "orders": 2}
    assert yaml.safe_load(text)["schema"] == "mamoru.dataset/1"


def test_fides_categories_without_a_policy_category_are_reported_and_nothing_is_made(reference) -> None:  # type: ignore[no-untyped-def]
    from mamoru.connectors import interop

    source = (CASES / "fides_shop.yml").read_text(encoding="utf-8").replace("user.name", "user.biometric")
    with pytest.raises(interop.InteropFailed, match=r"user\.biometric"):
        interop.from_fides(source, url_env="X", policy=reference.policy)
    maps = interop.from_fides(
        source, url_env="X", policy=reference.policy, overrides={"user.biometric": "identity"}
    )
    assert maps[0].map["tables"][0]["fields"][3]["categories"] == ["identity"]


def test_a_draft_from_a_live_database_is_a_valid_map_with_its_keys_and_identities(
    tmp_path: Path, reference
) -> None:  # type: ignore[no-untyped-def]
    from mamoru.connectors import interop
    from mamoru.scan import draft

    url = f"sqlite:///{tmp_path / 'shop.db'}"
    fill(url)
    data, notes = draft.draft(url, name="shop_draft", url_env="SHOP_DATABASE_URL", policy=reference.policy)
    drafted = parse_map(interop.to_yaml(data, "draft", notes), "draft.yaml", reference.policy)
    assert drafted.table("customers").identities == {"email": "email", "phone": "phone"}
    assert {(r.column, r.to) for r in drafted.table("orders").references} == {("customer_id", "customers.id")}
    assert all(
        f.erase.value == "keep" for t in drafted.tables for f in t.fields
    )  # nothing erased until decided


def test_console_lists_datastores_tests_a_connection_and_shows_the_last_runs(
    workspace: Workspace, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import re

    from fastapi.testclient import TestClient

    from mamoru.people.auth import set_password
    from mamoru.server import create_app

    plan = load_office(workspace)
    email = person(plan, "customer").values["email"]
    url = f"sqlite:///{tmp_path / 'shop.db'}"
    fill(url, subject=email)
    monkeypatch.setenv("SHOP_DATABASE_URL", url)
    (workspace.settings.home / "datasets").mkdir(exist_ok=True)
    (workspace.settings.home / "datasets" / "shop.yaml").write_text(
        (CASES / "shop.yaml").read_text(encoding="utf-8"), encoding="utf-8"
    )
    erased = verified(workspace, RequestKind.ERASE, email, grounds=["no_longer_needed"])
    assert approve_and_run(workspace, erased) == "completed"
    with workspace.db.session() as session:
        set_password(session, "po01", "correct horse battery", actor="test")
    with TestClient(create_app(workspace)) as client:
        form = client.get("/console/login")
        token = re.search(r'name="csrf" value="([^"]+)"', form.text)
        assert token is not None
        client.post(
            "/console/login",
            data={"login": "po01", "password": "correct horse battery", "csrf": token.group(1)},
        )
        page = client.get("/console/datastores?lang=en")
        assert (
            page.status_code == 200
            and "SHOP_DATABASE_URL" in page.text
            and "Corporation Tax Act" in page.text
        )
        assert "Erase in the organization&#39;s datastores" in page.text and "Rows deleted" in page.text
        csrf = re.search(r'name="csrf" value="([^"]+)"', page.text)
        assert csrf is not None
        tested = client.post("/console/datastores/shop/test?lang=en", data={"csrf": csrf.group(1)})
        assert "connected (8 tables)" in tested.text
        ledger_page = client.get("/console/ledger?lang=en").text  # the ledger says where its data is
        row = ledger_page[ledger_page.index("<td>L-services</td>") :].split("</tr>")[0]
        assert "<td>shop</td>" in row
