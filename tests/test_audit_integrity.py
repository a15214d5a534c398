"""The audit log at its edges: only well-formed references get in, the query index can always be rebuilt
from the leaves, and a cut-back log, a removed or replaced checkpoint, a head that disagrees or a forged
verification result is caught."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import text

from mamoru.audit.chain import append
from mamoru.audit.entry import AuditEvent, BadAuditEvent, encode_body
from mamoru.audit.proofs import checkpoints, make_checkpoint
from mamoru.audit.query import build_index, entries_for, reindex
from mamoru.audit.signing import Signer
from mamoru.audit.tables import AuditVerification
from mamoru.audit.verification import record_verification, verification_status, verify
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

    from mamoru.server import create_app
    from tests.requests_helpers import load_office
    from tests.tokens_helpers import bearer, staff_token

    load_office(workspace)
    headers = bearer(staff_token(workspace, "pm01"))
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


# --- (6) truncation and forged status are detected -----------------------------------------------


@pytest.fixture
def signed_log(db: Database) -> Iterator[tuple[Database, Signer]]:
    """30 entries with checkpoints at 10, 20 and 30 (numbered 1, 2, 3)."""
    signer = Signer.generate()
    for _ in range(3):
        with db.session() as session:
            append(session, events(10))
            make_checkpoint(session, signer)
    yield db, signer


def test_checkpoints_are_numbered_and_each_signs_the_one_before(signed_log: tuple[Database, Signer]) -> None:
    db, signer = signed_log
    with db.session() as session:
        cps = checkpoints(session)
    assert [(c.number, c.tree_size) for c in cps] == [(1, 10), (2, 20), (3, 30)]
    assert [c.prev_hash for c in cps[1:]] == [c.hash for c in cps[:-1]]
    report = verify(db, signer.public, deep=True)
    assert report.ok and report.checkpoints_checked == 3 and report.checkpoint_number == 3


def test_appi_23_log_a_truncated_tail_fails_verification_naming_it(
    signed_log: tuple[Database, Signer],
) -> None:
    """The last entries deleted by SQL after a checkpoint, and the head row set back to match."""
    db, signer = signed_log
    with db.session() as session:
        append(session, events(5))  # 35 entries, the last checkpoint at 30
    raw(db, "DELETE FROM audit_entries WHERE seq > 32")
    report = verify(db, signer.public)
    assert not report.ok and report.first_bad_seq == 33 and "removed" in (report.reason or ""), report.reason
    raw(
        db,
        "DELETE FROM audit_entries WHERE seq > 26",
        "UPDATE audit_head SET last_seq = 26, last_hash = (SELECT entry_hash FROM audit_entries WHERE seq = 26)",
    )
    report = verify(db, signer.public)
    assert not report.ok and report.first_bad_seq == 27
    assert "checkpoint covers 30 entries but only 26 exist" in (report.reason or "")


def test_appi_23_log_a_deleted_checkpoint_is_caught_without_a_witness(
    signed_log: tuple[Database, Signer],
) -> None:
    db, signer = signed_log
    raw(db, "DELETE FROM audit_checkpoints WHERE number = 2")
    report = verify(db, signer.public)
    assert not report.ok and report.reason == "checkpoint 2 is missing: it was removed"
    assert report.first_bad_seq == 11


def test_appi_23_log_a_replaced_checkpoint_is_caught_without_a_witness(
    signed_log: tuple[Database, Signer],
) -> None:
    """Checkpoint 2 replaced by one that is validly signed (a key that leaked, or one re-signed after a
    rewrite): its successor no longer signs its hash."""
    db, signer = signed_log
    with db.session() as session:
        old = checkpoints(session)[1]
    other_ts = old.ts_us + 1
    from mamoru.audit.signing import chained_statement

    signature = signer.sign(
        chained_statement(2, old.tree_size, old.root_hash, old.chain_hash, other_ts, old.prev_hash or b"")
    )
    values = ", ".join(
        [
            "2",
            str(old.tree_size),
            hexlit(db, old.root_hash),
            hexlit(db, old.chain_hash),
            str(other_ts),
            hexlit(db, old.prev_hash or b""),
            f"'{old.key_id}'",
            hexlit(db, signature),
        ]
    )
    raw(
        db,
        "DELETE FROM audit_checkpoints WHERE number = 2",
        "INSERT INTO audit_checkpoints (number, tree_size, root_hash, chain_hash, ts_us, prev_hash, key_id, "
        f"signature) VALUES ({values})",
    )
    report = verify(db, signer.public, deep=True)
    assert not report.ok, report.reason
    assert report.reason == "checkpoint 3 does not sign the hash of checkpoint 2: one of them was replaced"


def hexlit(db: Database, data: bytes) -> str:
    return f"'\\x{data.hex()}'::bytea" if db.engine.dialect.name == "postgresql" else f"x'{data.hex()}'"


@pytest.mark.parametrize(
    ("change", "where", "why"),
    [
        ("last_seq = 29", 30, "the head row says 29 entries but 30 are present"),
        ("last_seq = 31", 31, "the head row says 31 entries but 30 are present"),
        ("last_hash = (SELECT entry_hash FROM audit_entries WHERE seq = 29)", 30, "the head row's hash"),
    ],
)
def test_appi_23_log_a_head_row_that_disagrees_with_the_leaves_fails(
    signed_log: tuple[Database, Signer], change: str, where: int, why: str
) -> None:
    db, signer = signed_log
    raw(db, f"UPDATE audit_head SET {change}")
    report = verify(db, signer.public)
    assert not report.ok and report.first_bad_seq == where and why in (report.reason or ""), report.reason


def test_appi_23_log_a_cut_back_log_is_caught_by_the_last_signed_verification(
    signed_log: tuple[Database, Signer],
) -> None:
    """The last checkpoint and its entries removed and the head set back: the log is consistent again,
    but a signed verification result said it held 30 entries and checkpoint 3."""
    db, signer = signed_log
    report = verify(db, signer.public)
    with db.session() as session:
        record_verification(
            session, report, by="test", signer=signer, at=datetime.now(UTC) - timedelta(hours=1)
        )
    raw(
        db,
        "DELETE FROM audit_checkpoints WHERE number = 3",
        "DELETE FROM audit_entries WHERE seq > 20",
        "UPDATE audit_head SET last_seq = 20, last_hash = (SELECT entry_hash FROM audit_entries WHERE seq = 20)",
    )
    report = verify(db, signer.public)
    assert not report.ok and report.first_bad_seq == 21 and "held 30 entries" in (report.reason or "")
    raw(db, "DELETE FROM audit_verifications")  # what the signed result cannot stop; docs say so
    assert verify(db, signer.public).ok


def test_appi_23_log_a_forged_verification_row_shows_as_not_verified(
    signed_log: tuple[Database, Signer],
) -> None:
    db, signer = signed_log
    now = datetime.now(UTC)
    with db.session() as session:
        record_verification(session, verify(db, signer.public), by="test", signer=signer, at=now)
    with db.session() as session:
        shown = verification_status(session, signer.public, now=now + timedelta(minutes=5))
        assert shown.state == "intact" and shown.age_seconds == 300 and shown.trusted
    raw(db, "UPDATE audit_verifications SET entries = 31")  # a signed row changed
    with db.session() as session:
        assert verification_status(session, signer.public, now=now).state == "untrusted"
    raw(db, "DELETE FROM audit_verifications")
    forged = AuditVerification(
        run_at=now,
        run_by="system:worker",
        ok=True,
        entries=30,
        checkpoints_checked=3,
        seconds=0.1,
        head_hash="00" * 32,
        key_id=signer.key_id,
        signature=bytes(64),
    )
    with db.session() as session:
        session.add(forged)
    with db.session() as session:
        shown = verification_status(session, signer.public, now=now)
        assert shown.state == "untrusted" and shown.run is None and shown.age_seconds is None
        assert verification_status(session, Signer.generate().public, now=now).state == "untrusted"


def test_appi_23_log_the_status_api_and_the_portal_show_only_a_signed_result(workspace: Workspace) -> None:
    from fastapi.testclient import TestClient

    from mamoru.incidents.signals import verify_log
    from mamoru.server import create_app

    with workspace.db.session() as session:
        append(session, events(3))
        make_checkpoint(session, workspace.signer)
    verify_log(workspace, workspace.signer.public, by="test", now=datetime.now(UTC))
    with TestClient(create_app(workspace)) as client:
        status = client.get("/api/v1/audit/status").json()
        assert status["last_verification_state"] == "intact" and status["last_verification_ok"] is True
        assert status["last_verified_age_seconds"] is not None and status["latest_checkpoint"]["number"] == 1
        page = client.get("/audit?lang=en").text
        assert "intact" in page and "age" in page
        forged_at = datetime.now(UTC) + timedelta(seconds=5)
        with workspace.db.session() as session:
            session.add(
                AuditVerification(
                    run_at=forged_at,
                    run_by="system:worker",
                    ok=True,
                    entries=3,
                    checkpoints_checked=1,
                    seconds=0.1,
                    head_hash="",
                )
            )
        status = client.get("/api/v1/audit/status").json()
        assert status["last_verification_state"] == "untrusted"
        assert status["last_verification_ok"] is None and status["last_verified_at"] is None
        page = client.get("/audit?lang=en").text
        assert (
            "Not verified" in page
            and "intact" not in page.split('id="verification"')[1].split("</section>")[0]
        )


def test_the_schedule_signs_checkpoints_and_verifies(workspace: Workspace) -> None:
    from mamoru.work.scheduler import audit_schedule, claim_due
    from mamoru.work.tasks import TASKS

    schedule = audit_schedule(workspace.settings)
    assert schedule == {"audit.checkpoint": 60, "audit.verify": 3600}
    with workspace.db.session() as session:
        append(session, events(4))
    for task in claim_due(workspace, datetime.now(UTC), schedule):
        TASKS[task](workspace, {})
    with workspace.db.session() as session:
        assert [c.number for c in checkpoints(session)] == [1]
        shown = verification_status(session, workspace.signer.public, now=datetime.now(UTC))
    assert shown.state == "intact"
