"""Encrypted field values. The keys that open them live in the key store, not here."""

from __future__ import annotations

from sqlalchemy import ForeignKey, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from mamoru.store.db import Base


class SubjectField(Base):
    """One encrypted personal value of a subject; ``blind_index`` only for searchable fields."""

    __tablename__ = "subject_fields"

    subject_id: Mapped[str] = mapped_column(
        String(36), ForeignKey("data_subjects.id", ondelete="CASCADE"), primary_key=True
    )
    field: Mapped[str] = mapped_column(String(64), primary_key=True)
    ciphertext: Mapped[bytes] = mapped_column(LargeBinary)
    blind_index: Mapped[str | None] = mapped_column(String(64), index=True, default=None)
