"""Signed checkpoints of the Merkle tree over the log, and inclusion and consistency proofs."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from sqlalchemy import Connection, select
from sqlalchemy.orm import Session

from mamoru.audit import merkle
from mamoru.audit.chain import head, now_us
from mamoru.audit.entry import HASH_BYTES, HEADER_BYTES
from mamoru.audit.signing import Signer, chained_statement, checkpoint_hash, statement, verify_statement
from mamoru.audit.tables import AuditCheckpoint, AuditEntry
from mamoru.errors import NotFound

#: What checkpoint 1 signs as the previous checkpoint's hash when no checkpoint came before it.
GENESIS_CHECKPOINT = b"\x00" * 32


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
    #: 1, 2, 3…; None for a checkpoint signed before checkpoints were numbered and chained.
    number: int | None = None
    prev_hash: bytes | None = None

    def statement(self) -> bytes:
        if self.number is None:
            return statement(self.tree_size, self.root_hash, self.chain_hash, self.ts_us)
        return chained_statement(
            self.number, self.tree_size, self.root_hash, self.chain_hash, self.ts_us, self.prev_hash or b""
        )

    @property
    def hash(self) -> bytes:
        """What the next checkpoint signs as its ``prev_hash``."""
        return checkpoint_hash(self.statement())

    def to_json(self) -> dict[str, Any]:
        return {
            "number": self.number,
            "tree_size": self.tree_size,
            "root_hash": self.root_hash.hex(),
            "chain_hash": self.chain_hash.hex(),
            "ts_us": self.ts_us,
            "prev_hash": self.prev_hash.hex() if self.prev_hash is not None else None,
            "key_id": self.key_id,
            "signature": self.signature.hex(),
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Checkpoint:
        number, prev = data.get("number"), data.get("prev_hash")
        return cls(
            tree_size=int(data["tree_size"]),
            root_hash=bytes.fromhex(data["root_hash"]),
            chain_hash=bytes.fromhex(data["chain_hash"]),
            ts_us=int(data["ts_us"]),
            key_id=str(data["key_id"]),
            signature=bytes.fromhex(data["signature"]),
            number=int(number) if number is not None else None,
            prev_hash=bytes.fromhex(prev) if prev is not None else None,
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
            row.number,
            bytes(row.prev_hash) if row.prev_hash is not None else None,
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
    """Sign the current tree (number, size, root, chain head, the previous checkpoint's hash); returns the
    existing one if nothing was appended. Two signers at once: one insert fails on the unique number
    (or size) and its caller tries again later.

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
    number = (latest.number or 0) + 1 if latest is not None else 1
    prev = latest.hash if latest is not None else GENESIS_CHECKPOINT
    signed = chained_statement(number, size, root, chain, stamp, prev)
    cp = Checkpoint(size, root, chain, stamp, signer.key_id, signer.sign(signed), number, prev)
    session.add(
        AuditCheckpoint(
            number=number,
            tree_size=size,
            root_hash=root,
            chain_hash=chain,
            ts_us=stamp,
            prev_hash=prev,
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
