"""Driver's licence numbers (運転免許証番号): twelve digits, reported only under a licence label."""

from __future__ import annotations

from typing import ClassVar

from mamoru.scan.recognizer import Pattern, Recognizer
from mamoru.scan.text import AFTER_FIRST, LONG_NUMBER, NUM_END, digits_only


class DriversLicenseRecognizer(Recognizer):
    entity = "drivers_license"
    label: ClassVar[dict[str, str]] = {"ja": "運転免許証番号", "en": "Driver's licence number"}
    patterns = (
        Pattern(
            "twelve digits",
            r"\d" + AFTER_FIRST + r"\d{3}[ -]?\d{4}[ -]?\d{4}" + NUM_END,
            0.3,
            holds=LONG_NUMBER,
        ),
    )
    context = (
        "免許",
        "driver's licen",
        "drivers licen",
        "driving licen",
        "driver licen",
        "licence no",
        "license no",
    )
    needs_context = True
    context_boost = 0.65
    window_before = 24

    def validate(self, value: str) -> bool | None:
        # The first two digits name the issuing public-safety commission (10 to 97).
        return 10 <= int(digits_only(value)[:2]) <= 97
