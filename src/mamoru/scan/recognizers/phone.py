"""Telephone numbers: Japanese fixed lines, mobiles, free dial, and international (+81 and others)."""

from __future__ import annotations

from typing import ClassVar

from mamoru.scan.recognizer import Pattern, Recognizer
from mamoru.scan.text import AFTER_FIRST, NUM_END, digits_only


class PhoneRecognizer(Recognizer):
    entity = "phone"
    label: ClassVar[dict[str, str]] = {"ja": "電話番号", "en": "Phone number"}
    patterns = (
        Pattern(
            "mobile and IP phones (090, 080, 070, 050)",
            "0" + AFTER_FIRST + r"[5789]0[ -]?\d{4}[ -]?\d{4}" + NUM_END,
            0.75,
        ),
        Pattern(
            "fixed line, hyphenated",
            "0" + AFTER_FIRST + r"\d{1,4}-\d{1,4}-\d{3,4}" + NUM_END,
            0.7,
            requires=("-",),
        ),
        Pattern(
            "fixed line, area code in brackets",
            r"\(0\d{1,4}\) ?\d{1,4}-\d{3,4}" + NUM_END,
            0.75,
            requires=("(0",),
        ),
        Pattern(
            "fixed line, local code in brackets",
            "0" + AFTER_FIRST + r"\d{1,4}\(\d{1,4}\)\d{4}" + NUM_END,
            0.75,
            requires=("(",),
        ),
        Pattern("ten digits unseparated", "0" + AFTER_FIRST + r"\d{9}" + NUM_END, 0.3),
        Pattern(
            "international +81",
            r"\+(?<![0-9A-Za-z+]\+)81[ -]?\(?0?\)?\d{1,4}[ -]?\d{1,4}[ -]?\d{3,4}" + NUM_END,
            0.8,
            requires=("+81",),
        ),
        Pattern(
            "international, other countries",
            r"\+(?<![0-9A-Za-z+]\+)(?!81)[1-9]\d{0,2}[ -]\(?\d{1,4}\)?(?:[ -]\d{2,4}){1,3}" + NUM_END,
            0.6,
            requires=("+",),
        ),
        # Whatever a vCard's TEL field holds, North American forms and an extension included:
        # TEL;TYPE=CELL:(555)123-4567x890, 555.123.4567, +1-555-123-4567.
        Pattern(
            "vCard TEL field",
            r"(?m:^)(?i:tel)(?:;[^:\n]{0,40})?:(?P<v>\+?[\d(][\d() .-]{6,24}\d(?:x\d{1,6})?)(?![\d])",
            0.8,
            requires=("tel",),
        ),
    )
    context = ("電話", "tel", "携帯", "fax", "phone", "mobile", "連絡先", "call", "☎", "直通", "内線")
    negative_context = (
        "注文",
        "伝票",
        "追跡",
        "口座",
        "order",
        "tracking",
        "account no",
        "account number",
        "invoice",
        "isbn",
        "会員番号",
    )

    def validate(self, value: str) -> bool | None:
        digits = digits_only(value.split("x")[0])
        if value.startswith("+"):
            return 8 <= len(digits) <= 15
        if digits.startswith("0120") or digits.startswith("0800"):
            return len(digits) == 10 or (digits.startswith("0800") and len(digits) == 11)
        # Every Japanese pattern starts with 0 and "+" was handled above, so only the vCard TEL pattern
        # reaches here with another first digit: a North American number (ten digits, or eleven that
        # start with its country code 1).
        if digits[0] != "0":
            return len(digits) == 10 or (len(digits) == 11 and digits[0] == "1")
        if len(digits) == 11:
            return digits[:3] in {"050", "070", "080", "090", "020", "060"}
        return len(digits) == 10
