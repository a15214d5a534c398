"""The audit log service: append (in the caller's transaction or through the group-commit writer),
signed checkpoints, inclusion and consistency proofs, verification, and queries.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from hashlib import sha256
from typing import Any

import orjson
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from sqlalchemy import Connection, select, text, update
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Session

from mamoru.audit import merkle
from mamoru.audit.entry import (
    GENESIS,
    HASH_BYTES,
    HEADER_BYTES,
    AuditEvent,
    DecodedEntry,
    check_no_personal_values,
    decode_leaf,
    encode_body,
)
from mamoru.audit.signing import Signer, statement, verify_statement
from mamoru.audit.tables import AuditCheckpoint, AuditEntry, AuditHead, AuditRef, AuditVerification
from mamoru.errors import MamoruError, NotFound
from mamoru.store.db import Database

log = logging.getLogger(__name__)

REF_KINDS = ("subject", "actor", "purpose")


def now_us() -> int:
    return time.time_ns() // 1000


def _placeholders(conn: Connection, count: int) -> str:
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
        cursor.executemany(
            f"INSERT INTO {table} ({names}) VALUES ({_placeholders(conn, len(columns))})", rows
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
            f"INSERT INTO audit_refs (kind, value, seq) VALUES ({_placeholders(conn, 3)})", refs
        )
    finally:
        cursor.close()
    conn.execute(
        text("UPDATE audit_index_state SET indexed_upto = :upto WHERE id = 1"), {"upto": leaves[-1][0]}
    )
    return len(leaves)


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


def head(session: Session) -> tuple[int, bytes]:
    row = session.get(AuditHead, 1)
    if row is None:
        raise MamoruError("the audit log has no head row; the database is not migrated")
    return row.last_seq, bytes(row.last_hash)


# --- group commit -------------------------------------------------------------------------------


class AuditWriteFailed(MamoruError):
    """The batch holding this entry could not be committed; the entry is not in the log."""

    http_status = 503


class _Ticket:
    """One batch's commit, shared by every caller whose entries are in it."""

    __slots__ = ("done", "error", "first_seq")

    def __init__(self) -> None:
        self.done = threading.Event()
        self.first_seq = 0
        self.error: BaseException | None = None


class AuditWriter:
    """Group commit: many callers' entries share one transaction and one fsync.

    ``durable=True`` returns once the entry is committed; ``durable=False`` returns at once and the
    entry is committed within one batch's write time (the writer never waits to fill a batch).
    """

    def __init__(
        self,
        db: Database,
        *,
        signer: Signer | None = None,
        checkpoint_every: int = 10_000,
        checkpoint_seconds: float = 60.0,
        max_pending: int = 1_000_000,
        retries: int = 20,
        index_when_idle: bool = True,
    ) -> None:
        self._db = db
        self._signer = signer
        self._checkpoint_every = checkpoint_every
        self._checkpoint_seconds = checkpoint_seconds
        self._frontier = merkle.Frontier()
        self._last_checkpoint_size = -1
        self._last_checkpoint_at = time.monotonic()
        self.index_when_idle = index_when_idle
        self._cond = threading.Condition()
        self._pending: list[AuditEvent] = []
        self._ticket = _Ticket()
        self._closed = False
        self._max_pending = max_pending
        self._retries = retries
        self.batches = 0
        self._thread = threading.Thread(target=self._run, name="mamoru-audit-writer", daemon=True)
        self._thread.start()

    def submit(self, events: Sequence[AuditEvent], *, durable: bool = True) -> list[int] | None:
        """Queue ``events``; with ``durable`` wait for the commit and return their sequence numbers."""
        for event in events:
            check_no_personal_values(event)
        with self._cond:
            while len(self._pending) >= self._max_pending and not self._closed:
                self._cond.wait()
            if self._closed:
                raise AuditWriteFailed("the audit writer is closed")
            offset = len(self._pending)
            self._pending.extend(events)
            ticket = self._ticket
            self._cond.notify_all()
        if not durable:
            return None
        ticket.done.wait()
        if ticket.error is not None:
            raise AuditWriteFailed("the audit batch could not be committed") from ticket.error
        return list(range(ticket.first_seq + offset, ticket.first_seq + offset + len(events)))

    def append(self, event: AuditEvent, *, durable: bool = True) -> int | None:
        seqs = self.submit([event], durable=durable)
        return seqs[0] if seqs else None

    def flush(self) -> None:
        """Wait until everything submitted so far is committed."""
        with self._cond:
            if not self._pending:
                return
            ticket = self._ticket
        ticket.done.wait()

    def close(self) -> None:
        self.flush()
        with self._cond:
            self._closed = True
            self._cond.notify_all()
        self._thread.join(timeout=30)

    def _run(self) -> None:
        while True:
            with self._cond:
                while not self._pending and not self._closed:
                    if not self._cond.wait(timeout=self._checkpoint_seconds if self._signer else None):
                        break
                if not self._pending:
                    if self._closed:
                        return
                    self._maybe_checkpoint(timed=True)
                    continue
                batch, self._pending = self._pending, []
                ticket, self._ticket = self._ticket, _Ticket()
                self._cond.notify_all()
            try:
                ticket.first_seq = self._write(batch)
            except BaseException as exc:  # the callers get the error; the writer keeps serving
                ticket.error = exc
                log.error("audit batch of %d entries failed: %s", len(batch), type(exc).__name__)
            finally:
                ticket.done.set()
            self._maybe_checkpoint(timed=False)
            self._index_while_idle()

    def _maybe_checkpoint(self, *, timed: bool) -> None:
        """Sign a checkpoint every ``checkpoint_every`` entries, or after ``checkpoint_seconds`` with news."""
        if self._signer is None:
            return
        try:
            with self._db.session() as session:
                size, _ = head(session)
                if self._last_checkpoint_size < 0:
                    latest = latest_checkpoint(session)
                    self._last_checkpoint_size = latest.tree_size if latest else 0
                due = size - self._last_checkpoint_size >= self._checkpoint_every or (
                    timed
                    and size > self._last_checkpoint_size
                    and time.monotonic() - self._last_checkpoint_at >= self._checkpoint_seconds
                )
                if not due:
                    return
                cp = make_checkpoint(session, self._signer, frontier=self._frontier)
            self._last_checkpoint_size = cp.tree_size if cp else 0
            self._last_checkpoint_at = time.monotonic()
        except (OperationalError, IntegrityError):
            log.warning("audit checkpoint postponed: the database was busy or another process signed")

    def _index_while_idle(self) -> None:
        while not self._pending and self.index_when_idle:
            try:
                with self._db.engine.begin() as conn:
                    if not build_index(conn, limit=5_000):
                        return
            except OperationalError:
                return

    def _write(self, batch: list[AuditEvent]) -> int:
        for attempt in range(self._retries):
            try:
                with self._db.engine.begin() as conn:
                    seqs = append(conn, batch, _validated=True)
                self.batches += 1
                return seqs[0]
            except OperationalError:
                if attempt == self._retries - 1:
                    raise
                time.sleep(0.01 * (attempt + 1))
        raise AssertionError("unreachable")


# --- checkpoints and proofs ---------------------------------------------------------------------


def _leaf_hashes(conn: Connection, upto: int, start: int = 1) -> list[bytes]:
    rows = conn.execute(
        select(AuditEntry.entry_hash)
        .where(AuditEntry.seq >= start, AuditEntry.seq <= upto)
        .order_by(AuditEntry.seq)
    )
    return [bytes(h) for (h,) in rows]


@dataclass(frozen=True)
class Checkpoint:
    tree_size: int
    root_hash: bytes
    chain_hash: bytes
    ts_us: int
    key_id: str
    signature: bytes

    def statement(self) -> bytes:
        return statement(self.tree_size, self.root_hash, self.chain_hash, self.ts_us)

    def to_json(self) -> dict[str, Any]:
        return {
            "tree_size": self.tree_size,
            "root_hash": self.root_hash.hex(),
            "chain_hash": self.chain_hash.hex(),
            "ts_us": self.ts_us,
            "key_id": self.key_id,
            "signature": self.signature.hex(),
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Checkpoint:
        return cls(
            tree_size=int(data["tree_size"]),
            root_hash=bytes.fromhex(data["root_hash"]),
            chain_hash=bytes.fromhex(data["chain_hash"]),
            ts_us=int(data["ts_us"]),
            key_id=str(data["key_id"]),
            signature=bytes.fromhex(data["signature"]),
        )

    @classmethod
    def of(cls, row: AuditCheckpoint) -> Checkpoint:
        return cls(
            row.tree_size,
            bytes(row.root_hash),
            bytes(row.chain_hash),
            row.ts_us,
            row.key_id,
            bytes(row.signature),
        )


def checkpoints(session: Session) -> list[Checkpoint]:
    rows = session.scalars(select(AuditCheckpoint).order_by(AuditCheckpoint.tree_size))
    return [Checkpoint.of(row) for row in rows]


def latest_checkpoint(session: Session) -> Checkpoint | None:
    row = session.scalar(select(AuditCheckpoint).order_by(AuditCheckpoint.tree_size.desc()).limit(1))
    return Checkpoint.of(row) if row else None


def make_checkpoint(
    session: Session, signer: Signer, *, ts_us: int | None = None, frontier: merkle.Frontier | None = None
) -> Checkpoint | None:
    """Sign the current tree (size, root, chain head); returns the existing one if nothing was appended.

    A ``frontier`` kept between calls makes each checkpoint cost only the entries added since the last.
    """
    size, chain = head(session)
    if size == 0:
        return None
    latest = latest_checkpoint(session)
    if latest is not None and latest.tree_size == size:
        return latest
    if frontier is None:
        root = merkle.root(_leaf_hashes(session.connection(), size))
    else:
        for leaf in _leaf_hashes(session.connection(), size, start=frontier.size + 1):
            frontier.append(leaf)
        root = frontier.root()
    stamp = now_us() if ts_us is None else ts_us
    cp = Checkpoint(size, root, chain, stamp, signer.key_id, signer.sign(statement(size, root, chain, stamp)))
    session.add(
        AuditCheckpoint(
            tree_size=size,
            root_hash=root,
            chain_hash=chain,
            ts_us=stamp,
            key_id=cp.key_id,
            signature=cp.signature,
        )
    )
    session.flush()
    return cp


@dataclass(frozen=True)
class InclusionProof:
    seq: int
    leaf: bytes
    entry_hash: bytes
    checkpoint: Checkpoint
    path: list[bytes]

    def verify(self, public: Ed25519PublicKey) -> bool:
        """Check the leaf's hash, the audit path to the checkpoint root, and the checkpoint signature."""
        return (
            merkle.leaf_hash(self.leaf) == self.entry_hash
            and int.from_bytes(self.leaf[HASH_BYTES:HEADER_BYTES], "big") == self.seq
            and merkle.verify_inclusion(
                self.seq - 1, self.checkpoint.tree_size, self.entry_hash, self.path, self.checkpoint.root_hash
            )
            and verify_statement(public, self.checkpoint.signature, self.checkpoint.statement())
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "seq": self.seq,
            "leaf": self.leaf.hex(),
            "entry_hash": self.entry_hash.hex(),
            "checkpoint": self.checkpoint.to_json(),
            "path": [p.hex() for p in self.path],
        }


def inclusion_proof(session: Session, seq: int) -> InclusionProof:
    """Prove entry ``seq`` is in the latest signed checkpoint."""
    entry = session.get(AuditEntry, seq)
    if entry is None:
        raise NotFound(f"no audit entry {seq}")
    cp = latest_checkpoint(session)
    if cp is None or cp.tree_size < seq:
        raise NotFound(f"entry {seq} is not covered by a checkpoint yet; run `mamoru audit checkpoint`")
    hashes = _leaf_hashes(session.connection(), cp.tree_size)
    return InclusionProof(
        seq, bytes(entry.leaf), bytes(entry.entry_hash), cp, merkle.inclusion_proof(seq - 1, hashes)
    )


def inclusion_proofs(session: Session, seqs: Sequence[int], checkpoint: Checkpoint) -> list[InclusionProof]:
    """Proofs of many entries against one checkpoint, reading the tree's leaf hashes once."""
    wanted = [s for s in seqs if 1 <= s <= checkpoint.tree_size]
    if not wanted:
        return []
    hashes = _leaf_hashes(session.connection(), checkpoint.tree_size)
    entries = {e.seq: e for e in session.scalars(select(AuditEntry).where(AuditEntry.seq.in_(wanted)))}
    return [
        InclusionProof(
            seq,
            bytes(entries[seq].leaf),
            bytes(entries[seq].entry_hash),
            checkpoint,
            merkle.inclusion_proof(seq - 1, hashes),
        )
        for seq in wanted
    ]


def consistency_proof(session: Session, first: int, second: int) -> list[bytes]:
    """Prove the tree of ``first`` entries is a prefix of the tree of ``second`` entries."""
    size, _ = head(session)
    if not 0 <= first <= second <= size:
        raise NotFound(f"sizes must satisfy 0 ≤ {first} ≤ {second} ≤ {size}")
    return merkle.consistency_proof(first, _leaf_hashes(session.connection(), second))


# --- verification -------------------------------------------------------------------------------


@dataclass
class VerifyReport:
    """The outcome: intact, or the first sequence number at which the log is not what it claims."""

    ok: bool
    entries: int
    checkpoints_checked: int
    first_bad_seq: int | None = None
    reason: str | None = None
    seconds: float = 0.0
    head_hash: str = ""
    witness_checked: int = 0

    def to_json(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "entries": self.entries,
            "checkpoints_checked": self.checkpoints_checked,
            "witness_checkpoints_checked": self.witness_checked,
            "first_bad_seq": self.first_bad_seq,
            "reason": self.reason,
            "head_hash": self.head_hash,
            "seconds": round(self.seconds, 3),
        }


#: Verification reads the whole table once; memory-mapped pages save a copy per page (about 1.7× here).
VERIFY_MMAP_BYTES = 1 << 30


def _stream(
    db: Database, first: int, last: int | None, batch: int = 20_000
) -> Iterator[tuple[int, bytes, bytes]]:
    raw = db.engine.raw_connection()
    driver: Any = raw.driver_connection
    postgres = db.engine.dialect.name == "postgresql"
    cursor = driver.cursor(name="mamoru_audit_verify") if postgres else driver.cursor()
    try:
        if not postgres:
            cursor.execute(f"PRAGMA mmap_size={VERIFY_MMAP_BYTES}")
        mark = "%s" if postgres else "?"
        bound = f" AND seq <= {mark}" if last is not None else ""
        params = (first, last) if last is not None else (first,)
        cursor.execute(
            f"SELECT seq, leaf, entry_hash FROM audit_entries WHERE seq >= {mark}{bound} ORDER BY seq", params
        )
        while rows := cursor.fetchmany(batch):
            yield from rows
    finally:
        cursor.close()
        if not postgres:
            driver.execute("PRAGMA mmap_size=0")  # the pooled connection goes back as it was
        raw.close()


Targets = dict[int, list[tuple[str, Checkpoint]]]


@dataclass
class _Walk:
    """What one pass over a range of entries found."""

    count: int = 0
    last_hash: bytes = GENESIS
    bad_seq: int | None = None
    reason: str | None = None
    checkpoints: int = 0
    witnesses: int = 0


def _walk(
    db: Database,
    first: int,
    last: int | None,
    prev: bytes,
    targets: Targets,
    public: Ed25519PublicKey | None,
    deep: bool,
) -> _Walk:
    """Check entries ``first..last``: position, link, hash; and every signed target in the range."""
    walk = _Walk(last_hash=prev)
    stops = sorted(size for size in targets if size >= first and (last is None or size <= last))
    stop_index, next_stop = 0, (stops[0] if stops else -1)
    frontier = merkle.Frontier() if deep else None
    expected = first
    hash_ = sha256
    for seq, leaf, stored_hash in _stream(db, first, last):
        if seq != expected:
            walk.bad_seq, walk.reason = expected, f"entry {expected} is missing"
            return walk
        if leaf[:HASH_BYTES] != prev:
            walk.bad_seq, walk.reason = seq, "the entry does not link to the previous entry's hash"
            return walk
        prev = hash_(b"\x00" + leaf).digest()
        if prev != stored_hash:
            walk.bad_seq, walk.reason = seq, "the entry's content does not match its hash"
            return walk
        if frontier is not None:
            frontier.append(prev)
        if seq == next_stop:
            for kind, cp in targets[seq]:
                problem = None
                if cp.chain_hash != prev:
                    problem = f"the chain at {seq} entries does not match the signed {kind}"
                elif frontier is not None and frontier.root() != cp.root_hash:
                    problem = f"the Merkle tree of {seq} entries does not match the signed {kind}"
                elif public is not None and not verify_statement(public, cp.signature, cp.statement()):
                    problem = f"the signature of the {kind} at {seq} entries is not valid"
                if problem:
                    walk.bad_seq, walk.reason = seq, problem
                    return walk
                if kind == "checkpoint":
                    walk.checkpoints += 1
                else:
                    walk.witnesses += 1
            stop_index += 1
            next_stop = stops[stop_index] if stop_index < len(stops) else -1
        expected += 1
    walk.count = expected - first
    walk.last_hash = prev
    return walk


def _walk_in_child(
    url: str, first: int, last: int, prev: bytes, targets: Targets, public_pem: str | None
) -> _Walk:
    from mamoru.audit.signing import load_public_key_pem

    db = Database(url)
    try:
        public = load_public_key_pem(public_pem) if public_pem else None
        return _walk(db, first, last, prev, targets, public, False)
    finally:
        db.dispose()


#: Below this many entries one process is faster than starting helpers.
PARALLEL_MIN_ENTRIES = 400_000


def _walk_parallel(
    db: Database, size: int, targets: Targets, public: Ed25519PublicKey | None, workers: int
) -> list[_Walk]:
    """Split 1..size into ranges walked by helper processes. Each range starts from the stored hash of
    the entry before it; that hash is checked by the range that ends there, so the chain stays whole.
    """
    from concurrent.futures import ProcessPoolExecutor
    from multiprocessing import get_context

    from mamoru.audit.signing import public_key_pem

    bounds = [1 + size * i // workers for i in range(workers)] + [size + 1]
    with db.session() as session:
        starts = {
            seq: bytes(h)
            for seq, h in session.execute(
                select(AuditEntry.seq, AuditEntry.entry_hash).where(
                    AuditEntry.seq.in_([b - 1 for b in bounds[1:-1]])
                )
            )
        }
    pem = public_key_pem(public) if public is not None else None
    url = db.engine.url.render_as_string(hide_password=False)
    # Fork is cheap but only safe without other threads; no pooled connection may cross it either.
    db.engine.dispose()
    method = "fork" if threading.active_count() == 1 else "spawn"
    with ProcessPoolExecutor(max_workers=workers, mp_context=get_context(method)) as pool:
        futures = [
            pool.submit(
                _walk_in_child,
                url,
                bounds[i],
                bounds[i + 1] - 1,
                GENESIS if i == 0 else starts.get(bounds[i] - 1, b""),
                targets,
                pem,
            )
            for i in range(workers)
        ]
        walks = [f.result() for f in futures]
    for i, walk in enumerate(walks):
        span = bounds[i + 1] - bounds[i]
        if walk.bad_seq is None and walk.count != span:
            walk.bad_seq, walk.reason = bounds[i] + walk.count, f"entry {bounds[i] + walk.count} is missing"
    return walks


def verify(
    db: Database,
    public: Ed25519PublicKey | None,
    *,
    witness: Sequence[Checkpoint] = (),
    deep: bool = False,
    workers: int | None = None,
) -> VerifyReport:
    """Walk every entry: position, link to the previous hash, hash. At each signed checkpoint (and each
    ``witness`` checkpoint kept by an outside party) check the chain head and the signature; with
    ``deep``, also rebuild the Merkle tree and check every root. Large logs are split across processes.
    """
    started = time.perf_counter()
    with db.session() as session:
        stored = checkpoints(session)
        head_seq, head_hash = head(session)
    targets: Targets = {}
    for cp in stored:
        targets.setdefault(cp.tree_size, []).append(("checkpoint", cp))
    for cp in witness:
        targets.setdefault(cp.tree_size, []).append(("witness", cp))
    report = VerifyReport(ok=True, entries=0, checkpoints_checked=0)

    def done(bad_seq: int | None = None, reason: str | None = None) -> VerifyReport:
        if bad_seq is not None:
            report.ok, report.first_bad_seq, report.reason = False, bad_seq, reason
        report.seconds = time.perf_counter() - started
        return report

    if workers is None:
        workers = min(os.cpu_count() or 1, 8) if head_seq >= PARALLEL_MIN_ENTRIES and not deep else 1
    walks = (
        _walk_parallel(db, head_seq, targets, public, workers)
        if workers > 1 and head_seq >= workers
        else [_walk(db, 1, None, GENESIS, targets, public, deep)]
    )
    count = 0
    for walk in walks:
        report.checkpoints_checked += walk.checkpoints
        report.witness_checked += walk.witnesses
        if walk.bad_seq is not None:
            return done(walk.bad_seq, walk.reason)
        count += walk.count
        report.entries = count
    last_hash = walks[-1].last_hash if count else GENESIS
    if head_seq != count or (count and head_hash != last_hash):
        return done(
            count + 1, f"the head says {head_seq} entries but {count} are present; entries were removed"
        )
    beyond = [size for size in targets if size > count]
    if beyond:
        return done(count + 1, f"a signed checkpoint covers {max(beyond)} entries but only {count} exist")
    report.head_hash = last_hash.hex() if count else ""
    return done()


# --- queries ------------------------------------------------------------------------------------


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


def record_verification(
    session: Session, report: VerifyReport, *, by: str, at: datetime | None = None
) -> None:
    """Keep the outcome of a verification run (it is not an audit entry: the log may be the broken thing)."""
    session.add(
        AuditVerification(
            run_at=at or datetime.now(UTC),
            run_by=by,
            ok=report.ok,
            entries=report.entries,
            checkpoints_checked=report.checkpoints_checked,
            first_bad_seq=report.first_bad_seq,
            reason=(report.reason or "")[:200] or None,
            head_hash=report.head_hash,
            seconds=report.seconds,
        )
    )


def last_verification(session: Session) -> AuditVerification | None:
    return session.scalar(select(AuditVerification).order_by(AuditVerification.id.desc()).limit(1))
