"""Health-insurance card numbers: the insurer number (保険者番号, 6 or 8 digits with a check digit)
and the insured person's symbol and number (記号・番号)."""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import replace
from typing import ClassVar

from mamoru.scan.recognizer import Finding, Pattern, Recognizer, Shared
from mamoru.scan.text import NUM_END, digits_only, fold

_SEP = r"[ :：・/]{0,3}"
_NUMBER_LABEL = re.compile(r"番号")

# A table that has an insurer-number column lays the card out as it is printed: 保険者番号, 記号, 番号
# (Insurer No., Symbol, Number). Its bare 記号 and 番号 columns are the insured person's symbol and
# number; alone, those headers are far too common to mean anything.
_INSURER_HEADER = re.compile(r"保険者番号|insurer(?:'s)?[ _]?(?:no|number)", re.IGNORECASE)
_CARD_PARTS = {
    "記号": "被保険者証記号",
    "番号": "被保険者証番号",
    "symbol": "被保険者証記号",
    "number": "被保険者証番号",
}


def card_columns(header: Sequence[str]) -> list[str]:
    """A table's header with the card's bare 記号 and 番号 columns named for what they are, when an
    insurer-number column sits in the same header; every other header as it was."""
    if not any(_INSURER_HEADER.search(fold(h)) for h in header):
        return list(header)
    return [_CARD_PARTS.get(fold(h).strip().lower().rstrip("."), h) for h in header]


def insurer_number_valid(digits: str) -> bool:
    """The insurer number's last digit: weights 2,1,2,… from the left on the others, the digits of
    each product summed, and the check digit makes the total a multiple of ten."""
    if len(digits) not in (6, 8) or not digits.isdigit():
        return False
    total = 0
    for i, ch in enumerate(digits[:-1]):
        product = int(ch) * (2 if i % 2 == 0 else 1)
        total += product // 10 + product % 10
    return (10 - total % 10) % 10 == int(digits[-1])


class HealthInsuranceRecognizer(Recognizer):
    entity = "health_insurance"
    label: ClassVar[dict[str, str]] = {"ja": "健康保険証の記号・番号", "en": "Health-insurance number"}
    patterns = (
        Pattern(
            "insurer number",
            r"(?:保険者番号|(?i:insurer(?:'s)? (?:no\.?|number)|insurer_no))"
            + _SEP
            + r"(?P<v>\d{8}|\d{6})"
            + NUM_END,
            0.8,
            requires=("保険者番号", "insurer"),
        ),
        Pattern(
            "symbol and number under a joint label",
            r"(?:記号[・/]?番号|(?i:symbol ?(?:/|and|&) ?number|symbol_number))"
            + _SEP
            + r"(?P<v>[0-9A-Za-z]{1,10}(?: ?[/・-] ?| )\d{1,10})"
            + NUM_END,
            0.8,
            requires=("記号", "symbol"),
        ),
        Pattern(
            "insured symbol and number",
            r"記号"
            + _SEP
            + r"(?P<v>[0-9A-Za-z-]{1,10}"
            + _SEP
            + r"(?:番号)?"
            + _SEP
            + r"\d{1,10}(?:[ ]?\(?枝番\)?"
            + _SEP
            + r"\d{2})?)"
            + NUM_END,
            0.8,
            requires=("記号",),
        ),
        Pattern(
            "insurance number under its label",
            r"(?:被保険者番号|保険証番号|health insurance (?:no\.?|number)|insurance card no\.?)"
            + _SEP
            + r"(?P<v>[0-9A-Za-z][0-9A-Za-z-]{3,15})"
            + NUM_END,
            0.85,
            2,  # re.IGNORECASE
            requires=("被保険者番号", "保険証番号", "health insurance", "insurance card"),
        ),
        Pattern(
            "symbol or number alone under the card's label",
            r"(?:被保険者証?|保険証)(?:記号|番号)" + _SEP + r"(?P<v>[0-9A-Za-z][0-9A-Za-z-]{0,9})" + NUM_END,
            0.8,
            requires=("被保険者", "保険証"),
        ),
    )
    context = (
        "保険",
        "被保険者",
        "insurance",
        "保険証",
        "insurer",
        "symbol/number",
        "symbol and number",
        "記号・番号",
    )
    needs_context = True
    window_before = 30

    def analyze(
        self,
        folded: str,
        original: str | None = None,
        lowered: str | None = None,
        shared: Shared | None = None,
    ) -> Iterator[Finding]:
        """As every recognizer, but 記号 … 番号 … read in one match is two values, as the card prints
        them: the symbol and the number, each a finding of its own (the label between is neither)."""
        for finding in super().analyze(folded, original, lowered, shared):
            value = folded[finding.start : finding.end]
            label = _NUMBER_LABEL.search(value)
            if label is None:
                yield finding
                continue
            symbol_end = finding.start + len(value[: label.start()].rstrip(" :：・/"))
            number_start = finding.start + label.end()
            while number_start < finding.end and folded[number_start] in " :：・/":
                number_start += 1
            if symbol_end > finding.start:
                yield replace(finding, end=symbol_end)
            if number_start < finding.end:
                yield replace(finding, start=number_start)

    def validate(self, value: str) -> bool | None:
        digits = digits_only(value)
        if value.isdigit() and len(value) in (6, 8):
            return insurer_number_valid(digits) or None
        return None
