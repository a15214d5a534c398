"""Per-subject data keys and encrypted field values."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from mamoru.store.db import Base, utcnow


class SubjectKey(Base):
    """A subject's data key, wrapped by the master key. Erasure deletes the wrapped key (crypto-erase)."""

    __tablename__ = "subject_keys"

    subject_id: Mapped[str] = mapped_column(
        String(36), ForeignKey("data_subjects.id", ondelete="CASCADE"), primary_key=True
    )
    wrapped_key: Mapped[bytes | None] = mapped_column(LargeBinary)
    kek_id: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    erased_at: Mapped[datetime | None] = mapped_column(default=None)


class SubjectField(Base):
    """One encrypted personal value of a subject; ``blind_index`` only for searchable fields."""

    __tablename__ = "subject_fields"

    subject_id: Mapped[str] = mapped_column(
        String(36), ForeignKey("data_subjects.id", ondelete="CASCADE"), primary_key=True
    )
    field: Mapped[str] = mapped_column(String(64), primary_key=True)
    ciphertext: Mapped[bytes] = mapped_column(LargeBinary)
    blind_index: Mapped[str | None] = mapped_column(String(64), index=True, default=None)
