"""Connectors across several datastores and schemas: an erasure that reaches two datastores leaves a
clear state when the second fails (before or after the first committed), two tables of one name in two
schemas are mapped apart, the demo never touches a mapped datastore, and every connectors command
answers bad input in the reader's language."""

from __future__ import annotations

import sqlite3
from collections import Counter
from pathlib import Path
from typing import Any

import psycopg
import pytest
from sqlalchemy import select

from mamoru.audit.entry import decode_leaf
from mamoru.audit.tables import AuditEntry
from mamoru.connectors.maps import parse_map
from mamoru.connectors.sql import MASK, SqlConnector
from mamoru.law.requests import RequestKind
from mamoru.ledger.tables import DataSubject
from mamoru.policy.errors import PolicyError
from mamoru.requests import jobs, service
from mamoru.requests.plan import steps_of
from mamoru.workspace import Workspace
from tests.requests_helpers import approve_and_run, load_office, person, verified
from tests.test_connectors_keys import CASES, SCHEMA, rows

COMPOSITE = (CASES / "composite.yaml").read_text(encoding="utf-8")


def _map(workspace: Workspace, name: str, env: str) -> None:
    folder = workspace.settings.home / "datasets"
    folder.mkdir(exist_ok=True)
    (folder / f"{name}.yaml").write_text(
        COMPOSITE.replace("name: composite\n", f"name: {name}\n").replace("COMPOSITE_URL", env),
        encoding="utf-8",
    )


def _sqlite(path: Path, email: str) -> str:
    with sqlite3.connect(path) as conn:
        conn.executescript(SCHEMA)
        conn.execute("UPDATE customer SET email = ? WHERE id = 1", (email,))
        conn.execute("UPDATE visit SET email = ? WHERE email = 'hanako@example.jp'", (email,))
    return f"sqlite:///{path}"


def _postgres(url: str, email: str) -> str:
    with psycopg.connect(url, autocommit=True) as conn:
        for statement in SCHEMA.split(";"):
            if statement.strip():
                conn.execute(statement)
        conn.execute("UPDATE customer SET email = %s WHERE id = 1", (email,))
        conn.execute("UPDATE visit SET email = %s WHERE email = 'hanako@example.jp'", (email,))
    return url.replace("postgresql://", "postgresql+psycopg://")


def _first_customer(url: str) -> dict[str, Any]:
    return next(r for r in rows(url, "customer") if r["id"] == 1)


def _connector_audit(workspace: Workspace, request_id: str) -> Counter[tuple[str, str]]:
    """(action, datastore) of the request's audit entries about datastores."""
    with workspace.db.session() as session:
        entries = [
            decode_leaf(bytes(r.leaf), bytes(r.entry_hash)) for r in session.scalars(select(AuditEntry))
        ]
    return Counter(
        (e.body["action"], o.removeprefix("datastore:"))
        for e in entries
        if f"request:{request_id}" in e.body["objects"]
        for o in e.body["objects"]
        if o.startswith("datastore:")
    )


def _state(workspace: Workspace, request_id: str, subject_id: str) -> tuple[str, dict[str, Any], bool]:
    with workspace.db.session() as session:
        request = service.get(session, request_id)
        why = jobs.attention(session, request) or {}
        step = next(s for s in steps_of(session, request_id) if s.name == "connector_erase")
        subject = session.get(DataSubject, subject_id)
        assert subject is not None
        return request.status, {**why, "result": dict(step.result or {})}, subject.erased_at is not None


def test_appi_35_a_second_datastore_that_fails_rolls_back_the_first_and_changes_nothing(
    workspace: Workspace, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    plan = load_office(workspace)
    customer = person(plan, "customer")
    email = customer.values["email"]
    first = _sqlite(tmp_path / "a.db", email)
    second_path = tmp_path / "b.db"
    second = _sqlite(second_path, email)
    with sqlite3.connect(second_path) as conn:  # the second refuses while it changes its rows
        conn.execute("CREATE TRIGGER no_delete BEFORE DELETE ON visit BEGIN SELECT RAISE(ABORT, 'kept'); END")
    monkeypatch.setenv("A_URL", first)
    monkeypatch.setenv("B_URL", second)
    _map(workspace, "a_shop", "A_URL")
    _map(workspace, "b_shop", "B_URL")
    before = {url: {t: rows(url, t) for t in ("customer", "visit", "guest_room")} for url in (first, second)}

    request_id = verified(workspace, RequestKind.ERASE, email, grounds=["no_longer_needed"])
    assert approve_and_run(workspace, request_id) == "needs_attention"
    _, why, erased = _state(workspace, request_id, customer.subject_id)
    # the first had made its change too, and rolled it back: no datastore changed, the person is whole
    for url in (first, second):
        assert {t: rows(url, t) for t in ("customer", "visit", "guest_room")} == before[url]
    assert not erased and why["attention"] == "connector_failed" and "b_shop" in why["detail"]
    assert "done" not in why["result"] and email not in why["detail"]
    assert _connector_audit(workspace, request_id) == Counter()  # nothing changed, nothing recorded

    with sqlite3.connect(second_path) as conn:
        conn.execute("DROP TRIGGER no_delete")
    assert jobs.run(workspace, request_id, retry=True) == "completed"
    for url in (first, second):
        assert _first_customer(url)["email"].startswith(MASK) and len(rows(url, "visit")) == 1
    assert _connector_audit(workspace, request_id) == Counter(
        {("request.connector_erase", "a_shop"): 1, ("request.connector_erase", "b_shop"): 1}
    )
    assert _state(workspace, request_id, customer.subject_id)[2]


@pytest.mark.postgres
def test_appi_35_a_commit_that_fails_after_another_datastore_committed_is_recorded_as_it_is(
    workspace: Workspace, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, pg_url2: str
) -> None:
    """SQLite commits first; PostgreSQL then refuses at COMMIT (a deferred constraint trigger): the
    journal and the audit log say the first was erased and the second not, the request needs attention
    with that in words, the vault is untouched, and the rerun reaches only the second."""
    plan = load_office(workspace)
    customer = person(plan, "customer")
    email = customer.values["email"]
    first = _sqlite(tmp_path / "a.db", email)
    second = _postgres(pg_url2, email)
    with psycopg.connect(pg_url2, autocommit=True) as conn:
        conn.execute(
            "CREATE FUNCTION refuse() RETURNS trigger LANGUAGE plpgsql AS "
            "$$ BEGIN RAISE EXCEPTION 'visits are kept'; END $$"
        )
        conn.execute(
            "CREATE CONSTRAINT TRIGGER at_commit AFTER DELETE ON visit DEFERRABLE INITIALLY DEFERRED "
            "FOR EACH ROW EXECUTE FUNCTION refuse()"
        )
    monkeypatch.setenv("A_URL", first)
    monkeypatch.setenv("B_URL", second)
    _map(workspace, "a_shop", "A_URL")
    _map(workspace, "b_shop", "B_URL")
    pg_before = {t: sorted(map(str, rows(second, t))) for t in ("customer", "visit", "guest_room")}

    request_id = verified(workspace, RequestKind.ERASE, email, grounds=["no_longer_needed"])
    assert approve_and_run(workspace, request_id) == "needs_attention"
    _, why, erased = _state(workspace, request_id, customer.subject_id)
    assert _first_customer(first)["email"].startswith(MASK) and len(rows(first, "visit")) == 1
    assert {t: sorted(map(str, rows(second, t))) for t in ("customer", "visit", "guest_room")} == pg_before
    assert not erased  # the vault's erasure comes after every datastore's
    assert why["attention"] == "connector_partial" and "a_shop" in why["detail"] and "b_shop" in why["detail"]
    assert why["result"]["done"]["a_shop"]["deleted_rows"] == {"visit": 2}
    assert email not in why["detail"] and "visits are kept" not in why["detail"]
    # the audit log has the first datastore's erasure (it happened), not the second's
    assert _connector_audit(workspace, request_id) == Counter({("request.connector_erase", "a_shop"): 1})
    from mamoru.requests import labels

    words = labels.text(labels.ATTENTION, why["attention"], "ja")
    assert words != "connector_partial" and "再開" in words

    with psycopg.connect(pg_url2, autocommit=True) as conn:
        conn.execute("DROP TRIGGER at_commit ON visit")
    assert jobs.run(workspace, request_id, retry=True) == "completed"
    assert _first_customer(second)["email"].startswith(MASK) and len(rows(second, "visit")) == 1
    assert _connector_audit(workspace, request_id) == Counter(
        {("request.connector_erase", "a_shop"): 1, ("request.connector_erase", "b_shop"): 1}
    )
    status, why, erased = _state(workspace, request_id, customer.subject_id)
    assert status == "completed" and erased
    # the journal keeps what the first run did in a_shop (the rerun did not reach it again)
    by_name = {r["datastore"]: r for r in why["result"]["datastores"]}
    assert by_name["a_shop"]["deleted_rows"] == {"visit": 2} and by_name["b_shop"]["deleted_rows"] == {
        "visit": 2
    }


# --- two tables of one name in two schemas -------------------------------------------------------------

SCHEMAS = """
CREATE SCHEMA shop;
CREATE SCHEMA crm;
CREATE TABLE shop.customer (id INTEGER PRIMARY KEY, email TEXT, name TEXT);
CREATE TABLE crm.customer (id INTEGER PRIMARY KEY, shop_customer_id INTEGER REFERENCES shop.customer (id),
                           note TEXT);
CREATE TABLE shop.orders (id INTEGER PRIMARY KEY, customer_id INTEGER REFERENCES shop.customer (id),
                          total INTEGER);
INSERT INTO shop.customer VALUES (1, 'hanako@example.jp', '佐藤花子'), (2, 'taro@example.jp', '鈴木太郎');
INSERT INTO crm.customer VALUES (1, 2, 'prefers mail'), (2, 1, 'allergic to nuts');
INSERT INTO shop.orders VALUES (10, 1, 500), (11, 2, 700), (12, 1, 900)
"""

TWO_SCHEMAS = """schema: mamoru.dataset/1
name: two
url_env: TWO_URL
tables:
  - name: customer
    schema: shop
    primary_key: id
    identities: {email: email}
    fields:
      - {name: id}
      - {name: email, categories: [contact], erase: mask}
      - {name: name, categories: [identity], erase: mask}
  - name: customer
    schema: crm
    primary_key: id
    references:
      - {column: shop_customer_id, to: shop.customer.id}
    fields:
      - {name: id}
      - {name: shop_customer_id}
      - {name: note, categories: [health], erase: set_null}
  - name: orders
    schema: shop
    primary_key: id
    erase: delete
    references:
      - {column: customer_id, to: customer.id}
    fields:
      - {name: id}
      - {name: customer_id}
      - {name: total, categories: [payment]}
"""


@pytest.fixture
def two_schemas(pg_url2: str) -> str:
    with psycopg.connect(pg_url2, autocommit=True) as conn:
        for statement in SCHEMAS.split(";"):
            if statement.strip():
                conn.execute(statement)
    return pg_url2.replace("postgresql://", "postgresql+psycopg://")


def _pg_rows(url: str, table: str) -> dict[int, dict[str, Any]]:
    return {r["id"]: r for r in rows(url, table)}


@pytest.mark.postgres
def test_appi_33_two_tables_of_one_name_in_two_schemas_are_disclosed_apart(
    two_schemas: str, reference
) -> None:  # type: ignore[no-untyped-def]
    # a bare name that two schemas have is refused with its line; schema.table.column names one
    ambiguous = TWO_SCHEMAS.replace("to: customer.id}", "to: customer.id, follow: child}")
    with pytest.raises(PolicyError) as caught:
        parse_map(ambiguous, "two.yaml", reference.policy)
    line = next(n for n, t in enumerate(ambiguous.splitlines(), 1) if "to: customer.id" in t)
    assert f"two.yaml:{line}" in str(caught.value) and "more than one schema" in str(caught.value)
    assert "スキーマ.表.列" in caught.value.render("ja")
    mapped = parse_map(
        TWO_SCHEMAS.replace("to: customer.id}", "to: shop.customer.id}"), "two.yaml", reference.policy
    )
    connector = SqlConnector(mapped, two_schemas)
    try:
        assert connector.undeclared_foreign_keys() == [] and connector.key_mismatches() == []
        parts: dict[str, list[bytes]] = {}
        counts = connector.access(
            {"email": "hanako@example.jp"},
            {"contact", "identity", "health", "payment"},
            lambda t, line: parts.setdefault(t, []).append(line),
        )
        assert counts == {"shop.customer": 1, "crm.customer": 1, "shop.orders": 2}
        everything = b"".join(b"".join(v) for v in parts.values()).decode()
        assert (
            "allergic to nuts" in everything and "prefers mail" not in everything and "鈴木" not in everything
        )
    finally:
        connector.dispose()


@pytest.mark.postgres
def test_appi_35_two_tables_of_one_name_in_two_schemas_are_erased_apart(two_schemas: str, reference) -> None:  # type: ignore[no-untyped-def]
    mapped = parse_map(
        TWO_SCHEMAS.replace("to: customer.id}", "to: shop.customer.id}"), "two.yaml", reference.policy
    )
    connector = SqlConnector(mapped, two_schemas)
    try:
        result = connector.erase({"email": "hanako@example.jp"})
    finally:
        connector.dispose()
    assert result["deleted_rows"] == {"shop.orders": 2}
    assert result["masked_rows"] == {"shop.customer": 1, "crm.customer": 1}
    shop, crm = _pg_rows(two_schemas, "shop.customer"), _pg_rows(two_schemas, "crm.customer")
    assert shop[1]["email"].startswith(MASK) and shop[2]["email"] == "taro@example.jp"
    assert crm[2]["note"] is None and crm[2]["shop_customer_id"] == 1 and crm[1]["note"] == "prefers mail"
    assert sorted(_pg_rows(two_schemas, "shop.orders")) == [11]


@pytest.mark.postgres
def test_a_draft_maps_two_tables_of_one_name_in_two_schemas(two_schemas: str, reference) -> None:  # type: ignore[no-untyped-def]
    from mamoru.connectors import interop
    from mamoru.scan import draft

    data, notes = draft.draft(two_schemas, name="two", url_env="TWO_URL", policy=reference.policy)
    drafted = parse_map(interop.to_yaml(data, "draft", notes), "two.yaml", reference.policy)
    ids = {t.id for t in drafted.tables}
    assert {"shop.customer", "crm.customer", "shop.orders"} <= ids
    crm = drafted.table("crm.customer")
    assert [(r.columns, r.to) for r in crm.references] == [(("shop_customer_id",), "shop.customer.id")]
    assert [(r.columns, r.to) for r in drafted.table("shop.orders").references] == [
        (("customer_id",), "shop.customer.id")
    ]
    assert drafted.table("shop.customer").identities == {"email": "email"}


# --- clean errors in the reader's language -------------------------------------------------------------


def _cli(*args: str, env: dict[str, str] | None = None) -> Any:
    from typer.testing import CliRunner

    from mamoru.cli.main import app

    return CliRunner().invoke(app, ["connectors", *args], env=env)


def _japanese(text: str) -> bool:
    return any("\u3040" <= ch <= "\u30ff" or "\u4e00" <= ch <= "\u9fff" for ch in text)


def test_connectors_errors_say_what_where_and_why_in_japanese_or_english(
    workspace: Workspace, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DOWN_URL", "postgresql://mamoru:s3cret-pw@127.0.0.1:1/customers")
    monkeypatch.delenv("COMPOSITE_URL", raising=False)
    bad_map = tmp_path / "bad.yaml"
    broken = COMPOSITE.replace("{name: guest_no}", "{name: guest_no, erase: mask}")
    bad_map.write_text(broken.replace("categories: [health]", "categories: [healthy]"), encoding="utf-8")
    key_line = next(n for n, t in enumerate(broken.splitlines(), 1) if "guest_no, erase" in t)
    fides = tmp_path / "mongo.yml"
    fides.write_text((CASES / "fides_mongo.yml").read_text(encoding="utf-8"), encoding="utf-8")
    cases = [
        (["check", str(bad_map)], f"bad.yaml:{key_line}", "キー", "never masks or clears a key"),
        (
            ["check", str(bad_map)],
            "bad.yaml:",
            "「healthy」はポリシーのカテゴリにありません",
            "is not a category",
        ),
        (
            ["draft", "--url-env", "DOWN_URL", "--name", "x"],
            "127.0.0.1:1",
            "接続できません: ホスト 127.0.0.1:1、データベース「customers」",
            "cannot connect: host 127.0.0.1:1, database 'customers'",
        ),
        (
            ["import-fides", str(fides), "--url-env", "M_URL"],
            "mongo.yml",
            "文書データベース",
            "a document database",
        ),
        (
            ["draft", "--url-env", "postgresql://x", "--name", "x"],
            "--url-env",
            "環境変数の名前",
            "NAME of an",
        ),
    ]
    for args, where, ja, en in cases:
        said_ja, said_en = _cli(*args, "--lang", "ja"), _cli(*args, "--lang", "en")
        for said in (said_ja, said_en):
            assert said.exit_code == 2, (args, said.output)
            assert where in said.output and "s3cret-pw" not in said.output and "Traceback" not in said.output
        assert ja in said_ja.output and en not in said_ja.output, said_ja.output
        assert en in said_en.output and not _japanese(said_en.output), said_en.output
    # MAMORU_LANG chooses too; a map in <home>/datasets whose URL is unset is named with its variable
    (workspace.settings.home / "datasets" / "composite.yaml").write_text(COMPOSITE, encoding="utf-8")
    listed = _cli("list", env={"MAMORU_LANG": "ja"})
    assert (
        listed.exit_code == 2
        and "環境変数 COMPOSITE_URL にデータストアのURLを設定してください" in listed.output
    )
    both = _cli("list")  # without a choice: both languages
    assert "set COMPOSITE_URL to the datastore's URL" in both.output and _japanese(both.output)
    assert _cli("list", "--lang", "fr").exit_code == 2


def test_a_fides_dataset_in_a_namespace_schema_imports_its_tables_in_that_schema(reference) -> None:  # type: ignore[no-untyped-def]
    from mamoru.connectors import interop

    source = (CASES / "fides_keys.yml").read_text(encoding="utf-8")
    placed = source.replace(
        "  - fides_key: keys_shop\n",
        "  - fides_key: keys_shop\n    fides_meta: {namespace: {database_name: shop, schema: sales}}\n",
    )
    overrides = {"user": "identity", "user.content": "usage_log"}
    (made,) = interop.from_fides(placed, url_env="K", policy=reference.policy, overrides=overrides)
    m = parse_map(interop.to_yaml(made.map, "imported"), "k.yaml", reference.policy)
    assert {t.db_schema for t in m.tables} == {"sales"} and m.table("sales.order_item").key == (
        "order_id",
        "item_no",
    )
    # the keys Fides does not name are read from that schema of the database
    live = {"sales.visit": ["email", "last_visit"], "visit": ["wrong"]}
    (keyed,) = interop.from_fides(
        placed, url_env="K", policy=reference.policy, overrides=overrides, live_keys=live
    )
    visit = next(t for t in keyed.map["tables"] if t["name"] == "visit")
    assert visit["primary_key"] == ["email", "last_visit"]


def test_appi_33_a_disclosure_whose_datastore_cannot_be_reached_needs_attention_without_a_traceback(
    workspace: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    import gc
    import sys

    plan = load_office(workspace)
    email = person(plan, "customer").values["email"]
    monkeypatch.delenv("COMPOSITE_URL", raising=False)
    (workspace.settings.home / "datasets" / "composite.yaml").write_text(COMPOSITE, encoding="utf-8")
    unraisable: list[Any] = []
    monkeypatch.setattr(sys, "unraisablehook", unraisable.append)
    request_id = verified(workspace, RequestKind.DISCLOSURE, email)
    assert approve_and_run(workspace, request_id, fee_received=True) == "needs_attention"
    gc.collect()
    assert unraisable == []  # the half-written package was closed, not left to the garbage collector
    with workspace.db.session() as session:
        why = jobs.attention(session, service.get(session, request_id))
    assert why is not None and why["step"] == "package" and "COMPOSITE_URL" in why["detail"]


@pytest.mark.parametrize(
    "url",
    [
        "postgresql://mamoru:s3cret-pw@127.0.0.1:notaport/customers",  # a port that is not a number
        "notaurl-s3cret-pw",  # not a URL at all
        "oracle://mamoru:s3cret-pw@127.0.0.1/customers",  # a database kind mamoru has no driver for
    ],
)
def test_a_malformed_datastore_url_is_said_in_words_everywhere_and_a_request_needs_attention(
    workspace: Workspace, monkeypatch: pytest.MonkeyPatch, url: str
) -> None:
    monkeypatch.setenv("COMPOSITE_URL", url)
    _map(workspace, "composite", "COMPOSITE_URL")
    for args in (["check", "--live"], ["list"], ["draft", "--url-env", "COMPOSITE_URL", "--name", "x"]):
        for lang, words in (
            ("ja", "データベースのURLとして使えません"),
            ("en", "not a database URL mamoru can use"),
        ):
            said = _cli(*args, "--lang", lang)
            assert said.exit_code == 2, (args, said.output)
            assert words in said.output and "s3cret-pw" not in said.output, (args, said.output)
            assert "Traceback" not in said.output
    # a disclosure that reaches it stops in "needs attention" with the reason, never half-done
    plan = load_office(workspace)
    email = person(plan, "customer").values["email"]
    disclosed = verified(workspace, RequestKind.DISCLOSURE, email)
    assert approve_and_run(workspace, disclosed, fee_received=True) == "needs_attention"
    with workspace.db.session() as session:
        reason = jobs.attention(session, service.get(session, disclosed))
    assert reason is not None and "s3cret-pw" not in str(reason)


def test_the_live_check_names_host_and_database_when_it_cannot_connect(
    workspace: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COMPOSITE_URL", "postgresql://mamoru:s3cret-pw@127.0.0.1:1/customers")
    _map(workspace, "composite", "COMPOSITE_URL")
    said = _cli("check", "--live", "--lang", "en")
    assert said.exit_code in (1, 2), said.output
    assert "host 127.0.0.1:1, database 'customers'" in said.output and "s3cret-pw" not in said.output


def test_the_live_check_finds_a_mapped_table_or_column_the_database_lacks(
    workspace: Workspace, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = _sqlite(tmp_path / "shop.db", "hanako@example.jp")
    monkeypatch.setenv("COMPOSITE_URL", url)
    folder = workspace.settings.home / "datasets"
    folder.mkdir(exist_ok=True)
    for broken, expected in (
        (COMPOSITE.replace("name: guest_room", "name: guest_rooms"), "guest_rooms"),
        (COMPOSITE.replace("{name: room_pref,", "{name: room_prefs,"), "room_prefs"),
    ):
        (folder / "composite.yaml").write_text(broken, encoding="utf-8")
        said = _cli("check", "--live", "--lang", "en")
        assert said.exit_code != 0 and expected in said.output, said.output
