"""Breach classification and the reporting clock (APPI Art. 26, Rules Arts. 7-10; My Number Act Art. 29-4).

Pure functions over the facts of an incident. Nothing here reads a clock or a database.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import StrEnum
from typing import Literal

from mamoru.law.periods import period_end

#: Rules Art. 7(iv): more than this many persons makes a breach reportable by head count.
APPI_PERSONS_THRESHOLD = 1000
#: My Number leak rule Art. 2: more than this many persons.
MY_NUMBER_PERSONS_THRESHOLD = 100
PRELIM_WARNING_DAYS = 3
PRELIM_DUE_DAYS = 5
FINAL_DAYS = 30
FINAL_DAYS_IMPROPER = 60


class BreachCategory(StrEnum):
    """Rules Art. 7: the four kinds of reportable breach."""

    SPECIAL_CARE = "i"  # special care-required personal data
    FINANCIAL = "ii"  # data whose misuse could cause financial damage
    IMPROPER_PURPOSE = "iii"  # possibly caused by an act with an improper purpose (incl. data being acquired)
    OVER_THRESHOLD = "iv"  # more than 1,000 persons


class MyNumberGround(StrEnum):
    """My Number leak rule Art. 2: when a breach of specific personal information is reportable."""

    NETWORK_SYSTEM = "network_system"  # data in the information-provision network system or related systems
    IMPROPER_PURPOSE = "improper_purpose"  # leak, or improper use or provision, with an improper purpose
    PUBLICLY_VIEWABLE = "publicly_viewable"  # placed where unspecified many could view it electronically
    OVER_THRESHOLD = "over_threshold"  # more than 100 persons


@dataclass(frozen=True)
class BreachFacts:
    """What is known of a leak, loss or damage. "Suspected" counts the same as confirmed (おそれ)."""

    affected_count: int = 0
    special_care: bool = False
    financial_risk: bool = False
    improper_purpose: bool = False
    suspected_only: bool = False
    encrypted: bool = False  # protected by advanced encryption or an equivalent measure
    key_compromised: bool = False
    pseudonymized_only: bool = False
    my_number: Literal["yes", "no", "unknown"] = "no"
    mn_network_system: bool = False
    mn_publicly_viewable: bool = False
    not_a_leak: bool = False  # confirmed no leak (e.g. a misaddressed mail deleted unread); kept on record


@dataclass(frozen=True)
class Classification:
    reportable: bool
    categories: frozenset[BreachCategory]
    my_number_reportable: bool
    my_number_grounds: frozenset[MyNumberGround]
    exemption: str | None
    #: The PPC online form's first routing question: My Number included? "unknown" is answered yes.
    route_my_number: bool
    #: Reported on the ground that a breach may have occurred (おそれ), not that it is confirmed. The duty
    #: is the same either way (Rules Art. 7, My Number leak rule Art. 2); the report says which.
    suspected_only: bool

    @property
    def improper_purpose(self) -> bool:
        return BreachCategory.IMPROPER_PURPOSE in self.categories or (
            MyNumberGround.IMPROPER_PURPOSE in self.my_number_grounds
        )

    @property
    def any_reportable(self) -> bool:
        return self.reportable or self.my_number_reportable

    @property
    def privacymark_prelim_required(self) -> bool:
        """JIS-8: a PrivacyMark holder sends the review body a preliminary report within about 3-5 days for
        the four categories of Rules Art. 7 and for the My Number grounds (more than 100 persons, viewable
        by unspecified many, improper purpose, the network system), the cases the PPC must be told of;
        a suspected case (おそれ) counts as one. Every other incident has only the final report."""
        return self.any_reportable


def classify(facts: BreachFacts) -> Classification:
    """Whether the PPC must be told (APPI Art. 26(1), Rules Art. 7; My Number Act Art. 29-4), and why.

    A breach that only may have occurred (``suspected_only``) is classified exactly as a confirmed one:
    the rules name "a leak … that occurred or may have occurred", so suspicion never lowers the duty;
    it is carried on the classification so the report states the ground. Confirmation that nothing
    leaked (``not_a_leak``) ends the suspicion.
    """
    route = facts.my_number != "no"
    if facts.not_a_leak:
        return Classification(False, frozenset(), False, frozenset(), "not_a_leak", route, False)
    exemption: str | None = None
    if facts.encrypted and not facts.key_compromised:
        exemption = "advanced_encryption"
    elif facts.pseudonymized_only:
        exemption = "pseudonymized"
    categories: set[BreachCategory] = set()
    if facts.special_care:
        categories.add(BreachCategory.SPECIAL_CARE)
    if facts.financial_risk:
        categories.add(BreachCategory.FINANCIAL)
    if facts.improper_purpose:
        categories.add(BreachCategory.IMPROPER_PURPOSE)
    if facts.affected_count > APPI_PERSONS_THRESHOLD:
        categories.add(BreachCategory.OVER_THRESHOLD)
    grounds: set[MyNumberGround] = set()
    if facts.my_number != "no":
        if facts.mn_network_system:
            grounds.add(MyNumberGround.NETWORK_SYSTEM)
        if facts.improper_purpose:
            grounds.add(MyNumberGround.IMPROPER_PURPOSE)
        if facts.mn_publicly_viewable:
            grounds.add(MyNumberGround.PUBLICLY_VIEWABLE)
        if facts.affected_count > MY_NUMBER_PERSONS_THRESHOLD:
            grounds.add(MyNumberGround.OVER_THRESHOLD)
    exempt = exemption is not None
    return Classification(
        reportable=bool(categories) and not exempt,
        categories=frozenset(categories),
        my_number_reportable=bool(grounds) and not exempt,
        my_number_grounds=frozenset(grounds),
        exemption=exemption,
        route_my_number=route,
        suspected_only=facts.suspected_only,
    )


@dataclass(frozen=True)
class ReportClock:
    """The PPC deadlines from the first staff awareness. Calendar days; whether the day of awareness
    counts as day one is not settled, so the final deadline is shown both ways and the earlier one
    (conservative) is the one the system holds the office to."""

    aware_at: datetime
    prelim_warning: date
    prelim_due: date
    final_conservative: date
    final_lenient: date

    def state(self, today: date, *, prelim_done: bool, final_done: bool) -> str:
        if not prelim_done:
            if today > self.prelim_due:
                return "prelim_overdue"
            if today >= self.prelim_warning:
                return "prelim_warning"
        if not final_done:
            if today > self.final_conservative:
                return "final_overdue"
            if today >= self.final_conservative - timedelta(days=5):
                return "final_warning"
        return "on_track"


def report_clock(aware_at: datetime, *, improper_purpose: bool) -> ReportClock:
    """Rules Art. 8: preliminary "promptly" (warn at 3 days, due at 5), final within 30 days (60 for an
    improper purpose)."""
    day = aware_at.date()
    final = FINAL_DAYS_IMPROPER if improper_purpose else FINAL_DAYS
    return ReportClock(
        aware_at=aware_at,
        prelim_warning=period_end(day, days=PRELIM_WARNING_DAYS),
        prelim_due=period_end(day, days=PRELIM_DUE_DAYS),
        # Whether the day of awareness is day one is unsettled: held to the earlier reading (it counts),
        # the Civil Code reading (it does not, Art. 140) shown beside it.
        final_conservative=period_end(day, days=final, first_day_counts=True),
        final_lenient=period_end(day, days=final),
    )
