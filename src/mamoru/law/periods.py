"""Legal periods by the Civil Code (民法 Arts. 140, 141, 143): the one place a statutory period is counted.

Every module that asks "until when" (record retention, retention from an event, the breach report clock,
the request clock, the My Number documents, the purpose notice) asks :func:`period_end`, so a reading of
the Code is changed in one place and tested once.

- Art. 140: a period of days, weeks, months or years does not count its first day (初日不算入), unless it
  starts at the beginning of that day (``first_day_counts``: "from 11 January", "including the day").
- Art. 141: the period ends when its last day ends; the last day is what is returned.
- Art. 143: weeks, months and years follow the calendar; the period ends on the day before the day that
  corresponds to its first counted day, and on the last day of the month where that month has no
  corresponding day (a month from 31 January ends on 28 or 29 February; a month counted from 1 March
  ends on 31 March).
"""

from __future__ import annotations

import calendar
from datetime import date, timedelta


def period_end(
    start: date,
    *,
    years: int = 0,
    months: int = 0,
    weeks: int = 0,
    days: int = 0,
    first_day_counts: bool = False,
) -> date:
    """The last day of a period that starts on ``start`` (the day of the event, the receipt, the awareness).

    The first day is not counted unless ``first_day_counts`` (Art. 140). Years, months and weeks end on
    the day before the corresponding day, or on the month's last day when there is none (Art. 143);
    ``days`` are then added one by one. A zero period ends on ``start`` itself.
    """
    if min(years, months, weeks, days) < 0:
        raise ValueError("a legal period is not negative")
    first = start if first_day_counts else start + timedelta(days=1)
    if not (years or months or weeks or days):
        return start
    end = first - timedelta(days=1)  # the day before the first counted day: a period of nothing
    total_months = 12 * years + months
    if total_months:
        index = first.month - 1 + total_months
        year, month = first.year + index // 12, index % 12 + 1
        last_day = calendar.monthrange(year, month)[1]
        if first.day > last_day:
            end = date(year, month, last_day)  # Art. 143(2) proviso: no corresponding day
        else:
            end = date(year, month, first.day) - timedelta(days=1)
    end += timedelta(weeks=weeks, days=days)
    return end
