"""Verification: walk the whole chain, check every signed and witnessed checkpoint, keep the outcome."""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from hashlib import sha256
from typing import Any, Literal

import orjson
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from sqlalchemy import select
from sqlalchemy.orm import Session

from mamoru.audit import merkle
from mamoru.audit.chain import head
from mamoru.audit.entry import GENESIS, HASH_BYTES
from mamoru.audit.proofs import GENESIS_CHECKPOINT, Checkpoint, checkpoints
from mamoru.audit.signing import Signer, verify_statement
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
    #: The newest numbered checkpoint found intact.
    checkpoint_number: int | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "entries": self.entries,
            "checkpoints_checked": self.checkpoints_checked,
            "witness_checkpoints_checked": self.witness_checked,
            "first_bad_seq": self.first_bad_seq,
            "reason": self.reason,
            "head_hash": self.head_hash,
            "checkpoint_number": self.checkpoint_number,
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
    if head_seq > count:
        return done(
            count + 1,
            f"the head row says {head_seq} entries but {count} are present: entries after {count} were removed",
        )
    if head_seq < count:
        return done(
            head_seq + 1,
            f"the head row says {head_seq} entries but {count} are present: the head was changed",
        )
    if count and head_hash != last_hash:
        return done(count, f"the head row's hash is not that of entry {count}: the head was changed")
    beyond = [size for size in targets if size > count]
    if beyond:
        return done(
            count + 1,
            f"a signed checkpoint covers {max(beyond)} entries but only {count} exist: the log was cut back",
        )
    broken = _checkpoint_chain(stored)
    if broken is not None:
        return done(*broken)
    numbered = [cp.number for cp in stored if cp.number is not None]
    report.checkpoint_number = max(numbered) if numbered else None
    if public is not None:
        with db.session() as session:
            floor = _last_trusted_intact(session, public)
        if floor is not None:
            when = floor.run_at.strftime("%Y-%m-%d %H:%M UTC")
            if floor.entries > count:
                return done(
                    count + 1,
                    f"the log held {floor.entries} entries when it was verified at {when}; {count} are left: "
                    "entries were removed",
                )
            seen = floor.checkpoint_number or 0
            if seen > (report.checkpoint_number or 0):
                return done(
                    max((cp.tree_size for cp in stored), default=0) + 1,
                    f"checkpoint {seen}, intact when the log was verified at {when}, is missing",
                )
    report.head_hash = last_hash.hex() if count else ""
    return done()


def _checkpoint_chain(stored: Sequence[Checkpoint]) -> tuple[int, str] | None:
    """Numbered checkpoints are 1, 2, 3… in order of size, each signing the hash of the one before; the
    first signs the hash of the last checkpoint signed before numbering (or zeros). A removed, replaced
    or reordered checkpoint breaks this, whether or not a witness kept a copy."""
    legacy = [cp for cp in stored if cp.number is None]
    numbered = sorted((cp for cp in stored if cp.number is not None), key=lambda cp: cp.number or 0)
    if numbered and legacy and legacy[-1].tree_size > numbered[0].tree_size:
        return legacy[-1].tree_size, "a checkpoint without a number comes after checkpoint 1: it was inserted"
    before = legacy[-1] if legacy else None
    for expected, cp in enumerate(numbered, start=1):
        after = before.tree_size + 1 if before is not None else 1
        if cp.number != expected:
            return after, f"checkpoint {expected} is missing: it was removed"
        if cp.prev_hash != (before.hash if before is not None else GENESIS_CHECKPOINT):
            name = f"checkpoint {expected - 1}" if expected > 1 else "the checkpoint before checkpoint 1"
            return (
                before.tree_size if before is not None else 1,
                f"checkpoint {expected} does not sign the hash of {name}: one of them was replaced",
            )
        if before is not None and cp.tree_size <= before.tree_size:
            return cp.tree_size, f"checkpoint {expected} covers no more entries than the one before it"
        before = cp
    return None


VERIFICATION_FORMAT = b"mamoru-verification/v1\n"
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def result_statement(row: AuditVerification) -> bytes:
    """What the workspace's key signs for a verification result: every field a page or the API shows."""
    run_at = row.run_at if row.run_at.tzinfo is not None else row.run_at.replace(tzinfo=UTC)
    body = {
        "run_at_us": (run_at - _EPOCH) // timedelta(microseconds=1),
        "run_by": row.run_by,
        "ok": bool(row.ok),
        "entries": int(row.entries),
        "checkpoints_checked": int(row.checkpoints_checked),
        "checkpoint_number": row.checkpoint_number,
        "first_bad_seq": row.first_bad_seq,
        "reason": row.reason,
        "head_hash": row.head_hash,
    }
    return VERIFICATION_FORMAT + orjson.dumps(body, option=orjson.OPT_SORT_KEYS)


def is_signed_by(row: AuditVerification, public: Ed25519PublicKey) -> bool:
    """True if the row carries the workspace's valid signature over its result."""
    if row.signature is None:
        return False
    return verify_statement(public, bytes(row.signature), result_statement(row))


def _last_trusted_intact(
    session: Session, public: Ed25519PublicKey, look_back: int = 50
) -> AuditVerification | None:
    rows = session.scalars(
        select(AuditVerification)
        .where(AuditVerification.ok.is_(True))
        .order_by(AuditVerification.run_at.desc(), AuditVerification.id.desc())
        .limit(look_back)
    )
    return next((row for row in rows if is_signed_by(row, public)), None)


def record_verification(
    session: Session, report: VerifyReport, *, by: str, signer: Signer | None, at: datetime | None = None
) -> AuditVerification:
    """Keep the outcome of a verification run, signed with the workspace's key (it is not an audit entry:
    the log may be the broken thing). An unsigned or forged row is shown as not verified."""
    row = AuditVerification(
        run_at=(at or datetime.now(UTC)).replace(microsecond=0),
        run_by=by,
        ok=report.ok,
        entries=report.entries,
        checkpoints_checked=report.checkpoints_checked,
        first_bad_seq=report.first_bad_seq,
        reason=(report.reason or "")[:200] or None,
        head_hash=report.head_hash,
        seconds=report.seconds,
        checkpoint_number=report.checkpoint_number,
    )
    if signer is not None:
        row.key_id, row.signature = signer.key_id, signer.sign(result_statement(row))
    session.add(row)
    return row


@dataclass(frozen=True)
class VerificationStatus:
    """The latest verification result as a page or the API may show it.

    ``state`` is ``never`` (no run kept), ``untrusted`` (the latest row's signature does not check: it
    was not written by mamoru, and nothing of it is shown), ``intact`` or ``broken``. ``run`` and
    ``age_seconds`` are set only for a signed result.
    """

    state: Literal["never", "untrusted", "intact", "broken"]
    run: AuditVerification | None = None
    age_seconds: int | None = None

    @property
    def trusted(self) -> bool:
        return self.run is not None

    @property
    def age_minutes(self) -> int | None:
        return None if self.age_seconds is None else self.age_seconds // 60


def verification_status(
    session: Session, public: Ed25519PublicKey | None, *, now: datetime
) -> VerificationStatus:
    """The latest verification result, trusted only if it carries the workspace's valid signature."""
    row = session.scalar(
        select(AuditVerification)
        .order_by(AuditVerification.run_at.desc(), AuditVerification.id.desc())
        .limit(1)
    )
    if row is None:
        return VerificationStatus("never")
    if public is None or not is_signed_by(row, public):
        return VerificationStatus("untrusted")
    run_at = row.run_at if row.run_at.tzinfo is not None else row.run_at.replace(tzinfo=UTC)
    return VerificationStatus(
        "intact" if row.ok else "broken", row, max(0, int((now - run_at).total_seconds()))
    )
