"""Text helpers for Japanese-aware matching.

The scanner matches on a *folded* copy of the text: full-width ASCII, the ideographic space and the
many hyphen and dash variants become their ASCII forms, one character for one character, so every
offset in the folded text is the same offset in the original. No `\\b` is used anywhere: in Japanese a
value is often written straight after kana or kanji, where a word boundary does not exist.
"""

from __future__ import annotations

import re

_FOLD: dict[int, int] = {cp: cp - 0xFEE0 for cp in range(0xFF01, 0xFF5F)}
_FOLD[0x3000] = 0x20  # ideographic space
for _dash in "‐‑‒–—―−ｰ－ー─━":
    _FOLD[ord(_dash)] = ord("-")
_FOLD[ord("〜")] = ord("~")
_FOLD[ord("～")] = ord("~")


def fold(text: str) -> str:
    """Full-width digits, letters and signs to ASCII and dash variants to "-", keeping every offset."""
    return text.translate(_FOLD)


# Boundaries for numbers: not inside a longer run of digits or letters, and not the tail or head of
# a hyphenated code such as ORD-2024-123456789012. The start boundary is written *after* a number's
# first digit, so that each pattern starts with a digit and Python's engine can skip straight to
# digits instead of trying every position.
AFTER_FIRST = r"(?<![0-9A-Za-z][0-9])(?<![0-9A-Za-z]-[0-9])"
NUM_END = r"(?![0-9A-Za-z])(?!-[0-9A-Za-z])"

# Twelve digits or more, one space or hyphen at most between two: what a My Number, a Corporate
# Number, a card number, a licence number and an invoice registration number all hold.
LONG_NUMBER = r"\d(?:[ -]?\d){11}"

KANJI_OR_KATAKANA = re.compile(r"[\u30a0-\u30ff\u4e00-\u9fff々]")


_NOT_DIGIT = re.compile(r"[^0-9]+")


def digits_only(value: str) -> str:
    """The ASCII digits of ``value`` (after folding), in order."""
    return _NOT_DIGIT.sub("", value if value.isascii() else fold(value))


def words_pattern(words: tuple[str, ...]) -> re.Pattern[str] | None:
    """One pattern that finds any of ``words`` (folded, lower case) as raw characters, no token split.
    Match it against lower-cased text: a case-insensitive alternation is many times slower."""
    if not words:
        return None
    ordered = sorted({fold(w).lower() for w in words}, key=len, reverse=True)
    return re.compile("|".join(re.escape(w) for w in ordered))


def any_word(words: tuple[str, ...], lowered: str) -> bool:
    """Whether any of ``words`` (folded, lower case) occurs in ``lowered`` (a plain substring test)."""
    return any(w in lowered for w in words)
