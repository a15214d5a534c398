"""Cessations (APPI Art. 35): a stop of use for a purpose (or every purpose), or of provision to a
recipient (or every recipient), that a subject asked for. The guard refuses what a cessation in force
stops; this module is the one place that records them."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from sqlalchemy.orm import Session

from mamoru.ledger.tables import Cessation

CessationKind = Literal["stop_use", "stop_provision"]


def record_cessation(
    session: Session,
    *,
    subject_id: str,
    kind: CessationKind,
    source_ref: str,
    effective_at: datetime,
    purpose: str | None = None,
    recipient: str | None = None,
) -> Cessation:
    """Record a stop in the caller's transaction. ``purpose`` (for ``stop_use``) or ``recipient`` (for
    ``stop_provision``) ``None`` stops every one; ``source_ref`` names what asked for it (a request).
    The caller audits the act that caused it."""
    if kind == "stop_use" and recipient is not None:
        raise ValueError("a stop of use names a purpose, not a recipient")
    if kind == "stop_provision" and purpose is not None:
        raise ValueError("a stop of provision names a recipient, not a purpose")
    row = Cessation(
        subject_id=subject_id,
        kind=kind,
        purpose=purpose,
        recipient=recipient,
        effective_at=effective_at,
        source_ref=source_ref,
    )
    session.add(row)
    return row
