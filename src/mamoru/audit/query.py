"""Reading the log by what an entry concerns: a subject, an actor or a purpose.

The ``audit_refs`` index is derived from the committed leaves; the entries themselves stay the record.
"""

from __future__ import annotations

from dataclasses import dataclass
from hashlib import sha256
from typing import Any

import orjson
from sqlalchemy import Connection, delete, select, text
from sqlalchemy.orm import Session

from mamoru.audit.chain import placeholders
from mamoru.audit.entry import GENESIS, HASH_BYTES, HEADER_BYTES, DecodedEntry, decode_leaf
from mamoru.audit.tables import AuditEntry, AuditRef
from mamoru.references import is_reference
from mamoru.store.db import Database

REF_KINDS = ("subject", "actor", "purpose")


def _refs_of(seq: int, leaf: bytes) -> list[tuple[str, str, int]]:
    """The index rows of one leaf. Only well-formed references are indexed: a leaf written before the
    door checked every field (a null subject, a number) is still in the record, but it can never make
    the index (whose columns refuse such values) fail for every later entry."""
    try:
        body = orjson.loads(leaf[HEADER_BYTES:])
    except orjson.JSONDecodeError:
        return []
    if not isinstance(body, dict):
        return []
    found: list[tuple[str, Any]] = [("actor", body.get("actor"))]
    if body.get("purpose"):
        found.append(("purpose", body["purpose"]))
    subjects = body.get("subjects", ())
    if isinstance(subjects, list):
        found.extend(
            ("subject", subject) for subject in dict.fromkeys(s for s in subjects if isinstance(s, str))
        )
    return [(kind, str(value), seq) for kind, value in found if is_reference(value)]


def _insert_refs(conn: Connection, refs: list[tuple[str, str, int]]) -> None:
    if not refs:
        return
    driver: Any = conn.connection.driver_connection
    cursor = driver.cursor()
    try:
        cursor.executemany(
            f"INSERT INTO audit_refs (kind, value, seq) VALUES ({placeholders(conn, 3)})", refs
        )
    finally:
        cursor.close()


def build_index(connection: Connection | Session, *, limit: int = 50_000) -> int:
    """Add the entries committed since the last run to ``audit_refs``; returns how many were indexed.

    Serialized by a row lock like appends, so two processes never index the same entry twice.
    """
    conn = connection.connection() if isinstance(connection, Session) else connection
    (upto,) = conn.execute(
        text("UPDATE audit_index_state SET indexed_upto = indexed_upto WHERE id = 1 RETURNING indexed_upto")
    ).one()
    leaves = conn.execute(
        select(AuditEntry.seq, AuditEntry.leaf)
        .where(AuditEntry.seq > upto)
        .order_by(AuditEntry.seq)
        .limit(limit)
    ).all()
    if not leaves:
        return 0
    refs = [ref for seq, leaf in leaves for ref in _refs_of(seq, bytes(leaf))]
    _insert_refs(conn, refs)
    conn.execute(
        text("UPDATE audit_index_state SET indexed_upto = :upto WHERE id = 1"), {"upto": leaves[-1][0]}
    )
    return len(leaves)


def entries_for(
    session: Session, kind: str, value: str, *, limit: int = 100, after: int = 0
) -> list[DecodedEntry]:
    """Entries that concern a subject, an actor or a purpose, oldest first, read from the record itself."""
    if kind not in REF_KINDS:
        raise ValueError(f"kind must be one of {', '.join(REF_KINDS)}")
    while build_index(session):
        pass
    rows = session.execute(
        select(AuditEntry.leaf, AuditEntry.entry_hash)
        .join(AuditRef, AuditRef.seq == AuditEntry.seq)
        .where(AuditRef.kind == kind, AuditRef.value == value, AuditEntry.seq > after)
        .order_by(AuditEntry.seq)
        .limit(limit)
    )
    found = [decode_leaf(bytes(leaf), bytes(h)) for leaf, h in rows]
    # The index only points; keep what the record itself says concerns ``value``.
    if kind == "subject":
        return [e for e in found if value in e.body["subjects"]]
    return [e for e in found if e.body[kind] == value]


@dataclass(frozen=True)
class ReindexReport:
    """What a rebuild of the index did: entries indexed, references written, and where the chain broke
    (the index then stops before the first entry that does not verify)."""

    entries: int
    refs: int
    first_bad_seq: int | None = None
    reason: str | None = None

    @property
    def ok(self) -> bool:
        return self.first_bad_seq is None


def reindex(db: Database, *, batch: int = 20_000) -> ReindexReport:
    """Rebuild ``audit_refs`` from the leaves, in one transaction: every row is dropped and the index is
    built again from entries that verify (each links to the previous entry's hash and matches its own).

    A forged, removed or malformed index row is gone afterwards. Queries wait on the index's row lock
    meanwhile; appends go on. Entries after a break in the chain are left to the next query's catch-up
    and the break is reported (``mamoru audit verify`` says more).
    """
    with db.engine.begin() as conn:
        conn.execute(text("UPDATE audit_index_state SET indexed_upto = indexed_upto WHERE id = 1"))
        conn.execute(delete(AuditRef))
        prev, expected, written = GENESIS, 1, 0
        bad: tuple[int, str] | None = None
        while bad is None:
            rows = conn.execute(
                select(AuditEntry.seq, AuditEntry.leaf, AuditEntry.entry_hash)
                .where(AuditEntry.seq >= expected)
                .order_by(AuditEntry.seq)
                .limit(batch)
            ).all()
            if not rows:
                break
            refs: list[tuple[str, str, int]] = []
            for seq, raw, stored in rows:
                leaf = bytes(raw)
                if seq != expected:
                    bad = (expected, f"entry {expected} is missing")
                elif leaf[:HASH_BYTES] != prev:
                    bad = (seq, "the entry does not link to the previous entry's hash")
                elif sha256(b"\x00" + leaf).digest() != bytes(stored):
                    bad = (seq, "the entry's content does not match its hash")
                if bad is not None:
                    break
                prev = bytes(stored)
                refs.extend(_refs_of(seq, leaf))
                expected += 1
            _insert_refs(conn, refs)
            written += len(refs)
        conn.execute(
            text("UPDATE audit_index_state SET indexed_upto = :upto WHERE id = 1"), {"upto": expected - 1}
        )
    return ReindexReport(
        entries=expected - 1,
        refs=written,
        first_bad_seq=bad[0] if bad else None,
        reason=bad[1] if bad else None,
    )
