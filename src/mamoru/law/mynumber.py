"""The Individual Number (My Number): check digit (MN-4) and the closed list of statutory affairs (MN-1).

The check digit detects typing errors only; it proves nothing about identity (MN-3 does that).
"""

from __future__ import annotations

import re
import unicodedata
from datetime import date
from enum import StrEnum
from operator import mul

from mamoru.law.periods import period_end

_WEIGHTS = (6, 5, 4, 3, 2, 7, 6, 5, 4, 3, 2)  # applied left to right to the 11 base digits
_SEPARATORS = re.compile(r"[\s\-‐‑‒–—―ー−]")
_TWELVE_DIGITS = re.compile(r"[0-9]{12}")  # ASCII: other scripts' digits are no My Number (nor an error)


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
    remainder = sum(map(mul, map(int, base11), _WEIGHTS)) % 11  # (the scanner checks thousands a second)
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


# --- identity verification on collection (My Number Act Art. 16; MN-3) ---------------------------


class NumberCheckDoc(StrEnum):
    """What shows that the number is the person's (番号確認)."""

    MY_NUMBER_CARD = "my_number_card"  # 個人番号カード: number check and identity check at once
    NOTIFICATION_CARD = "notification_card"  # 通知カード (details unchanged)
    RESIDENCE_CERTIFICATE = "residence_certificate_with_number"  # 個人番号付きの住民票の写し
    NUMBER_NOTICE = "number_notice"  # 個人番号通知書 (since 2020): NOT a number-check document


class IdentityDoc(StrEnum):
    """What shows that the person is who they say (身元確認)."""

    MY_NUMBER_CARD = "my_number_card"
    DRIVERS_LICENSE = "drivers_license"
    PASSPORT = "passport"
    RESIDENCE_CARD = "residence_card"  # 在留カード
    OTHER_PHOTO_ID = "other_photo_id"
    HEALTH_INSURANCE_CARD = "health_insurance_card"  # non-photo
    PENSION_BOOK = "pension_book"  # non-photo
    OTHER_NON_PHOTO = "other_non_photo"


PHOTO_IDS = frozenset(
    {
        IdentityDoc.MY_NUMBER_CARD,
        IdentityDoc.DRIVERS_LICENSE,
        IdentityDoc.PASSPORT,
        IdentityDoc.RESIDENCE_CARD,
        IdentityDoc.OTHER_PHOTO_ID,
    }
)


def identity_problems(
    number_check: NumberCheckDoc,
    identity: list[IdentityDoc],
    *,
    by_agent: bool = False,
    authority_doc: bool = False,
    agent_identity: list[IdentityDoc] | None = None,
) -> list[str]:
    """Why a set of documents does not verify the number and the person; empty when it does."""
    problems: list[str] = []
    if number_check is NumberCheckDoc.NUMBER_NOTICE:
        problems.append(
            "the 個人番号通知書 is not a number-check document; use the My Number card, the "
            "notification card or a residence certificate with the number"
        )
    if number_check is not NumberCheckDoc.MY_NUMBER_CARD and not by_agent:
        photo = [d for d in identity if d in PHOTO_IDS]
        non_photo = [d for d in identity if d not in PHOTO_IDS]
        if not photo and len(set(non_photo)) < 2:
            problems.append("identity needs one photo ID or two non-photo IDs")
    if by_agent:
        if not authority_doc:
            problems.append("an agent needs a proof of authority")
        agent_docs = agent_identity or []
        if not any(d in PHOTO_IDS for d in agent_docs) and len(set(agent_docs)) < 2:
            problems.append("the agent's own identity needs one photo ID or two non-photo IDs")
    return problems


# --- retention of documents carrying the number (MN-5) -------------------------------------------


class NumberDocument(StrEnum):
    """Documents the number is collected for, and how long each must be kept."""

    DEPENDENTS_DECLARATION = "dependents_declaration"  # 扶養控除等申告書
    WITHHOLDING_SLIP = "withholding_slip"  # 源泉徴収票（控）
    PAYMENT_REPORT = "payment_report"  # 支払調書
    SOCIAL_INSURANCE = "social_insurance"  # 健康保険・厚生年金の届出
    EMPLOYMENT_INSURANCE = "employment_insurance"  # 雇用保険の届出


TAX_DOCUMENTS = frozenset(
    {NumberDocument.DEPENDENTS_DECLARATION, NumberDocument.WITHHOLDING_SLIP, NumberDocument.PAYMENT_REPORT}
)
TAX_YEARS = 7
INSURANCE_YEARS = 2


def purge_after(
    document: NumberDocument,
    year: int,
    completed_on: date | None = None,
    *,
    insurance_years: int = INSURANCE_YEARS,
) -> date:
    """The last day a document (and so the number on it) must be kept.

    Tax documents of ``year`` are kept for seven years from 11 January of the following year (the day
    after the filing deadline; NTA No. 2503): a 2026 declaration is kept until 10 January 2034.
    Insurance documents are kept ``insurance_years`` (2 by default) from the day the matter completed.
    """
    if document in TAX_DOCUMENTS:
        # "from 11 January": the period starts with that day, so it counts (Civil Code Art. 140 proviso).
        return period_end(date(year + 1, 1, 11), years=TAX_YEARS, first_day_counts=True)
    return period_end(completed_on or date(year, 12, 31), years=insurance_years)
