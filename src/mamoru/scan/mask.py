"""Masked samples: enough of a value's shape for a person to recognise what was found, never the value.

Digits keep only the last two (of a number of eight digits or more); of the letters, kanji and kana
only the very first is kept. Separators stay, so a phone number still looks like one.
"""

from __future__ import annotations

_KEEP_LAST_DIGITS = 2


def mask(value: str) -> str:
    digits_total = sum(ch.isdigit() for ch in value)
    keep_from = digits_total - _KEEP_LAST_DIGITS if digits_total >= 8 else digits_total
    out: list[str] = []
    seen_digits = 0
    first_letter = True
    for ch in value:
        if ch.isdigit():
            out.append(ch if seen_digits >= keep_from else "*")
            seen_digits += 1
        elif ch.isalpha():
            out.append(ch if first_letter else "*")
            first_letter = False
        else:
            out.append(ch)
    masked = "".join(out)
    if masked == value and value:
        return "*" * len(value)
    return masked
