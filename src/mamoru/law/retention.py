"""Retention arithmetic and review intervals: pure date functions."""

from __future__ import annotations

from datetime import date, datetime

from mamoru.law.periods import period_end

#: JIS Q 15001 A.3.3.1: the ledger is reviewed at least once a year.
LEDGER_REVIEW_DAYS = 365
#: APPI Art. 21(1) "promptly": days to notify the purpose when it was not published in advance.
#: A design choice, not a number in the law (APPI-REQUIREMENTS §5); configurable.
ACQUISITION_NOTICE_DAYS = 5


def add_period(start: date, *, years: int = 0, months: int = 0, days: int = 0) -> date:
    """The last day of a period from ``start``: :func:`mamoru.law.periods.period_end` (Civil Code)."""
    return period_end(start, years=years, months=months, days=days)


def review_overdue(
    last_reviewed: datetime | None, now: datetime, interval_days: int = LEDGER_REVIEW_DAYS
) -> bool:
    """A ledger entry never reviewed, or last reviewed more than ``interval_days`` ago, is overdue."""
    return last_reviewed is None or (now - last_reviewed).days > interval_days
