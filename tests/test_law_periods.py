"""Legal periods by the Civil Code (Arts. 140, 143), the one function every clock uses."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from mamoru.law import breach, deadlines
from mamoru.law.mynumber import NumberDocument, purge_after
from mamoru.law.periods import period_end
from mamoru.transfers.records import RecordMode
from mamoru.transfers.records import purge_after as record_purge_after


@pytest.mark.parametrize(
    ("start", "period", "end"),
    [
        # Art. 140: the first day is not counted, so 1 day from 1 May ends on 2 May.
        (date(2026, 5, 1), {"days": 1}, date(2026, 5, 2)),
        (date(2026, 5, 1), {"days": 30}, date(2026, 5, 31)),
        # Art. 143: the end on the day that corresponds to the event day.
        (date(2026, 3, 15), {"months": 1}, date(2026, 4, 15)),
        (date(2025, 6, 30), {"years": 1}, date(2026, 6, 30)),
        (date(2018, 2, 1), {"years": 3}, date(2021, 2, 1)),
        # Art. 143(2) proviso: no corresponding day, so the month's last day.
        (date(2027, 1, 31), {"months": 1}, date(2027, 2, 28)),
        (date(2028, 1, 31), {"months": 1}, date(2028, 2, 29)),
        (date(2027, 1, 30), {"months": 1}, date(2027, 2, 28)),
        (date(2027, 3, 31), {"months": 1}, date(2027, 4, 30)),
        (date(2028, 2, 29), {"years": 1}, date(2029, 2, 28)),
        # Counted from the first of a month (the event on the last day of the one before), the period
        # ends at a month's end: a month from 28 February 2027 ends on 31 March, not 28 March.
        (date(2027, 2, 28), {"months": 1}, date(2027, 3, 31)),
        (date(2027, 4, 30), {"months": 1}, date(2027, 5, 31)),
        (date(2027, 2, 28), {"years": 1}, date(2028, 2, 29)),
        (date(2026, 12, 31), {"months": 2}, date(2027, 2, 28)),
        (date(2026, 5, 1), {"weeks": 2}, date(2026, 5, 15)),
        (date(2026, 5, 1), {}, date(2026, 5, 1)),
    ],
)
def test_civil_code_140_143_period_end(start: date, period: dict[str, int], end: date) -> None:
    assert period_end(start, **period) == end


@pytest.mark.parametrize(
    ("start", "period", "end"),
    [
        # A period "from" a day that starts at its beginning counts that day (Art. 140 proviso).
        (date(2027, 1, 11), {"years": 7}, date(2034, 1, 10)),
        (date(2026, 5, 1), {"days": 30}, date(2026, 5, 30)),
        (date(2027, 2, 1), {"months": 1}, date(2027, 2, 28)),
        (date(2027, 1, 31), {"months": 1}, date(2027, 2, 28)),
    ],
)
def test_civil_code_140_proviso_when_the_first_day_counts(
    start: date, period: dict[str, int], end: date
) -> None:
    assert period_end(start, first_day_counts=True, **period) == end


def test_civil_code_a_negative_period_is_refused() -> None:
    with pytest.raises(ValueError, match="not negative"):
        period_end(date(2026, 1, 1), days=-1)


def test_civil_code_every_clock_counts_by_the_same_function() -> None:
    """The breach clock, the request clock, the record and My Number retention all end where the Code
    says, month-end cases included (a module that adds days itself would miss these)."""
    aware = datetime(2027, 1, 31, 9, 0, tzinfo=UTC)
    clock = breach.report_clock(aware, improper_purpose=False)
    assert clock.final_lenient == period_end(aware.date(), days=30) == date(2027, 3, 2)
    assert clock.final_conservative == date(2027, 3, 1)
    # The record of a provision whose contract substitutes it: a year from 28 Feb 2027 ends 29 Feb 2028.
    assert record_purge_after(RecordMode.CONTRACT_SUBSTITUTE, date(2027, 3, 1), date(2027, 2, 28)) == date(
        2028, 2, 29
    )
    assert purge_after(NumberDocument.DEPENDENTS_DECLARATION, 2026) == date(2034, 1, 10)
    # Insurance documents: two years from the day the matter completed (not counted).
    assert purge_after(NumberDocument.SOCIAL_INSURANCE, 2026, date(2026, 2, 28)) == date(2028, 2, 29)
    # A request received at 23:30 JST on 31 January (14:30 UTC) is due on 14 February JST, same time.
    received = datetime(2027, 1, 31, 14, 30, tzinfo=UTC)
    due = deadlines.clock_for(received, ack_business_days=2, escalate_days=10, due_days=14).due_at
    assert due == datetime(2027, 2, 14, 14, 30, tzinfo=UTC)
