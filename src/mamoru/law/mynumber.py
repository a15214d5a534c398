"""The Individual Number (My Number): check digit (MN-4) and the closed list of statutory affairs (MN-1).

The check digit detects typing errors only; it proves nothing about identity (MN-3 does that).
"""

from __future__ import annotations

import re
import unicodedata
from enum import StrEnum

_WEIGHTS = (6, 5, 4, 3, 2, 7, 6, 5, 4, 3, 2)  # applied left to right to the 11 base digits
_SEPARATORS = re.compile(r"[\s\-‐‑‒–—―ー−]")
_TWELVE_DIGITS = re.compile(r"\d{12}")


class StatutoryAffair(StrEnum):
    """Number-related affairs (個人番号関係事務) an employer or payer may use the number for.

    Closed on purpose: no consent, policy file or configuration can add to it (My Number Act Art. 9, 19).
    """

    WITHHOLDING_SLIP = "withholding_slip"  # 源泉徴収票・扶養控除等申告書
    PAYMENT_REPORT = "payment_report"  # 報酬・料金等の支払調書
    HEALTH_INSURANCE = "health_insurance"  # 健康保険の届出
    WELFARE_PENSION = "welfare_pension"  # 厚生年金保険の届出
    NATIONAL_PENSION_CATEGORY3 = "national_pension_category3"  # 国民年金第3号被保険者の届出
    EMPLOYMENT_INSURANCE = "employment_insurance"  # 雇用保険の届出
    WORKERS_COMPENSATION = "workers_compensation"  # 労災保険の請求書類
    PROPERTY_SAVINGS = "property_savings"  # 財形貯蓄の非課税申告


def check_digit(base11: str) -> int:
    """The check digit for an 11-digit base (総務省令第85号 第5条)."""
    if len(base11) != 11 or not base11.isascii() or not base11.isdigit():
        raise ValueError("a My Number base must be exactly 11 ASCII digits")
    remainder = sum(int(d) * w for d, w in zip(base11, _WEIGHTS, strict=True)) % 11
    return 0 if remainder <= 1 else 11 - remainder


def normalize(value: str) -> str:
    """NFKC-normalise (full-width digits) and strip spaces and hyphens; does not validate."""
    return _SEPARATORS.sub("", unicodedata.normalize("NFKC", value))


def is_valid(value: str) -> bool:
    """Whether ``value`` is 12 digits (after normalisation) whose last digit is the right check digit."""
    digits = normalize(value)
    if not _TWELVE_DIGITS.fullmatch(digits):
        return False
    return check_digit(digits[:11]) == int(digits[11])


def find_candidates(text: str) -> list[str]:
    """Every run of exactly 12 ASCII digits in ``text`` that passes the check digit.

    Used by tests and log filters to prove that no My Number-shaped value leaks.
    """
    return [m for m in re.findall(r"(?<!\d)\d{12}(?!\d)", text) if is_valid(m)]
