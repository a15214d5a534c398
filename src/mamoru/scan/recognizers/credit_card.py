"""Payment card numbers: 14 to 16 digits, a known issuer prefix and the Luhn check."""

from __future__ import annotations

from typing import ClassVar

from mamoru.scan.recognizer import Pattern, Recognizer
from mamoru.scan.text import AFTER_FIRST, LONG_NUMBER, NUM_END, digits_only


def luhn_valid(digits: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = ord(ch) - 48
        if i % 2 == 1:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return total % 10 == 0


def _issuer(digits: str) -> bool:
    n = len(digits)
    if digits[0] == "4":
        return n in (13, 16)  # Visa
    two, four = int(digits[:2]), int(digits[:4])
    if 51 <= two <= 55 or 2221 <= four <= 2720:
        return n == 16  # Mastercard
    if two in (34, 37):
        return n == 15  # American Express
    if 3528 <= four <= 3589:
        return n == 16  # JCB
    if two in (30, 36, 38, 39):
        return n in (14, 16)  # Diners Club
    return digits[:4] == "6011" or two == 65 or digits[:3] in {"644", "645", "646", "647", "648", "649"}


class CreditCardRecognizer(Recognizer):
    entity = "credit_card"
    label: ClassVar[dict[str, str]] = {"ja": "クレジットカード番号", "en": "Credit card number"}
    patterns = (
        Pattern(
            "16 digits in fours",
            r"\d" + AFTER_FIRST + r"\d{3}([ -]?)\d{4}\1\d{4}\1\d{4}" + NUM_END,
            0.5,
            holds=LONG_NUMBER,
        ),
        Pattern(
            "15 digits 4-6-5",
            "3" + AFTER_FIRST + r"[47]\d{2}([ -]?)\d{6}\1\d{5}" + NUM_END,
            0.5,
            holds=LONG_NUMBER,
        ),
        Pattern(
            "14 digits 4-4-4-2",
            "3" + AFTER_FIRST + r"[0689]\d{2}([ -])\d{4}\1\d{4}\1\d{2}" + NUM_END,
            0.5,
            holds=LONG_NUMBER,
        ),
        Pattern(
            "14 digits 4-6-4",
            "3" + AFTER_FIRST + r"[0689]\d{2}([ -]?)\d{6}\1\d{4}" + NUM_END,
            0.5,
            holds=LONG_NUMBER,
        ),
    )
    context = ("カード", "card", "クレジット", "credit", "visa", "master", "jcb", "amex", "決済", "支払")
    negative_context = (
        "注文", "受注", "伝票", "追跡", "会員番号", "order", "tracking", "invoice", "isbn", "jan", "ean",
        "シリアル", "serial", "口座", "account", "ポイント", "管理番号", "内部id", "internal id",
    )  # fmt: skip
    valid_score = 0.8
    negative_penalty = 0.7

    def validate(self, value: str) -> bool | None:
        digits = digits_only(value)
        return _issuer(digits) and luhn_valid(digits)
