"""Requests, their fulfilment journal and their documents.

What the requester wrote (name, e-mail, the corrections asked for, the office's free-text reasons) is
sealed with a key of the request's own in the key store; the rows hold only codes, times and hashes.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, Integer, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from mamoru.store.db import Base, utcnow


class SubjectRequest(Base):
    __tablename__ = "subject_requests"
    __table_args__ = (
        #: the dashboard's open, escalated and late counts read only this index
        Index("ix_subject_requests_status_clock", "status", "escalated_at", "breached_at"),
        #: the queue sorted by kind or by status (then by id, either way) reads a page from the index
        Index("ix_subject_requests_kind_id", "kind", "id"),
        Index("ix_subject_requests_status_id", "status", "id"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    ref: Mapped[str] = mapped_column(String(24), unique=True)
    kind: Mapped[str] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(24))
    lang: Mapped[str] = mapped_column(String(2), default="ja")
    channel: Mapped[str] = mapped_column(String(16), default="portal")
    method: Mapped[str | None] = mapped_column(String(16), default=None)
    by_agent: Mapped[bool] = mapped_column(default=False)
    agent_kind: Mapped[str | None] = mapped_column(String(24), default=None)
    grounds: Mapped[list[str]] = mapped_column(JSON, default=list)
    purposes: Mapped[list[str]] = mapped_column(JSON, default=list)
    recipients: Mapped[list[str]] = mapped_column(JSON, default=list)
    status_token_sha256: Mapped[str] = mapped_column(String(64), unique=True)
    email_index: Mapped[str] = mapped_column(String(64), index=True)
    code_hash: Mapped[str | None] = mapped_column(String(64), default=None)
    code_expires_at: Mapped[datetime | None] = mapped_column(default=None)
    code_attempts: Mapped[int] = mapped_column(Integer, default=0)
    codes_sent: Mapped[int] = mapped_column(Integer, default=0)
    sealed: Mapped[bytes] = mapped_column(LargeBinary)
    fee_yen: Mapped[int] = mapped_column(Integer, default=0)
    fee_status: Mapped[str] = mapped_column(String(16), default="none")
    subjects: Mapped[list[str]] = mapped_column(JSON, default=list)
    received_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    acknowledge_by: Mapped[datetime] = mapped_column()
    escalate_at: Mapped[datetime] = mapped_column()
    due_at: Mapped[datetime] = mapped_column(index=True)
    acknowledged_at: Mapped[datetime | None] = mapped_column(default=None)
    verified_at: Mapped[datetime | None] = mapped_column(default=None)
    approved_at: Mapped[datetime | None] = mapped_column(default=None)
    approved_by: Mapped[str | None] = mapped_column(String(64), default=None)
    completed_at: Mapped[datetime | None] = mapped_column(default=None, index=True)
    escalated_at: Mapped[datetime | None] = mapped_column(default=None)
    breached_at: Mapped[datetime | None] = mapped_column(default=None)
    outcome: Mapped[str | None] = mapped_column(String(16), default=None)
    refusal_ground: Mapped[str | None] = mapped_column(String(48), default=None)
    decided_by: Mapped[str | None] = mapped_column(String(64), default=None)
    #: When the status link was last renewed and mailed again at the requester's asking, and how often.
    link_sent_at: Mapped[datetime | None] = mapped_column(default=None)
    links_sent: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    #: Blind indexes of the other identifiers the requester gave (field -> index; never the values).
    identifiers: Mapped[dict[str, str] | None] = mapped_column(JSON, default=dict)
    #: Why an identity document must be checked before approval (requests.matching.IdentityNeed).
    identity_needs: Mapped[list[str] | None] = mapped_column(JSON, default=list)


class RequestCandidate(Base):
    """A data subject a request may be about: how well it matched and why (reason codes), and the
    office's last decision by hand. ``SubjectRequest.subjects`` holds those linked."""

    __tablename__ = "request_candidates"

    request_id: Mapped[str] = mapped_column(
        ForeignKey("subject_requests.id", ondelete="CASCADE"), primary_key=True
    )
    subject_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    score: Mapped[int] = mapped_column(Integer, default=0)
    reasons: Mapped[list[str]] = mapped_column(JSON, default=list)
    #: linked | unlinked, when the office decided by hand; None while only matched.
    decision: Mapped[str | None] = mapped_column(String(16), default=None)
    decided_by: Mapped[str | None] = mapped_column(String(64), default=None)
    decided_at: Mapped[datetime | None] = mapped_column(default=None)


class RequestStep(Base):
    """One step of a request's fulfilment plan; ``done`` is set in the same transaction as its effect."""

    __tablename__ = "request_steps"

    request_id: Mapped[str] = mapped_column(
        ForeignKey("subject_requests.id", ondelete="CASCADE"), primary_key=True
    )
    position: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(64))
    target: Mapped[str | None] = mapped_column(String(64), default=None)
    done_at: Mapped[datetime | None] = mapped_column(default=None)
    result: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class RequestDocument(Base):
    """A document the requester sent (proof of an agent's authority, an identity document), sealed."""

    __tablename__ = "request_documents"

    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[str] = mapped_column(ForeignKey("subject_requests.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(24))  # authority | agent_identity | identity
    content_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int] = mapped_column(Integer)
    sealed: Mapped[bytes] = mapped_column(LargeBinary)
    uploaded_at: Mapped[datetime] = mapped_column(default=utcnow)
    checked_by: Mapped[str | None] = mapped_column(String(64), default=None)
    checked_at: Mapped[datetime | None] = mapped_column(default=None)
    accepted: Mapped[bool | None] = mapped_column(default=None)
