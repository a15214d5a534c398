"""Data subjects. Their personal values live encrypted in the vault, never here."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from mamoru.store.db import Base, utcnow


class DataSubject(Base):
    """A person whose data the organization holds, known here only by an opaque reference."""

    __tablename__ = "data_subjects"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    kind: Mapped[str] = mapped_column(String(64), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
