"""The audit log: tamper evidence at the exact entry, signed checkpoints, proofs, writers, queries."""

from __future__ import annotations

import asyncio
import sqlite3
import tempfile
import threading
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from mamoru.audit.chain import append
from mamoru.audit.entry import AuditEvent, PersonalValueInAudit
from mamoru.audit.proofs import (
    Checkpoint,
    checkpoints,
    consistency_proof,
    inclusion_proof,
    latest_checkpoint,
    make_checkpoint,
)
from mamoru.audit.query import entries_for
from mamoru.audit.signing import Signer
from mamoru.audit.verification import verify
from mamoru.audit.writer import AuditWriteFailed, AuditWriter, merge_decisions
from mamoru.store.db import Database

SUBJECT = "0b8f2c1e-5d6a-4e3b-9c7d-1a2b3c4d5e6f"
N = 24


def event(i: int) -> AuditEvent:
    return AuditEvent(
        actor=f"staff:u{i % 3}",
        action="decision.read",
        purpose=("services", "research")[i % 2],
        subjects=(SUBJECT,) if i % 4 == 0 else (f"s-{i}",),
        decision="allow",
        reasons=("purpose_notified",),
        policy_version="2026.11",
    )


def unique(folder: Path, name: str) -> Path:
    """A database file of its own for each hypothesis example."""
    return Path(tempfile.mkdtemp(dir=folder)) / f"{name}.db"


def fresh_log(path: Path, n: int = N, signer: Signer | None = None) -> Database:
    db = Database(f"sqlite:///{path}")
    db.migrate()
    with db.session() as session:
        append(session, [event(i) for i in range(1, n + 1)])
        if signer is not None:
            make_checkpoint(session, signer)
    return db


def tamper(db: Database, *statements: tuple[str, tuple[object, ...]]) -> None:
    """What someone with the database file could do: drop the triggers and edit rows."""
    db.dispose()
    path = db.engine.url.database
    assert path is not None
    con = sqlite3.connect(path)
    for name in ("no_update", "no_delete"):
        con.execute(f"DROP TRIGGER IF EXISTS audit_entries_{name}")
        con.execute(f"DROP TRIGGER IF EXISTS audit_checkpoints_{name}")
    for sql, params in statements:
        con.execute(sql, params)
    con.commit()
    con.close()


def leaf_of(db: Database, seq: int) -> bytes:
    with db.engine.connect() as conn:
        return bytes(
            conn.execute(text("SELECT leaf FROM audit_entries WHERE seq = :s"), {"s": seq}).scalar_one()
        )


@pytest.fixture
def signer() -> Signer:
    return Signer.generate()


@pytest.fixture
def log_db(tmp_path: Path, signer: Signer) -> Iterator[Database]:
    db = fresh_log(tmp_path / "audit.db", signer=signer)
    yield db
    db.dispose()


def test_an_untouched_log_verifies(log_db: Database, signer: Signer) -> None:
    report = verify(log_db, signer.public, deep=True)
    assert report.ok and report.entries == N and report.checkpoints_checked == 1


SETTINGS = settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


@given(data=st.data())
@SETTINGS
def test_appi_23_log_flipping_any_byte_of_an_entry_fails_verification_at_that_entry(
    tmp_path: Path, data: st.DataObject
) -> None:
    db = fresh_log(unique(tmp_path, "flip"))
    seq = data.draw(st.integers(1, N), label="seq")
    leaf = leaf_of(db, seq)
    column = data.draw(st.sampled_from(["leaf", "entry_hash"]), label="column")
    original = leaf if column == "leaf" else bytes(32)
    if column == "entry_hash":
        with db.engine.connect() as conn:
            original = bytes(
                conn.execute(
                    text("SELECT entry_hash FROM audit_entries WHERE seq = :s"), {"s": seq}
                ).scalar_one()
            )
    position = data.draw(st.integers(0, len(original) - 1), label="byte")
    bit = data.draw(st.integers(0, 7), label="bit")
    flipped = bytearray(original)
    flipped[position] ^= 1 << bit
    tamper(db, (f"UPDATE audit_entries SET {column} = ? WHERE seq = ?", (bytes(flipped), seq)))
    report = verify(db, None)
    assert not report.ok and report.first_bad_seq == seq, report.reason


@given(data=st.data())
@SETTINGS
def test_deleting_any_entry_fails_verification_at_that_entry(tmp_path: Path, data: st.DataObject) -> None:
    db = fresh_log(unique(tmp_path, "del"))
    seq = data.draw(st.integers(1, N))
    tamper(db, ("DELETE FROM audit_entries WHERE seq = ?", (seq,)))
    report = verify(db, None)
    assert not report.ok and report.first_bad_seq == seq, report.reason


@given(data=st.data())
@SETTINGS
def test_inserting_an_entry_fails_verification_at_that_position(tmp_path: Path, data: st.DataObject) -> None:
    db = fresh_log(unique(tmp_path, "ins"))
    seq = data.draw(st.integers(1, N + 1))
    forged = leaf_of(db, min(seq, N))
    statements: list[tuple[str, tuple[object, ...]]] = [
        (f"UPDATE audit_entries SET seq = seq + 1000 WHERE seq >= {seq}", ()),
        (f"UPDATE audit_entries SET seq = seq - 999 WHERE seq >= {seq + 1000}", ()),
        ("INSERT INTO audit_entries (seq, leaf, entry_hash) VALUES (?, ?, ?)", (seq, forged, bytes(32))),
    ]
    tamper(db, *statements)
    report = verify(db, None)
    assert not report.ok and report.first_bad_seq == seq, report.reason


@given(data=st.data())
@SETTINGS
def test_reordering_two_entries_fails_verification_at_the_first(tmp_path: Path, data: st.DataObject) -> None:
    db = fresh_log(unique(tmp_path, "swap"))
    a = data.draw(st.integers(1, N - 1))
    b = data.draw(st.integers(a + 1, N))
    tamper(
        db,
        (f"UPDATE audit_entries SET seq = -1 WHERE seq = {a}", ()),
        (f"UPDATE audit_entries SET seq = {a} WHERE seq = {b}", ()),
        (f"UPDATE audit_entries SET seq = {b} WHERE seq = -1", ()),
    )
    report = verify(db, None)
    assert not report.ok and report.first_bad_seq == a, report.reason


def test_removing_the_newest_entries_is_detected(log_db: Database) -> None:
    tamper(log_db, (f"DELETE FROM audit_entries WHERE seq > {N - 2}", ()))
    report = verify(log_db, None)
    assert not report.ok and report.first_bad_seq == N - 1


def test_a_consistently_rewritten_log_fails_against_its_signed_checkpoint(
    tmp_path: Path, signer: Signer
) -> None:
    """Rewriting an entry and recomputing every later hash fools the chain, not the signature."""
    db = fresh_log(tmp_path / "a.db", signer=signer)
    with db.session() as session:
        (cp,) = checkpoints(session)
    forged_db = fresh_log(tmp_path / "b.db", n=0)
    with forged_db.session() as session:
        events = [event(i) for i in range(1, N + 1)]
        events[4] = AuditEvent(actor="staff:u9", action="decision.read")
        append(session, events)
    db.dispose()
    forged_db.dispose()
    Path(tmp_path / "b.db").replace(tmp_path / "a.db")
    for suffix in ("-wal", "-shm"):
        Path(f"{tmp_path / 'a.db'}{suffix}").unlink(missing_ok=True)
    rewritten = Database(f"sqlite:///{tmp_path / 'a.db'}")
    report = verify(rewritten, signer.public, witness=[cp])
    assert not report.ok and report.first_bad_seq == N and "witness" in (report.reason or "")


def test_a_tampered_checkpoint_fails(log_db: Database, signer: Signer) -> None:
    tamper(log_db, ("UPDATE audit_checkpoints SET root_hash = ?", (bytes(32),)))
    assert verify(log_db, signer.public, deep=True).first_bad_seq == N
    other = Signer.generate()
    assert not verify(log_db, other.public).ok


def test_inclusion_proof_verifies_and_fails_when_tampered(log_db: Database, signer: Signer) -> None:
    with log_db.session() as session:
        for seq in range(1, N + 1):
            proof = inclusion_proof(session, seq)
            assert proof.verify(signer.public)
        proof = inclusion_proof(session, 5)
    forged_leaf = bytearray(proof.leaf)
    forged_leaf[-3] ^= 1
    assert not type(proof)(
        proof.seq, bytes(forged_leaf), proof.entry_hash, proof.checkpoint, proof.path
    ).verify(signer.public)
    cp = proof.checkpoint
    forged_cp = Checkpoint(cp.tree_size, bytes(32), cp.chain_hash, cp.ts_us, cp.key_id, cp.signature)
    assert not type(proof)(proof.seq, proof.leaf, proof.entry_hash, forged_cp, proof.path).verify(
        signer.public
    )


def test_consistency_between_two_checkpoints(log_db: Database, signer: Signer) -> None:
    from mamoru.audit import merkle

    with log_db.session() as session:
        first = latest_checkpoint(session)
        append(session, [event(i) for i in range(100, 110)])
        second = make_checkpoint(session, signer)
        assert first is not None and second is not None
        path = consistency_proof(session, first.tree_size, second.tree_size)
    assert merkle.verify_consistency(
        first.tree_size, second.tree_size, first.root_hash, second.root_hash, path
    )
    assert verify(log_db, signer.public, deep=True).checkpoints_checked == 2


def test_sqlite_refuses_updates_and_deletes_of_entries(log_db: Database) -> None:
    for sql in (
        "UPDATE audit_entries SET leaf = x'00' WHERE seq = 1",
        "DELETE FROM audit_entries WHERE seq = 1",
    ):
        with pytest.raises(DBAPIError, match="append-only"), log_db.engine.begin() as conn:
            conn.execute(text(sql))


@pytest.mark.postgres
def test_postgres_application_role_cannot_update_or_delete_audit_rows(pg_url: str) -> None:
    db = Database(pg_url)
    db.migrate()
    with db.session() as session:
        append(session, [event(1), event(2)])
    for sql in (
        "UPDATE audit_entries SET leaf = '\\x00'::bytea WHERE seq = 1",
        "DELETE FROM audit_entries WHERE seq = 1",
        "TRUNCATE audit_entries CASCADE",
    ):
        with pytest.raises(DBAPIError, match="append-only"), db.engine.begin() as conn:
            conn.execute(text(sql))
    assert verify(db, None).ok
    db.dispose()


@pytest.mark.parametrize(
    "bad",
    [
        {"actor": "staff:pm01", "action": "decision.read", "subjects": ("yamada.taro@example.jp",)},
        {"actor": "山田太郎", "action": "decision.read"},
        {"actor": "staff:pm01", "action": "mynumber.read", "objects": ("123456789018",)},
        {"actor": "staff:pm01", "action": "mynumber.read", "objects": ("number:123456789018",)},
        {"actor": "staff:pm01", "action": "x", "reasons": ("phone 03-1234-5678",)},
    ],
)
def test_mn_6_personal_values_and_my_numbers_are_refused_at_the_door(
    log_db: Database, bad: dict[str, Any]
) -> None:
    with pytest.raises(PersonalValueInAudit), log_db.session() as session:
        append(session, [AuditEvent(**bad)])
    assert verify(log_db, None).entries == N


def test_rolled_back_transaction_leaves_no_entry(log_db: Database) -> None:
    with pytest.raises(RuntimeError), log_db.session() as session:
        append(session, [event(1)])
        raise RuntimeError("state change failed")
    report = verify(log_db, None)
    assert report.ok and report.entries == N


def test_group_commit_writer_is_durable_and_keeps_one_chain(tmp_path: Path, signer: Signer) -> None:
    db = fresh_log(tmp_path / "w.db", n=0)
    writer = AuditWriter(db, signer=signer, checkpoint_every=500)
    acked: list[int] = []
    lock = threading.Lock()

    def producer(k: int) -> None:
        for i in range(50):
            # not a guard decision: three entries even when identical (decisions are merged, below)
            seqs = writer.submit([replace(event(k * 1000 + i), action="request.step")] * 3, durable=True)
            assert seqs is not None
            with lock:
                acked.extend(seqs)

    threads = [threading.Thread(target=producer, args=(k,)) for k in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    writer.append(event(7), durable=False)
    writer.close()
    assert sorted(acked) == list(range(1, 8 * 50 * 3 + 1))
    report = verify(db, signer.public, deep=True)
    assert report.ok and report.entries == 8 * 50 * 3 + 1
    assert report.checkpoints_checked >= 2


def test_identical_decisions_of_one_batch_share_an_entry() -> None:
    one = event(1)
    other_purpose = event(2)
    step = replace(event(1), action="request.step")
    again = replace(one, subjects=("s-99",))
    entries, where = merge_decisions([one, step, other_purpose, again, step])
    assert where == [0, 1, 2, 0, 3]
    merged = entries[0]
    assert merged.subjects == (*one.subjects, "s-99") and merged.counts == {"calls": 2}
    assert (merged.actor, merged.purpose, merged.decision, merged.reasons) == (
        one.actor,
        one.purpose,
        one.decision,
        one.reasons,
    )
    assert entries[1] is step and entries[2] is other_purpose and entries[3] is step


def test_an_event_that_already_merged_calls_merges_on_and_counts_them_all() -> None:
    one = event(1)
    merged_before = replace(event(1), subjects=("s-98", "s-99"), counts={"calls": 2})
    counted_otherwise = replace(event(1), counts={"rows": 2})  # not a number of calls: kept apart
    entries, where = merge_decisions([one, merged_before, counted_otherwise, merged_before])
    assert where == [0, 0, 1, 0]
    assert entries[0].subjects == (*one.subjects, "s-98", "s-99", "s-98", "s-99")
    assert entries[0].counts == {"calls": 5}
    assert entries[1] is counted_otherwise


def test_a_coroutine_waits_for_the_commit_and_gets_the_error_of_a_failed_batch(tmp_path: Path) -> None:
    db = fresh_log(tmp_path / "f.db", n=0)
    writer = AuditWriter(db, index_when_idle=False)

    async def submit() -> list[int]:
        return await writer.submit_future([replace(event(1), action="request.step")])

    assert asyncio.run(submit()) == [1]
    with db.engine.begin() as conn:  # a row where the next entry goes: that batch cannot be committed
        conn.execute(text("INSERT INTO audit_entries (seq, leaf, entry_hash) VALUES (2, x'00', x'00')"))
    with pytest.raises(AuditWriteFailed):
        asyncio.run(submit())
    writer.close()


def test_merged_decisions_keep_every_subject_and_call(tmp_path: Path) -> None:
    db = fresh_log(tmp_path / "m.db", n=0)
    writer = AuditWriter(db, index_when_idle=False)
    for i in range(300):
        writer.submit([replace(event(0), subjects=(f"s-{i}",))], durable=False)
    writer.close()
    with db.session() as session:
        bodies = [entry.body for entry in entries_for(session, "actor", event(0).actor, limit=1000)]
        # each subject finds the entry that holds its decision
        assert [e.body["decision"] for e in entries_for(session, "subject", "s-123")] == ["allow"]
    assert sorted(s for b in bodies for s in b["subjects"]) == sorted(f"s-{i}" for i in range(300))
    assert sum(b["counts"].get("calls", 1) for b in bodies) == 300
    assert verify(db, None).ok


def test_buffered_appends_share_commits(tmp_path: Path) -> None:
    db = fresh_log(tmp_path / "b.db", n=0)
    writer = AuditWriter(db, index_when_idle=False)
    for i in range(2000):
        writer.append(replace(event(i), action="request.step"), durable=False)
    writer.close()
    assert verify(db, None).entries == 2000
    assert writer.batches < 2000  # thousands of appends, far fewer commits


def test_queries_by_subject_actor_and_purpose_read_the_record(log_db: Database) -> None:
    with log_db.session() as session:
        about = entries_for(session, "subject", SUBJECT)
        by_actor = entries_for(session, "actor", "staff:u1")
        for_purpose = entries_for(session, "purpose", "research")
    assert [e.seq for e in about] == [i for i in range(1, N + 1) if i % 4 == 0]
    assert all(e.body["actor"] == "staff:u1" for e in by_actor) and len(by_actor) == N // 3
    assert all(e.body["purpose"] == "research" for e in for_purpose)


def test_a_forged_index_row_cannot_add_an_entry_to_a_subjects_history(log_db: Database) -> None:
    with log_db.session() as session:
        entries_for(session, "subject", SUBJECT)
    tamper(log_db, ("INSERT INTO audit_refs (kind, value, seq) VALUES ('subject', ?, 1)", (SUBJECT,)))
    with log_db.session() as session:
        assert 1 not in [e.seq for e in entries_for(session, "subject", SUBJECT)]


def test_parallel_verification_finds_the_same_first_bad_entry(tmp_path: Path) -> None:
    db = fresh_log(tmp_path / "p.db", n=400)
    assert verify(db, None, workers=2).ok
    tamper(db, ("DELETE FROM audit_entries WHERE seq = 250", ()))
    for workers in (1, 2, 3):
        report = verify(db, None, workers=workers)
        assert report.first_bad_seq == 250, (workers, report.reason)


def test_a_uuid_reference_whose_last_group_is_twelve_digits_is_not_taken_for_a_my_number(
    log_db: Database,
) -> None:
    with log_db.session() as session:
        append(
            session,
            [
                AuditEvent(
                    actor="staff:pm01",
                    action="decision.read",
                    subjects=("0b8f2c1e-5d6a-4e3b-9c7d-123456789018",),
                )
            ],
        )
