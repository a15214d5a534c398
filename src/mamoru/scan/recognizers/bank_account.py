"""Bank accounts: the deposit kind and a 7-digit account number, or an account number under its label;
Japan Post Bank symbol-and-number."""

from __future__ import annotations

from typing import ClassVar

from mamoru.scan.recognizer import Pattern, Recognizer
from mamoru.scan.text import NUM_END

_SEP = r"[ :：/・]{0,3}"
# A short note in brackets between a label and its value: 口座番号（右詰め） 1234567.
_NOTE = r"(?:\([^)\n]{1,8}\))?"


class BankAccountRecognizer(Recognizer):
    entity = "bank_account"
    label: ClassVar[dict[str, str]] = {"ja": "銀行口座番号", "en": "Bank account number"}
    patterns = (
        Pattern(
            "deposit kind and 7 digits",
            r"(?:普通|当座|貯蓄|総合)(?:預金)?\)?"
            + _SEP
            + r"(?:口座)?(?:番号)?"
            + _NOTE
            + _SEP
            + r"(?P<v>\d{7})"
            + NUM_END,
            0.85,
            requires=("普通", "当座", "貯蓄", "総合"),
        ),
        Pattern(
            "account number under its label",
            r"(?:口座番号|account (?:no\.?|number)|a/c)" + _NOTE + _SEP + r"(?P<v>\d{6,8})" + NUM_END,
            0.85,
            2,  # re.IGNORECASE
            requires=("口座番号", "account", "a/c"),
        ),
        Pattern(
            "Japan Post Bank symbol and number",
            r"(?:記号番号|ゆうちょ|貯金)[^0-9\n]{0,8}(?P<v>1\d{4}-\d{1,8})" + NUM_END,
            0.85,
            requires=("記号番号", "ゆうちょ", "貯金"),
        ),
        Pattern(
            "passbook symbol or number, each under its label",
            r"通帳(?:記号|番号)" + _SEP + r"(?P<v>1\d{4}|\d{7,8})" + NUM_END,
            0.8,
            requires=("通帳",),
        ),
    )
    context = (
        "口座",
        "銀行",
        "支店",
        "振込",
        "bank",
        "branch",
        "account",
        "信用金庫",
        "ゆうちょ",
        "預金",
        "通帳",
    )
    needs_context = True
    window_before = 30
