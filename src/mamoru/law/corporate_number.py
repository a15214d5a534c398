"""The Corporate Number (法人番号): a 13-digit number whose first digit checks the other twelve.

It identifies a corporation, not a person: the scanner recognises it so that a 13-digit number is not
mistaken for something personal, and reports it apart from personal data.
"""

from __future__ import annotations


def check_digit(base12: str) -> int:
    """The check digit for the 12-digit base (法人番号の指定等に関する省令 第2条).

    Digits are counted from the right (n = 1 is the last); odd positions weigh 1, even ones 2;
    the check digit is 9 minus the weighted sum modulo 9.
    """
    if len(base12) != 12 or not base12.isascii() or not base12.isdigit():
        raise ValueError("a Corporate Number base must be exactly 12 ASCII digits")
    total = sum(int(d) * (2 if n % 2 == 0 else 1) for n, d in enumerate(reversed(base12), start=1))
    return 9 - total % 9


def is_valid(digits: str) -> bool:
    """Whether ``digits`` (13 ASCII digits) carries the right check digit in front."""
    if len(digits) != 13 or not digits.isascii() or not digits.isdigit():
        return False
    return check_digit(digits[1:]) == int(digits[0])
