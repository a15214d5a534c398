"""The hash chain: append entries in the caller's transaction, and read its head.

Every entry's leaf starts with the previous entry's hash and its sequence number, so an entry that is
changed, removed or reordered breaks the chain from there on (:mod:`mamoru.audit.verification`).
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from hashlib import sha256
from typing import Any

from sqlalchemy import Connection, text, update
from sqlalchemy.orm import Session

from mamoru.audit.entry import AuditEvent, check_no_personal_values, encode_body
from mamoru.audit.tables import AuditHead
from mamoru.errors import MamoruError


def now_us() -> int:
    return time.time_ns() // 1000


def placeholders(conn: Connection, count: int) -> str:
    mark = "?" if conn.dialect.paramstyle == "qmark" else "%s"
    return ", ".join([mark] * count)


def _bulk_insert(
    conn: Connection, table: str, columns: tuple[str, ...], pg_types: list[str], rows: list[Any]
) -> None:
    """Insert many rows straight through the driver: COPY on PostgreSQL, executemany on SQLite.

    This is the hot path of every audited decision, so it skips the ORM's per-row work.
    """
    driver: Any = conn.connection.driver_connection
    names = ", ".join(columns)
    if conn.dialect.name == "postgresql":
        with (
            driver.cursor() as cursor,
            cursor.copy(f"COPY {table} ({names}) FROM STDIN (FORMAT BINARY)") as copy,
        ):
            copy.set_types(pg_types)
            for row in rows:
                copy.write_row(row)
        return
    cursor = driver.cursor()
    try:
        cursor.executemany(f"INSERT INTO {table} ({names}) VALUES ({placeholders(conn, len(columns))})", rows)
    finally:
        cursor.close()


def append(
    connection: Connection | Session,
    events: Sequence[AuditEvent],
    *,
    ts_us: int | None = None,
    _validated: bool = False,
) -> list[int]:
    """Append ``events`` in the caller's transaction and return their sequence numbers.

    The first statement updates the head row, which takes the write lock (PostgreSQL row lock,
    SQLite write lock), so concurrent appenders are serialized and the chain never forks. If the
    caller's transaction rolls back, the entries and the head roll back with it.
    """
    if not events:
        return []
    if not _validated:
        for event in events:
            check_no_personal_values(event)
    conn = connection.connection() if isinstance(connection, Session) else connection
    stamp = now_us() if ts_us is None else ts_us
    n = len(events)
    last_seq, prev = conn.execute(
        text("UPDATE audit_head SET last_seq = last_seq + :n WHERE id = 1 RETURNING last_seq, last_hash"),
        {"n": n},
    ).one()
    first = last_seq - n + 1
    prev = bytes(prev)
    rows: list[tuple[int, bytes, bytes]] = []
    for seq, event in enumerate(events, start=first):
        leaf = prev + seq.to_bytes(8, "big") + encode_body(event, stamp)
        prev = sha256(b"\x00" + leaf).digest()
        rows.append((seq, leaf, prev))
    _bulk_insert(conn, "audit_entries", ("seq", "leaf", "entry_hash"), ["int8", "bytea", "bytea"], rows)
    conn.execute(update(AuditHead).where(AuditHead.id == 1).values(last_hash=prev))
    return list(range(first, first + n))


def lock_head(session: Session) -> None:
    """Take the head row's lock (as an append would) until the transaction ends: a reader that will also
    append takes it first, so that it locks in the same order as every appender. An update that changes
    nothing: a row lock on PostgreSQL, the write lock on SQLite (which has no SELECT ... FOR UPDATE)."""
    session.execute(update(AuditHead).where(AuditHead.id == 1).values(last_seq=AuditHead.last_seq))


def head(session: Session) -> tuple[int, bytes]:
    row = session.get(AuditHead, 1)
    if row is None:
        raise MamoruError("the audit log has no head row; the database is not migrated")
    return row.last_seq, bytes(row.last_hash)
