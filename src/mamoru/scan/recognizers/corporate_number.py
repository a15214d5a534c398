"""The Corporate Number (法人番号). A qualified-invoice registration number (T + 13 digits) is a kind of
its own (`invoice_registration.py`): the "T" keeps these 13 digits from matching there.

Not personal data: it is recognised so that a 13-digit number is reported for what it is.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import ClassVar

from mamoru.law import corporate_number
from mamoru.scan.recognizer import Finding, Pattern, Recognizer, Shared
from mamoru.scan.text import AFTER_FIRST, LONG_NUMBER, NUM_END, digits_only


class CorporateNumberRecognizer(Recognizer):
    entity = "corporate_number"
    label: ClassVar[dict[str, str]] = {"ja": "法人番号", "en": "Corporate Number"}
    patterns = (
        Pattern("13 digits", r"\d" + AFTER_FIRST + r"\d{12}" + NUM_END, 0.6, holds=LONG_NUMBER),
        Pattern(
            "13 digits grouped 1-4-4-4",
            r"\d" + AFTER_FIRST + r"[ -]\d{4}[ -]\d{4}[ -]\d{4}" + NUM_END,
            0.5,
            holds=LONG_NUMBER,
        ),
    )
    context = ("法人番号", "登録番号", "corporate number", "registration number", "インボイス", "適格請求書")
    negative_context = ("JAN", "ISBN", "EAN", "バーコード", "商品コード", "barcode")
    valid_score = 0.6
    personal = False

    def validate(self, value: str) -> bool | None:
        return corporate_number.is_valid(digits_only(value))

    def analyze(
        self,
        folded: str,
        original: str | None = None,
        lowered: str | None = None,
        shared: Shared | None = None,
    ) -> Iterator[Finding]:
        """As every recognizer, but a product's barcode (JAN, a GS1 Japan prefix 45 or 49 and a valid
        EAN-13 check digit, as in a product list's 品番 column) is not taken for a Corporate Number
        unless a Corporate Number's own word stands by it (法人番号 4912345678901)."""
        for finding in super().analyze(folded, original, lowered, shared):
            if finding.explanation.context_word is None and _is_jan(digits_only(finding.value(folded))):
                continue
            yield finding


def _is_jan(digits: str) -> bool:
    if len(digits) != 13 or digits[:2] not in ("45", "49"):
        return False
    total = sum(int(c) * (3 if i % 2 else 1) for i, c in enumerate(digits[:12]))
    return (10 - total % 10) % 10 == int(digits[12])
