"""The Individual Number (個人番号): 12 digits, the last a check digit (MN-4)."""

from __future__ import annotations

from typing import ClassVar

from mamoru.law import mynumber
from mamoru.scan.recognizer import Pattern, Recognizer
from mamoru.scan.text import AFTER_FIRST, LONG_NUMBER, NUM_END, digits_only


class MyNumberRecognizer(Recognizer):
    entity = "my_number"
    label: ClassVar[dict[str, str]] = {"ja": "個人番号（マイナンバー）", "en": "My Number"}
    patterns = (
        Pattern(
            "12 digits, grouped 4-4-4 or not",
            r"\d" + AFTER_FIRST + r"\d{3}[ -]?\d{4}[ -]?\d{4}" + NUM_END,
            0.55,
            holds=LONG_NUMBER,
        ),
    )
    context = ("マイナンバー", "個人番号", "my number", "mynumber", "individual number", "番号カード")
    negative_context = (
        "注文",
        "受注",
        "発注",
        "伝票",
        "追跡",
        "問い合わせ番号",
        "問合せ番号",
        "お問合せ番号",
        "配送",
        "荷物",
        "会員番号",
        "口座",
        "免許",
        "法人番号",
        "order",
        "tracking",
        "invoice",
        "shipment",
        "parcel",
        "member",
        "account",
        "licen",
        "serial",
        "請求書",
        "管理番号",
        "ticket",
        "受付番号",
    )
    valid_score = 0.55
    negative_penalty = 0.8
    negative_line = True

    def validate(self, value: str) -> bool | None:
        return mynumber.is_valid(digits_only(value))
