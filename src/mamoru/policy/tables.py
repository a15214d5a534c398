"""Published versions of the public notice."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from mamoru.store.db import Base, utcnow


class PublishedNotice(Base):
    """One published version of the privacy notice: the policy text it came from and its renderings."""

    __tablename__ = "published_notices"

    id: Mapped[int] = mapped_column(primary_key=True)
    policy_version: Mapped[str] = mapped_column(String(64))
    policy_sha256: Mapped[str] = mapped_column(String(64), unique=True)
    effective_from: Mapped[date] = mapped_column(Date)
    revised_on: Mapped[date] = mapped_column(Date)
    published_at: Mapped[datetime] = mapped_column(default=utcnow)
    published_by: Mapped[str] = mapped_column(String(64))
    source: Mapped[str] = mapped_column(Text)
    html_ja: Mapped[str] = mapped_column(Text)
    html_en: Mapped[str] = mapped_column(Text)
