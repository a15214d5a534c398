"""The audit log at its edges: only well-formed references get in, the query index can always be rebuilt
from the leaves, and a cut-back log, a removed or replaced checkpoint, a head that disagrees or a forged
verification result is caught."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import text

from mamoru.audit.chain import append
from mamoru.audit.entry import AuditEvent, BadAuditEvent, encode_body
from mamoru.audit.query import build_index, entries_for, reindex
from mamoru.errors import Invalid
from mamoru.incidents import service as incidents
from mamoru.store.db import Database
from mamoru.workspace import Workspace

SUBJECT = "0b8f2c1e-5d6a-4e3b-9c7d-1a2b3c4d5e6f"


def events(n: int, subject: str = SUBJECT) -> list[AuditEvent]:
    return [
        AuditEvent(actor=f"staff:u{i % 3}", action="decision.read", purpose="services", subjects=(subject,))
        for i in range(n)
    ]


def raw(db: Database, *statements: str) -> None:
    """What someone with SQL access to the database could do, past the append-only triggers."""
    with db.engine.begin() as conn:
        postgres = conn.dialect.name == "postgresql"
        if postgres:
            conn.execute(text("SET LOCAL session_replication_role = replica"))  # triggers off
        else:
            for table in ("audit_entries", "audit_checkpoints"):
                for op in ("update", "delete"):
                    conn.execute(text(f"DROP TRIGGER IF EXISTS {table}_no_{op}"))
        for sql in statements:
            conn.execute(text(sql))


# --- (5) only references get in ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fields", "where"),
    [
        ({"subjects": (None,)}, "subjects.0"),
        ({"subjects": (SUBJECT, 7)}, "subjects.1"),
        ({"objects": ("incident:1", b"x")}, "objects.1"),
        ({"purpose": 3}, "purpose"),
        ({"reasons": [None]}, "reasons.0"),
        ({"counts": {"n": "3"}}, "counts"),
        ({"counts": {None: 3}}, "counts"),
        ({"subjects": "abc"}, "subjects"),
    ],
)
def test_appi_23_log_an_event_that_is_not_all_references_cannot_be_built(
    fields: dict[str, Any], where: str
) -> None:
    with pytest.raises(BadAuditEvent) as refused:
        AuditEvent(actor="staff:pm01", action="incident.updated", **fields)
    assert isinstance(refused.value, Invalid) and refused.value.http_status == 422
    assert [p.field for p in refused.value.problems] == [where]


def test_appi_23_log_a_null_subject_is_refused_by_the_service(workspace: Workspace) -> None:
    with workspace.db.session() as session, pytest.raises(Invalid) as refused:
        incidents.open_incident(
            session,
            workspace.vault,
            aware_at=datetime.now(UTC) - timedelta(hours=1),
            actor="staff:pm01",
            now=datetime.now(UTC),
            subjects=[SUBJECT, None],
        )
    assert [p.field for p in refused.value.problems] == ["subjects.1"]


def test_appi_23_log_a_null_subject_over_http_is_a_422_and_the_log_keeps_working(
    workspace: Workspace,
) -> None:
    """The attack of issue 21: one POST with ``"subjects": [null]`` made every later query fail."""
    from fastapi.testclient import TestClient

    from mamoru.people.tokens import create_token
    from mamoru.server import create_app
    from tests.requests_helpers import load_office

    load_office(workspace)
    with workspace.db.session() as session:
        _, token = create_token(session, "soc", actor="staff:it01", now=datetime.now(UTC))
    headers = {"Authorization": f"Bearer {token}", "X-Mamoru-Actor": "staff:pm01"}
    aware = (datetime.now(UTC) - timedelta(hours=1)).isoformat()
    with TestClient(create_app(workspace)) as client:
        for bad in ([None], ["山田太郎"], [SUBJECT, 123456789018], ["123456789018"]):
            refused = client.post(
                "/api/v1/incidents", headers=headers, json={"aware_at": aware, "facts": {"subjects": bad}}
            )
            assert refused.status_code == 422, refused.text
            (problem,) = refused.json()["detail"]
            assert problem["loc"][-3:-1] == ["facts", "subjects"]
            assert "山田" not in refused.text and "123456789018" not in refused.text
        created = client.post(
            "/api/v1/incidents", headers=headers, json={"aware_at": aware, "facts": {"subjects": [SUBJECT]}}
        )
        assert created.status_code == 201, created.text
        ref = created.json()["ref"]
        patched = client.patch(f"/api/v1/incidents/{ref}", headers=headers, json={"subjects": [None]})
        assert patched.status_code == 422 and patched.json()["detail"][0]["loc"][-2:] == ["subjects", 0]
        listed = client.get("/api/v1/audit/entries", headers=headers, params={"actor": "staff:pm01"})
        assert listed.status_code == 200 and listed.json(), listed.text
    with workspace.db.session() as session:
        assert entries_for(session, "actor", "staff:pm01")
    assert incidents_verify(workspace)


def incidents_verify(workspace: Workspace) -> bool:
    from mamoru.audit.verification import verify

    return verify(workspace.db, workspace.signer.public).ok


def test_appi_23_log_a_leaf_written_before_the_door_checked_cannot_poison_the_index(db: Database) -> None:
    """A log that already holds a null subject (written by an older version) still answers queries."""
    with db.session() as session:
        append(session, events(2))
        poisoned = AuditEvent(actor="staff:pm01", action="decision.read", subjects=(SUBJECT,))
        object.__setattr__(poisoned, "subjects", (None, 7, SUBJECT))  # as the old door let through
        append(session, [poisoned], _validated=True)
        append(session, events(2))
    assert b'"subjects":[null,7,' in encode_body(poisoned, 0)
    with db.session() as session:
        while build_index(session):
            pass
        assert [e.seq for e in entries_for(session, "subject", SUBJECT)] == [1, 2, 3, 4, 5]
    report = reindex(db)
    assert report.ok and report.entries == 5


def test_appi_23_log_a_poisoned_index_is_repaired_by_reindex(db: Database) -> None:
    with db.session() as session:
        append(session, events(6))
        append(session, events(3, subject="subject:other"))
        assert len(entries_for(session, "subject", SUBJECT)) == 6
    raw(
        db,
        f"DELETE FROM audit_refs WHERE kind = 'subject' AND value = '{SUBJECT}' AND seq > 2",
        "INSERT INTO audit_refs (kind, value, seq) VALUES ('subject', 'subject:other', 1)",
        "INSERT INTO audit_refs (kind, value, seq) VALUES ('actor', 'staff:nobody', 4)",
    )
    with db.session() as session:
        assert [e.seq for e in entries_for(session, "subject", SUBJECT)] == [1, 2]  # entries hidden
    report = reindex(db)
    assert report.ok and report.entries == 9 and report.refs == 9 * 3
    with db.session() as session:
        assert [e.seq for e in entries_for(session, "subject", SUBJECT)] == [1, 2, 3, 4, 5, 6]
        assert [e.seq for e in entries_for(session, "subject", "subject:other")] == [7, 8, 9]
        forged = session.execute(text("SELECT count(*) FROM audit_refs WHERE value = 'staff:nobody'"))
        assert forged.scalar_one() == 0
        append(session, events(1))
    with db.session() as session:  # the index goes on from where the rebuild left it
        assert len(entries_for(session, "subject", SUBJECT)) == 7


def test_appi_23_log_reindex_stops_at_an_entry_that_does_not_verify(db: Database) -> None:
    with db.session() as session:
        append(session, events(5))
    raw(db, "UPDATE audit_entries SET entry_hash = audit_entries.leaf WHERE seq = 4")
    report = reindex(db)
    assert not report.ok and report.first_bad_seq == 4 and report.entries == 3


def test_the_cli_rebuilds_the_index(workspace: Workspace) -> None:
    from typer.testing import CliRunner

    from mamoru.cli.main import app

    with workspace.db.session() as session:
        append(session, events(3))
    result = CliRunner().invoke(app, ["audit", "reindex", "--json"])
    assert result.exit_code == 0, result.output
    assert '"ok": true' in result.output
