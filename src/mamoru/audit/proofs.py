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
from mamoru.audit.signing import Signer, statement, verify_statement
from mamoru.audit.tables import AuditCheckpoint, AuditEntry
from mamoru.errors import NotFound


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
