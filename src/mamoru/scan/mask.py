"""Masked samples: enough of a value's shape for a person to recognise what was found, never the value.

Digits keep only the last two; letters keep only the first of each word; kanji and kana keep only
the first character. Separators stay, so a phone number still looks like one.
"""

from __future__ import annotations

_KEEP_LAST_DIGITS = 2


def mask(value: str) -> str:
    digits_total = sum(ch.isdigit() for ch in value)
    keep_from = digits_total - _KEEP_LAST_DIGITS if digits_total >= 8 else digits_total
    out: list[str] = []
    seen_digits = 0
    word_start = True
    for ch in value:
        if ch.isdigit():
            out.append(ch if seen_digits >= keep_from else "*")
            seen_digits += 1
            word_start = False
        elif ch.isalpha():
            if ch == "@" or not word_start:
                out.append("*")
            else:
                out.append(ch)
            word_start = False
        else:
            out.append(ch)
            word_start = ch in " \u3000.,-_/()（）・@"
    masked = "".join(out)
    if masked == value and value:
        return "*" * len(value)
    return masked
