"""The audit tables. ``audit_entries`` is the record; ``audit_refs`` is only an index into it."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Boolean, Float, Integer, LargeBinary, PrimaryKeyConstraint, String
from sqlalchemy.orm import Mapped, mapped_column

from mamoru.store.db import Base, utcnow


class AuditEntry(Base):
    """One entry: its sequence number, its leaf bytes and their hash. Never updated, never deleted."""

    __tablename__ = "audit_entries"

    seq: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    leaf: Mapped[bytes] = mapped_column(LargeBinary)
    entry_hash: Mapped[bytes] = mapped_column(LargeBinary(32))


class AuditRef(Base):
    """Which entries concern a subject, an actor or a purpose.

    Derived data: built from the leaves after they are committed (:func:`mamoru.audit.query.build_index`),
    so appends stay one insert per entry; queries bring it up to date first.
    """

    __tablename__ = "audit_refs"
    # One b-tree keyed the way queries read it; on SQLite without a separate rowid table.
    __table_args__ = (PrimaryKeyConstraint("kind", "value", "seq"), {"sqlite_with_rowid": False})

    kind: Mapped[str] = mapped_column(String(8))
    value: Mapped[str] = mapped_column(String(128))
    seq: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"))


class AuditIndexState(Base):
    """How far ``audit_refs`` has been built from the entries (the index trails the record)."""

    __tablename__ = "audit_index_state"

    id: Mapped[int] = mapped_column(primary_key=True)
    indexed_upto: Mapped[int] = mapped_column(BigInteger)


class AuditHead(Base):
    """The single row that serializes appends: the last sequence number and its hash."""

    __tablename__ = "audit_head"

    id: Mapped[int] = mapped_column(primary_key=True)
    last_seq: Mapped[int] = mapped_column(BigInteger)
    last_hash: Mapped[bytes] = mapped_column(LargeBinary(32))


class AuditCheckpoint(Base):
    """A signed statement of the tree size, its Merkle root (RFC 6962) and the chain head at that size.

    Checkpoints are numbered 1, 2, 3… and each signs the hash of the one before (``prev_hash``), so a
    removed or replaced checkpoint breaks the chain of checkpoints. Rows signed before numbering
    (``number`` null) keep their first statement format and come before checkpoint 1.
    """

    __tablename__ = "audit_checkpoints"

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[int | None] = mapped_column(BigInteger, unique=True, index=True, default=None)
    prev_hash: Mapped[bytes | None] = mapped_column(LargeBinary(32), default=None)
    tree_size: Mapped[int] = mapped_column(BigInteger, unique=True)
    root_hash: Mapped[bytes] = mapped_column(LargeBinary(32))
    chain_hash: Mapped[bytes] = mapped_column(LargeBinary(32))
    ts_us: Mapped[int] = mapped_column(BigInteger)
    key_id: Mapped[str] = mapped_column(String(16))
    signature: Mapped[bytes] = mapped_column(LargeBinary(64))


class AuditVerification(Base):
    """The outcome of one verification run, signed, for the status page and the management review."""

    __tablename__ = "audit_verifications"

    id: Mapped[int] = mapped_column(primary_key=True)
    run_at: Mapped[datetime] = mapped_column(default=utcnow)
    run_by: Mapped[str] = mapped_column(String(64))
    ok: Mapped[bool] = mapped_column(Boolean)
    entries: Mapped[int] = mapped_column(BigInteger)
    checkpoints_checked: Mapped[int] = mapped_column(Integer)
    first_bad_seq: Mapped[int | None] = mapped_column(BigInteger, default=None)
    reason: Mapped[str | None] = mapped_column(String(200), default=None)
    head_hash: Mapped[str] = mapped_column(String(64), default="")
    seconds: Mapped[float] = mapped_column(Float)
    #: The newest checkpoint the run found intact: a later run that finds fewer was cut back.
    checkpoint_number: Mapped[int | None] = mapped_column(BigInteger, default=None)
    #: The workspace's signature over the result (:func:`mamoru.audit.verification.result_statement`);
    #: a row without a valid one was not written by mamoru and is shown as not verified.
    key_id: Mapped[str | None] = mapped_column(String(16), default=None)
    signature: Mapped[bytes | None] = mapped_column(LargeBinary(64), default=None)
