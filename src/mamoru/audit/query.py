"""Reading the log by what an entry concerns: a subject, an actor or a purpose.

The ``audit_refs`` index is derived from the committed leaves; the entries themselves stay the record.
"""

from __future__ import annotations

from typing import Any

import orjson
from sqlalchemy import Connection, select, text
from sqlalchemy.orm import Session

from mamoru.audit.chain import placeholders
from mamoru.audit.entry import HEADER_BYTES, DecodedEntry, decode_leaf
from mamoru.audit.tables import AuditEntry, AuditRef

REF_KINDS = ("subject", "actor", "purpose")


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
    refs: list[tuple[str, str, int]] = []
    for seq, leaf in leaves:
        body = orjson.loads(bytes(leaf)[HEADER_BYTES:])
        refs.append(("actor", body["actor"], seq))
        if body.get("purpose"):
            refs.append(("purpose", body["purpose"], seq))
        refs.extend(("subject", subject, seq) for subject in dict.fromkeys(body.get("subjects", ())))
    driver: Any = conn.connection.driver_connection
    cursor = driver.cursor()
    try:
        cursor.executemany(
            f"INSERT INTO audit_refs (kind, value, seq) VALUES ({placeholders(conn, 3)})", refs
        )
    finally:
        cursor.close()
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
