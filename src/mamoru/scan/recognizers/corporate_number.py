"""The Corporate Number (法人番号). A qualified-invoice registration number (T + 13 digits) is a kind of
its own (`invoice_registration.py`): the "T" keeps these 13 digits from matching there.

Not personal data: it is recognised so that a 13-digit number is reported for what it is.
"""

from __future__ import annotations

from typing import ClassVar

from mamoru.law import corporate_number
from mamoru.scan.recognizer import Pattern, Recognizer
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
