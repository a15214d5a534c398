"""Connectors on datasets as they come: composite keys and references, keys never erased, an erasure
that fails leaves the person whole, Fides datasets imported or refused by name, drafts that find the
references a database does not declare, clean errors."""

from __future__ import annotations

import logging
import os
import sqlite3
from pathlib import Path
from typing import Any

import pytest
import yaml
from sqlalchemy import create_engine, text
from typer.testing import CliRunner

from mamoru.cli.main import app
from mamoru.connectors import interop
from mamoru.connectors.maps import load_map, parse_map
from mamoru.connectors.sql import MASK, SqlConnector
from mamoru.law.requests import RequestKind
from mamoru.policy.errors import PolicyError
from mamoru.workspace import Workspace
from tests.requests_helpers import approve_and_run, load_office, person, verified

CASES = Path(__file__).parent / "connector_cases"
SUBJECT, ALT, NEWS, OTHER = (
    "hanako@example.jp",
    "hanako.alt@example.jp",
    "hanako.news@example.jp",
    "taro@example.jp",
)
ALL = {"identity", "contact", "health", "payment", "usage_log"}

SCHEMA = """
CREATE TABLE customer (id INTEGER PRIMARY KEY, email TEXT, alt_email TEXT, name TEXT);
CREATE TABLE booking_guest (booking_id INTEGER, guest_no INTEGER, customer_id INTEGER, meal TEXT,
                            PRIMARY KEY (booking_id, guest_no));
CREATE TABLE guest_room (id INTEGER PRIMARY KEY, booking_id INTEGER, guest_no INTEGER, room_pref TEXT);
CREATE TABLE visit (email TEXT, last_visit TEXT, PRIMARY KEY (email, last_visit));
CREATE TABLE newsletter (id INTEGER PRIMARY KEY, email TEXT, customer_id INTEGER, nickname TEXT);
INSERT INTO customer VALUES (1, 'hanako@example.jp', 'hanako.alt@example.jp', '佐藤花子'),
                            (2, 'taro@example.jp', NULL, '鈴木太郎');
INSERT INTO booking_guest VALUES (100, 1, 1, 'vegetarian'), (100, 2, 2, 'halal'), (200, 1, 2, 'none');
INSERT INTO guest_room VALUES (1, 100, 1, 'quiet'), (2, 100, 2, 'near the lift'), (3, 200, 1, 'sea view');
INSERT INTO visit VALUES ('hanako@example.jp', '2026-01-01'), ('taro@example.jp', '2026-01-01'),
                         ('hanako@example.jp', '2026-02-01');
INSERT INTO newsletter VALUES (1, 'hanako.news@example.jp', 1, 'hana'), (2, 'taro@example.jp', 2, 'taro');
"""


def make_db(path: Path) -> str:
    with sqlite3.connect(path) as conn:
        conn.executescript(SCHEMA)
    return f"sqlite:///{path}"


def rows(url: str, table: str) -> list[dict[str, Any]]:
    engine = create_engine(url)
    with engine.connect() as conn:
        found = [dict(r._mapping) for r in conn.execute(text(f"SELECT * FROM {table}"))]
    engine.dispose()
    return found


@pytest.fixture
def composite(tmp_path: Path, reference) -> tuple[SqlConnector, str]:  # type: ignore[no-untyped-def]
    url = make_db(tmp_path / "composite.db")
    connector = SqlConnector(load_map(CASES / "composite.yaml", reference.policy), url)
    yield connector, url
    connector.dispose()


def disclosed(connector: SqlConnector, email: str) -> dict[str, list[bytes]]:
    parts: dict[str, list[bytes]] = {}
    # a write carries one or more JSON lines
    connector.access(
        {"email": email},
        ALL,
        lambda t, lines: parts.setdefault(t, []).extend(lines.splitlines(keepends=True)),
    )
    return parts


# --- 1. keys are sacred ------------------------------------------------------------------------------


def test_appi_33_composite_keys_and_references_disclose_exactly_the_subjects_rows(
    composite: tuple[SqlConnector, str],
) -> None:
    connector, _ = composite
    parts = disclosed(connector, SUBJECT)
    text_of = {t: b"".join(lines) for t, lines in parts.items()}
    assert len(parts["booking_guest"]) == 1 and b"vegetarian" in text_of["booking_guest"]
    assert len(parts["guest_room"]) == 1 and b"quiet" in text_of["guest_room"]
    assert len(parts["visit"]) == 2 and len(parts["customer"]) == 1 and len(parts["newsletter"]) == 1
    everything = b"".join(text_of.values())
    for others in (b"halal", b"near the lift", b"sea view", "鈴木".encode()):
        assert others not in everything  # the other guest of the same booking is not disclosed


def test_appi_33_several_identities_and_a_reference_without_direction_are_followed_both_ways(
    composite: tuple[SqlConnector, str],
) -> None:
    connector, _ = composite
    assert len(disclosed(connector, ALT)["customer"]) == 1  # the second e-mail column
    from_newsletter = disclosed(connector, NEWS)  # newsletter -> customer (parent) -> bookings (child)
    assert {t: len(v) for t, v in from_newsletter.items()} == {
        "customer": 1,
        "booking_guest": 1,
        "guest_room": 1,
        "newsletter": 1,
    }


def test_appi_35_erasure_changes_only_the_subjects_rows_keeps_keys_and_counts_rows_changed(
    composite: tuple[SqlConnector, str],
) -> None:
    connector, url = composite
    result = connector.erase({"email": SUBJECT})
    assert result["deleted_rows"] == {"visit": 2}
    assert result["masked_rows"] == {"customer": 1, "booking_guest": 1, "guest_room": 1, "newsletter": 1}
    customers = {r["id"]: r for r in rows(url, "customer")}
    assert customers[1]["email"].startswith(MASK) and customers[1]["alt_email"] is None
    assert SUBJECT not in customers[1]["email"] and customers[1]["email"].removeprefix(MASK) != "1"
    assert customers[2] == {"id": 2, "email": OTHER, "alt_email": None, "name": "鈴木太郎"}
    guests = {(r["booking_id"], r["guest_no"]): r for r in rows(url, "booking_guest")}
    assert guests[(100, 1)]["meal"].startswith(MASK) and guests[(100, 1)]["customer_id"] == 1
    assert guests[(100, 2)]["meal"] == "halal" and guests[(200, 1)]["meal"] == "none"
    rooms = {r["id"]: r["room_pref"] for r in rows(url, "guest_room")}
    assert rooms[1].startswith(MASK) and rooms[2] == "near the lift" and rooms[3] == "sea view"
    assert rows(url, "visit") == [{"email": OTHER, "last_visit": "2026-01-01"}]
    again = connector.erase({"email": SUBJECT})  # a rerun finds only what is left: nothing
    assert again["deleted_rows"] == {} and set(again["masked_rows"].values()) <= {0}


def test_a_key_that_is_not_the_databases_primary_key_is_named_by_the_live_check(
    tmp_path: Path, reference
) -> None:  # type: ignore[no-untyped-def]
    url = make_db(tmp_path / "k.db")
    source = (CASES / "composite.yaml").read_text(encoding="utf-8")
    guessed = source.replace("primary_key: [booking_id, guest_no]", "primary_key: [booking_id, customer_id]")
    connector = SqlConnector(parse_map(guessed, "k.yaml", reference.policy), url)
    try:
        assert connector.key_mismatches() == [
            "booking_guest: the map's key (booking_id, customer_id) is not the database's primary key "
            "(booking_id, guest_no)"
        ]
    finally:
        connector.dispose()


def test_appi_35_an_erase_rule_on_a_key_is_a_map_error_with_file_and_line(reference) -> None:  # type: ignore[no-untyped-def]
    source = (CASES / "composite.yaml").read_text(encoding="utf-8")
    for broken in (
        source.replace("      - {name: guest_no}\n", "      - {name: guest_no, erase: set_null}\n", 1),
        source.replace("      - {name: customer_id}\n", "      - {name: customer_id, erase: mask}\n", 1),
    ):
        with pytest.raises(PolicyError) as caught:
            parse_map(broken, "composite.yaml", reference.policy)
        message = str(caught.value)
        line = next(
            n
            for n, t in enumerate(broken.splitlines(), 1)
            if "guest_no, erase" in t or "customer_id, erase" in t
        )
        assert f"composite.yaml:{line}" in message and "never masks or clears a key" in message


# --- 2. a failed erasure is a clear state ------------------------------------------------------------


def test_appi_35_a_failed_datastore_erasure_leaves_the_person_whole_and_the_request_needs_attention(
    workspace: Workspace, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    plan = load_office(workspace)
    customer = person(plan, "customer")
    email = customer.values["email"]
    path = tmp_path / "shop.db"
    url = make_db(path)
    with sqlite3.connect(path) as conn:
        conn.execute("UPDATE customer SET email = ? WHERE id = 1", (email,))
        # the datastore refuses the change (as a NOT NULL column or a trigger would)
        conn.execute(
            "CREATE TRIGGER no_change BEFORE UPDATE ON customer BEGIN SELECT RAISE(ABORT, 'locked'); END"
        )
    monkeypatch.setenv("COMPOSITE_URL", url)
    (workspace.settings.home / "datasets").mkdir(exist_ok=True)
    (workspace.settings.home / "datasets" / "composite.yaml").write_text(
        (CASES / "composite.yaml").read_text(encoding="utf-8"), encoding="utf-8"
    )
    request_id = verified(workspace, RequestKind.ERASE, email, grounds=["no_longer_needed"])
    with caplog.at_level(logging.DEBUG):
        assert approve_and_run(workspace, request_id) == "needs_attention"
    # the person is whole: in the datastore (rolled back) and in the vault (its erasure comes after)
    assert rows(url, "customer")[0]["email"] == email and len(rows(url, "visit")) == 3
    from mamoru.ledger.tables import DataSubject
    from mamoru.requests import jobs, service

    with workspace.db.session() as session:
        assert session.get(DataSubject, customer.subject_id).erased_at is None
        assert workspace.vault.decrypt(session, customer.subject_id, ["email"])["email"] == email
        why = jobs.attention(session, service.get(session, request_id))
    assert why is not None and why["attention"] == "connector_failed" and why["step"] == "connector_erase"
    assert email not in why["detail"] and email not in caplog.text
    # the CLI says it in words, in English and Japanese, and exits 1
    result = CliRunner().invoke(app, ["requests", "run", request_id])
    assert result.exit_code == 1, result.output
    assert "rolled back" in result.output  # the words of the labels, in English
    assert "本人のデータはそのまま残っています" in result.output and email not in result.output
    # fixed, the office runs it again: the datastore's erasure, then the vault's
    with sqlite3.connect(path) as conn:
        conn.execute("DROP TRIGGER no_change")
    assert CliRunner().invoke(app, ["requests", "run", request_id]).exit_code == 0
    with workspace.db.session() as session:
        assert session.get(DataSubject, customer.subject_id).erased_at is not None
    assert rows(url, "customer")[0]["email"].startswith(MASK)


# --- 3. import what Fides users have -----------------------------------------------------------------


def test_a_fides_dataset_with_keys_identities_and_overrides_imports_into_a_map_that_checks(reference) -> None:  # type: ignore[no-untyped-def]
    source = (CASES / "fides_keys.yml").read_text(encoding="utf-8")
    with pytest.raises(interop.InteropFailed, match=r"--category user=identity.*: user, user\.content"):
        interop.from_fides(source, url_env="KEYS_URL", policy=reference.policy)
    (made,) = interop.from_fides(
        source,
        url_env="KEYS_URL",
        policy=reference.policy,
        overrides={"user": "identity", "user.content": "usage_log"},
    )
    m = parse_map(interop.to_yaml(made.map, "imported", made.notes), "keys_shop.yaml", reference.policy)
    customer = m.table("customer")
    assert customer.identities == {"email": ["email", "alt_email"], "loyalty_id": "loyalty_id"}
    fields = {f.name: f for f in customer.fields}
    assert fields["id"].erase.value == "keep" and fields["name"].erase.value == "mask"
    assert fields["credit_score"].read_only and fields["credit_score"].erase.value == "keep"
    assert fields["preferred"].categories == ["identity"]
    assert m.table("orders").erase.value == "delete"  # the collection's masking override
    assert m.table("order_item").key == ("order_id", "item_no")
    assert m.table("visit").key == ("email", "last_visit") and m.table("visit").erase.value == "delete"
    assert {f.name: f.erase.value for f in m.table("visit").fields} == {"email": "keep", "last_visit": "keep"}
    assert m.table("profile").references[0].follow == "both"
    assert "audit_copy" not in [t.name for t in m.tables]
    assert any("audit_copy" in n and "skip_processing" in n for n in made.notes)
    assert any("loyalty_id" in n for n in made.notes)


@pytest.mark.parametrize(
    ("change", "feature"),
    [
        (None, "a document database such as MongoDB"),
        ("field: customer.id", "a reference to another dataset"),
    ],
)
def test_a_fides_dataset_a_map_cannot_say_is_refused_with_the_feature_named(
    change, feature, reference
) -> None:  # type: ignore[no-untyped-def]
    if change is None:
        source = (CASES / "fides_mongo.yml").read_text(encoding="utf-8")
    else:
        source = (
            (CASES / "fides_keys.yml")
            .read_text(encoding="utf-8")
            .replace(
                "{dataset: keys_shop, field: customer.id, direction: from}",
                "{dataset: other_shop, field: customer.id, direction: from}",
            )
        )
    with pytest.raises(interop.InteropFailed, match=feature):
        interop.from_fides(source, url_env="X", policy=reference.policy, overrides={"user": "identity"})


def _cli(*args: str) -> Any:
    return CliRunner().invoke(app, list(args))


def test_import_fides_cli_writes_maps_that_check_and_answers_bad_input_with_exit_2(
    workspace: Workspace, tmp_path: Path
) -> None:
    out_dir = workspace.settings.home / "datasets"
    assert out_dir.is_dir()  # made by `mamoru init`
    source = CASES / "fides_keys.yml"
    ok = _cli(
        "connectors", "import-fides", str(source), "--url-env", "KEYS_URL",
        "--category", "user=identity", "--category", "user.content=usage_log", "--out-dir", str(out_dir),
    )  # fmt: skip
    assert ok.exit_code == 0, ok.output
    assert _cli("connectors", "check", str(out_dir / "keys_shop.yaml")).exit_code == 0
    bad_field = tmp_path / "bad_field.yml"
    bad_field.write_text(
        source.read_text(encoding="utf-8").replace("- name: nickname", "- nick: x"), encoding="utf-8"
    )
    empty = tmp_path / "empty.yml"
    empty.write_text(
        "dataset:\n  - fides_key: e\n    collections:\n      - name: t\n        fields: []\n",
        encoding="utf-8",
    )
    for args, words in (
        ([str(source), "--url-env", "KEYS_URL", "--out-dir", str(tmp_path / "nowhere")], "no such folder"),
        ([str(bad_field), "--url-env", "KEYS_URL", "--category", "user=identity"], "a field needs a name"),
        ([str(empty), "--url-env", "KEYS_URL"], "a collection without fields"),
        ([str(source), "--url-env", "KEYS_URL", "--category", "user"], "FIDES_CATEGORY=POLICY_CATEGORY"),
        (
            [str(source), "--url-env", "KEYS_URL", "--category", "user=nothing"],
            "not a category of the policy",
        ),
        (
            [str(source), "--url-env", "postgresql://x", "--category", "user=identity"],
            "NAME of an environment",
        ),
        ([str(tmp_path / "missing.yml"), "--url-env", "KEYS_URL"], "no such file"),
    ):
        result = _cli("connectors", "import-fides", *args)
        assert result.exit_code == 2, (args, result.output)
        assert words in result.output and "Traceback" not in result.output
        assert any("\u3040" <= ch <= "\u30ff" for ch in result.output), result.output  # and in Japanese


# --- 4. drafts that find what is there ---------------------------------------------------------------


def _draft_db(path: Path) -> str:
    """The sample without constraints: references only by name and by value."""
    with sqlite3.connect(path) as conn:
        conn.executescript(
            """
            CREATE TABLE customer (id INTEGER PRIMARY KEY, email TEXT, name TEXT);
            CREATE TABLE orders (id INTEGER PRIMARY KEY, customer_id INTEGER, total INTEGER);
            CREATE TABLE card (id TEXT PRIMARY KEY, ccn INTEGER, code INTEGER, holder_ref INTEGER);
            CREATE TABLE visit (email TEXT, last_visit TEXT, PRIMARY KEY (email, last_visit));
            INSERT INTO customer VALUES (1, 'a@example.jp', '佐藤花子'), (2, 'b@example.jp', '鈴木太郎'),
                                        (3, 'c@example.jp', '田中一郎');
            INSERT INTO orders VALUES (10, 1, 500), (11, 2, 700), (12, 1, 900);
            INSERT INTO card VALUES ('c1', 4111111111111111, 123, 1), ('c2', 5500000000000004, 456, 3);
            INSERT INTO visit VALUES ('a@example.jp', '2026-01-01');
            """
        )
    return f"sqlite:///{path}"


def test_a_draft_proposes_references_by_name_and_by_value_and_classifies_key_columns(
    tmp_path: Path, reference
) -> None:  # type: ignore[no-untyped-def]
    from mamoru.scan import draft

    url = _draft_db(tmp_path / "draft.db")
    data, notes = draft.draft(url, name="d", url_env="D_URL", policy=reference.policy)
    m = parse_map(interop.to_yaml(data, "draft", notes), "d.yaml", reference.policy)
    assert [(r.columns, r.to, r.follow) for r in m.table("orders").references] == [
        (("customer_id",), "customer.id", "child")
    ]
    assert [(r.columns, r.to) for r in m.table("card").references] == [(("holder_ref",), "customer.id")]
    assert any("holder_ref" in n and "shared values" in n for n in notes)
    assert m.table("visit").key == ("email", "last_visit")
    visit = {f.name: f.categories for f in m.table("visit").fields}
    assert "contact" in visit["email"]  # a key column is classified too
    card = {f.name: f.categories for f in m.table("card").fields}
    assert card["ccn"] == ["payment"] and card["code"] == ["payment"]
    assert {f.name: f.categories for f in m.table("customer").fields}["id"] == ["identity"]


def test_a_draft_reads_a_mariadb_database_from_a_mysql_url(tmp_path: Path, reference) -> None:  # type: ignore[no-untyped-def]
    import pymysql

    from mamoru.scan import draft

    try:
        admin = pymysql.connect(host="127.0.0.1", port=3306, user="root", connect_timeout=3)
    except pymysql.err.OperationalError as exc:
        if os.environ.get("CI"):
            raise
        pytest.skip(f"MariaDB not reachable: {exc}")
    name = f"mamoru_draft_{os.getpid()}"
    with admin.cursor() as cur:
        cur.execute(f"CREATE DATABASE {name}")
        cur.execute(f"CREATE TABLE {name}.customer (id INT PRIMARY KEY, email VARCHAR(100))")
        cur.execute(f"CREATE TABLE {name}.orders (id INT PRIMARY KEY, customer_id INT)")
        cur.execute(f"INSERT INTO {name}.customer VALUES (1, 'a@example.jp'), (2, 'b@example.jp')")
        cur.execute(f"INSERT INTO {name}.orders VALUES (1, 1), (2, 2)")
    admin.commit()
    try:
        data, _ = draft.draft(
            f"mysql://root@127.0.0.1:3306/{name}", name="m", url_env="M", policy=reference.policy
        )
        assert [t["name"] for t in data["tables"]] == ["customer", "orders"]
        assert data["tables"][1]["references"] == [{"column": "customer_id", "to": "customer.id"}]
    finally:
        with admin.cursor() as cur:
            cur.execute(f"DROP DATABASE {name}")
        admin.close()


# --- 5. clean errors ---------------------------------------------------------------------------------


def test_connectors_commands_answer_bad_input_with_what_where_why_and_exit_2(
    workspace: Workspace, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DOWN_URL", "postgresql://mamoru:s3cret-pw@127.0.0.1:1/customers")
    monkeypatch.delenv("UNSET_URL", raising=False)
    bad_map = tmp_path / "bad.yaml"
    bad_map.write_text(
        (CASES / "composite.yaml")
        .read_text(encoding="utf-8")
        .replace("{name: guest_no}", "{name: guest_no, erase: mask}"),
        encoding="utf-8",
    )
    for args, words in (
        (["draft", "--url-env", "DOWN_URL", "--name", "x"], "host 127.0.0.1:1, database 'customers'"),
        (["draft", "--url-env", "UNSET_URL", "--name", "x"], "not set"),
        (["draft", "--url-env", "DOWN_URL", "--name", "bad name"], "--name bad name"),
        (["check", str(bad_map)], "bad.yaml:"),
        (["check", str(tmp_path / "none.yaml")], "no such file"),
        (["check"], "--live"),
    ):
        result = _cli("connectors", *args)
        assert result.exit_code == 2, (args, result.output)
        assert words in result.output, (args, result.output)
        assert "s3cret-pw" not in result.output and "Traceback" not in result.output
        assert any("\u3040" <= ch <= "\u30ff" or "\u4e00" <= ch <= "\u9fff" for ch in result.output)


def test_the_demo_never_reaches_a_mapped_datastore_unless_asked(workspace: Workspace) -> None:
    from mamoru.connectors.registry import connectors, without_datastores

    (workspace.settings.home / "datasets" / "composite.yaml").write_text(
        (CASES / "composite.yaml").read_text(encoding="utf-8"), encoding="utf-8"
    )
    with without_datastores(workspace):
        assert connectors(workspace) == {}  # its URL is not even set: nothing is opened
    assert (
        yaml.safe_load((CASES / "composite.yaml").read_text(encoding="utf-8"))["url_env"] == "COMPOSITE_URL"
    )
