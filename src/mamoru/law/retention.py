"""Retention arithmetic and review intervals: pure date functions."""

from __future__ import annotations

from datetime import datetime

#: JIS Q 15001 A.3.3.1: the ledger is reviewed at least once a year.
LEDGER_REVIEW_DAYS = 365
#: APPI Art. 21(1) "promptly": days to notify the purpose when it was not published in advance.
#: A design choice, not a number in the law (APPI-REQUIREMENTS §5); configurable.
ACQUISITION_NOTICE_DAYS = 5


def review_overdue(
    last_reviewed: datetime | None, now: datetime, interval_days: int = LEDGER_REVIEW_DAYS
) -> bool:
    """A ledger entry never reviewed, or last reviewed more than ``interval_days`` ago, is overdue."""
    return last_reviewed is None or (now - last_reviewed).days > interval_days
