"""Published versions of the public notice, and the purpose versions each put in force."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Boolean, Date, ForeignKey, Integer, String, Text, UniqueConstraint
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


class PurposeVersion(Base):
    """One version of a purpose as it was put in force by a publication: its text, whether its change was
    reasonably related to the previous version and why (APPI Art. 17(2)), who approved it by publishing,
    and its improper-use assessment (Art. 19)."""

    __tablename__ = "purpose_versions"
    __table_args__ = (UniqueConstraint("purpose_id", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    purpose_id: Mapped[str] = mapped_column(String(64), index=True)
    version: Mapped[int] = mapped_column(Integer)
    notice_id: Mapped[int] = mapped_column(ForeignKey("published_notices.id"))
    text_ja: Mapped[str] = mapped_column(Text)
    text_en: Mapped[str] = mapped_column(Text)
    related: Mapped[bool | None] = mapped_column(Boolean, default=None)  # None: the first version
    justification_ja: Mapped[str | None] = mapped_column(Text, default=None)
    justification_en: Mapped[str | None] = mapped_column(Text, default=None)
    approved_by: Mapped[str] = mapped_column(String(64))
    assessed_by: Mapped[str] = mapped_column(String(200))
    assessed_on: Mapped[date] = mapped_column(Date)
    published_at: Mapped[datetime] = mapped_column(default=utcnow)
