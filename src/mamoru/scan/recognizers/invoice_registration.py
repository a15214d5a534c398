"""Qualified-invoice registration numbers (適格請求書発行事業者登録番号): "T" and 13 digits.

A kind of its own, not a Corporate Number: a sole proprietor's registration number is not a Corporate
Number at all, and an invoice file is not a company register. The 13 digits carry the Corporate
Number's check digit (the National Tax Agency issues them so), which validates the match. The
registration is published by the Agency, so it is reported but is not counted as personal data.
"""

from __future__ import annotations

from typing import ClassVar

from mamoru.law import corporate_number
from mamoru.scan.recognizer import Pattern, Recognizer
from mamoru.scan.text import LONG_NUMBER, NUM_END, digits_only


class InvoiceRegistrationRecognizer(Recognizer):
    entity = "invoice_registration"
    label: ClassVar[dict[str, str]] = {
        "ja": "適格請求書発行事業者登録番号",
        "en": "Invoice registration number",
    }
    patterns = (
        Pattern("T and 13 digits", r"T(?<![0-9A-Za-z]T)[- ]?\d{13}" + NUM_END, 0.7, holds=LONG_NUMBER),
        Pattern(
            "T and 13 digits grouped 1-4-4-4",
            r"T(?<![0-9A-Za-z]T)[- ]?\d-\d{4}-\d{4}-\d{4}" + NUM_END,
            0.6,
            holds=LONG_NUMBER,
        ),
    )
    context = ("登録番号", "インボイス", "適格請求書", "registration number", "invoice", "請求書")
    negative_context = ("JAN", "ISBN", "バーコード", "商品コード", "barcode")
    valid_score = 0.8
    personal = False

    def validate(self, value: str) -> bool | None:
        return corporate_number.is_valid(digits_only(value))
