"""Dates of birth: Western and Japanese-era dates, reported only with a birth label close before them
(or 生まれ after), so that an application or meeting date is not taken for one."""

from __future__ import annotations

import re
from datetime import date
from typing import ClassVar

from mamoru.scan.recognizer import Pattern, Recognizer

# Era: first day of the era, and the era's name (kanji, initial).
ERAS: dict[str, tuple[date, int]] = {
    "明治": (date(1868, 1, 25), 45),
    "大正": (date(1912, 7, 30), 15),
    "昭和": (date(1926, 12, 25), 64),
    "平成": (date(1989, 1, 8), 31),
    "令和": (date(2019, 5, 1), 99),
}
_ERA_INITIAL = {"M": "明治", "T": "大正", "S": "昭和", "H": "平成", "R": "令和"}
_MONTHS = {
    m[:3].lower(): i
    for i, m in enumerate(
        [
            "January",
            "February",
            "March",
            "April",
            "May",
            "June",
            "July",
            "August",
            "September",
            "October",
            "November",
            "December",
        ],
        start=1,
    )
}
_MONTH_RE = r"[JFMASOND](?<![A-Za-z][JFMASOND])(?:an|eb|ar|pr|ay|un|ul|ug|ep|ct|ov|ec)[a-z]*\.?"
_NUM = re.compile(r"\d+|元")
# What every English month name written as _MONTH_RE reads holds, in lower case (jan, feb, …).
_MONTH_STEMS = tuple(_MONTHS)


def _real(year: int, month: int, day: int) -> bool:
    try:
        date(year, month, day)
    except ValueError:
        return False
    return 1868 <= year <= 2100


class BirthDateRecognizer(Recognizer):
    entity = "birth_date"
    label: ClassVar[dict[str, str]] = {"ja": "生年月日", "en": "Date of birth"}
    patterns = (
        Pattern(
            "Western year, month, day",
            r"(?:18|19|20)(?<![0-9]\d\d)\d{2}(?:年 ?\d{1,2}月 ?\d{1,2}日|([/.-])\d{1,2}\1\d{1,2})(?![0-9])",
            0.3,
            requires=("年", "/", ".", "-"),
        ),
        Pattern(
            "Japanese era",
            r"(?:明治|大正|昭和|平成|令和|[MTSHR](?<![A-Za-z][MTSHR])\.? ?)(?:\d{1,2}|元)(?:年 ?\d{1,2}月 ?\d{1,2}日|[./-]\d{1,2}[./-]\d{1,2}(?![0-9]))",
            0.3,
            requires=("明治", "大正", "昭和", "平成", "令和", "m", "t", "s", "h", "r"),
        ),
        Pattern(
            "day month year",
            r"\d(?<![0-9]\d)\d? " + _MONTH_RE + r",? (?:18|19|20)\d{2}(?![0-9])",
            0.3,
            requires=_MONTH_STEMS,
        ),
        Pattern(
            "month day, year",
            _MONTH_RE + r" \d{1,2},? (?:18|19|20)\d{2}(?![0-9])",
            0.3,
            requires=_MONTH_STEMS,
        ),
        Pattern(
            "month/day/year or day/month/year",
            r"\d(?<![0-9]\d)\d?([/.-])\d{1,2}\1(?:18|19|20)\d{2}(?![0-9])",
            0.3,
            requires=("/", ".", "-"),
        ),
    )
    context = ("生年月日", "誕生日", "生まれ", "出生", "birth", "born", "dob", "d.o.b", "生年", "bday")
    negative_context = ("入社", "発行", "申込", "作成", "更新", "有効期限", "交付", "登録", "issued", "expir")
    needs_context = True
    context_boost = 0.6
    window_before = 14
    window_after = 4
    window_stops_at_previous = True
    negative_after = False  # 生年月日 1985/05/03 入社日 …: the next label is not about this date

    def validate(self, value: str) -> bool | None:
        era = next((e for e in ERAS if value.startswith(e)), None)
        # An era initial is followed by a digit, a dot or a space: "March 25, 1969" starts with M too.
        if era is None and value[:1] in _ERA_INITIAL and not value[1:2].isalpha():
            era = _ERA_INITIAL[value[0]]
        numbers = [1 if n == "元" else int(n) for n in _NUM.findall(value)]
        if era is not None:
            if len(numbers) != 3:
                return False
            start, span = ERAS[era]
            if not 1 <= numbers[0] <= span:
                return False
            year = start.year + numbers[0] - 1
            return _real(year, numbers[1], numbers[2]) and date(year, numbers[1], numbers[2]) >= start
        month_word = re.search(r"[A-Za-z]{3,}", value)
        if month_word:
            month = _MONTHS.get(month_word.group(0)[:3].lower())
            day, year = (numbers[0], numbers[1]) if len(numbers) == 2 else (0, 0)
            return month is not None and _real(year, month, day)
        if len(numbers) != 3:
            return False
        if numbers[2] >= 1000:  # MM/DD/YYYY or DD/MM/YYYY: either reading may be the real one
            return _real(numbers[2], numbers[0], numbers[1]) or _real(numbers[2], numbers[1], numbers[0])
        return _real(numbers[0], numbers[1], numbers[2])
