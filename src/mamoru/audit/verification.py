"""Verification: walk the whole chain, check every signed and witnessed checkpoint, keep the outcome."""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from hashlib import sha256
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from sqlalchemy import select
from sqlalchemy.orm import Session

from mamoru.audit import merkle
from mamoru.audit.chain import head
from mamoru.audit.entry import GENESIS, HASH_BYTES
from mamoru.audit.proofs import Checkpoint, checkpoints
from mamoru.audit.signing import verify_statement
from mamoru.audit.tables import AuditEntry, AuditVerification
from mamoru.store.db import Database


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
