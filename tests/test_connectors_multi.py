"""Connectors across several datastores and schemas: an erasure that reaches two datastores leaves a
clear state when the second fails (before or after the first committed), two tables of one name in two
schemas are mapped apart, the demo never touches a mapped datastore, and every connectors command
answers bad input in the reader's language."""

from __future__ import annotations

import json
import sqlite3
import subprocess
from collections import Counter
from pathlib import Path
from typing import Any

import psycopg
import pytest
from sqlalchemy import select

from mamoru.audit.entry import decode_leaf
from mamoru.audit.tables import AuditEntry
from mamoru.connectors.sql import MASK
from mamoru.law.requests import RequestKind
from mamoru.ledger.tables import DataSubject
from mamoru.requests import jobs, service
from mamoru.requests.plan import steps_of
from mamoru.workspace import Workspace
from tests.requests_helpers import approve_and_run, load_office, person, verified
from tests.test_connectors_keys import CASES, SCHEMA, rows
from tests.test_serve_e2e import MAMORU, _env

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


@pytest.mark.slow
def test_the_demo_with_a_map_whose_url_is_unset_runs_touches_nothing_and_reruns(tmp_path: Path) -> None:
    env = _env(tmp_path / "ws")
    env.pop("COMPOSITE_URL", None)
    assert subprocess.run([*MAMORU, "init"], env=env, capture_output=True, timeout=120).returncode == 0
    folder = tmp_path / "ws" / "datasets"
    assert folder.is_dir()
    (folder / "composite.yaml").write_text(COMPOSITE, encoding="utf-8")
    demo = subprocess.run([*MAMORU, "demo"], env=env, capture_output=True, text=True, timeout=300)
    assert demo.returncode == 0, demo.stderr[-3000:]
    assert "demo organization loaded" in demo.stdout and "Traceback" not in demo.stderr
    # a rerun: the workspace has data, so it says so and changes nothing
    again = subprocess.run(
        [*MAMORU, "demo", "--if-empty"], env=env, capture_output=True, text=True, timeout=120
    )
    assert again.returncode == 0 and "already has data" in again.stdout, again.stderr
    # its requests never reached the mapped datastore: had one, it would have stopped in "needs
    # attention" for the unset URL
    check = subprocess.run(
        [*MAMORU, "requests", "list", "--all", "--json"], env=env, capture_output=True, text=True, timeout=120
    )
    assert check.returncode in (0, 1), check.stderr  # 1: a demo request is past its deadline
    statuses = Counter(r["status"] for r in json.loads(check.stdout))
    assert statuses["completed"] >= 1 and statuses["needs_attention"] == 0, statuses
    assert (folder / "composite.yaml").read_text(encoding="utf-8") == COMPOSITE
