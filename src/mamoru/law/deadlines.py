"""The request clock (APPI Art. 39 and §5 of the requirements): pure date arithmetic.

A person may sue two weeks after a request reaches the business, so the answer is due at day 14;
the office is warned at day 10; receipt is acknowledged within two business days. Business days skip
Saturdays and Sundays only: national holidays are not in the calendar (a conservative choice: the
acknowledgement can only come due earlier, never later).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from mamoru.law.periods import period_end

#: Days are the days of the calendar in Japan: a request received at 23:30 JST arrived on that JST day.
JST = ZoneInfo("Asia/Tokyo")


def add_business_days(start: datetime, days: int) -> datetime:
    current = start
    left = days
    while left > 0:
        current += timedelta(days=1)
        if current.weekday() < 5:
            left -= 1
    return current


@dataclass(frozen=True)
class Clock:
    acknowledge_by: datetime
    escalate_at: datetime
    due_at: datetime


def _after_days(received_at: datetime, days: int) -> datetime:
    """``received_at`` moved to the last day of a period of ``days`` counted by the Civil Code (the day of
    receipt not counted), at the same time of day."""
    day = received_at.astimezone(JST).date() if received_at.tzinfo else received_at.date()
    return received_at + (period_end(day, days=days) - day)


def clock_for(received_at: datetime, *, ack_business_days: int, escalate_days: int, due_days: int) -> Clock:
    return Clock(
        acknowledge_by=add_business_days(received_at, ack_business_days),
        escalate_at=_after_days(received_at, escalate_days),
        due_at=_after_days(received_at, due_days),
    )
