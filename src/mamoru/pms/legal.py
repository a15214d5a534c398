"""The legal register (JIS-2): the laws, orders, guidelines and norms the organization follows, who
watches each, when it was last checked and when it is next due. ``seed`` fills it with the sources the
requirements of mamoru were read from."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from mamoru.audit.chain import append
from mamoru.audit.entry import AuditEvent
from mamoru.errors import NotFound, require
from mamoru.pms.tables import LegalItem


@dataclass(frozen=True)
class Source:
    code: str
    title_ja: str
    title_en: str
    articles: str
    applicability: str
    reference: str


SEED: tuple[Source, ...] = (
    Source(
        "APPI",
        "個人情報の保護に関する法律",
        "Act on the Protection of Personal Information",
        "Arts. 17–46",
        "All personal information the organization handles",
        "e-Gov 415AC0000000057",
    ),
    Source(
        "APPI-ORDER",
        "個人情報の保護に関する法律施行令",
        "Cabinet Order of the APPI",
        "Art. 10",
        "Items of the public notice of retained personal data",
        "e-Gov 415CO0000000507",
    ),
    Source(
        "APPI-RULES",
        "個人情報の保護に関する法律施行規則",
        "PPC Rules of the APPI",
        "Arts. 7–10, 16–18, 28–30",
        "Breach reports, foreign transfers, provision records",
        "e-Gov 428M60020000003",
    ),
    Source(
        "PPC-GL-GEN",
        "個人情報保護法ガイドライン（通則編）",
        "PPC Guidelines (General Rules)",
        "3-4, 3-5, 10",
        "Security control measures and breach handling",
        "ppc.go.jp guidelines",
    ),
    Source(
        "PPC-GL-FOREIGN",
        "ガイドライン（外国にある第三者への提供編）",
        "PPC Guidelines (Provision to Foreign Third Parties)",
        "all",
        "Foreign processors and recipients",
        "ppc.go.jp guidelines",
    ),
    Source(
        "PPC-GL-RECORDS",
        "ガイドライン（第三者提供時の確認・記録義務編）",
        "PPC Guidelines (Confirmation and Records on Provision)",
        "all",
        "Provision and receipt records",
        "ppc.go.jp guidelines",
    ),
    Source(
        "MN-ACT",
        "行政手続における特定の個人を識別するための番号の利用等に関する法律",
        "My Number Act",
        "Arts. 9–12, 19, 20, 29-4",
        "Individual Numbers of employees and payees",
        "e-Gov 425AC0000000027",
    ),
    Source(
        "MN-GL",
        "特定個人情報の適正な取扱いに関するガイドライン（事業者編）",
        "PPC My Number Guideline for Businesses",
        "Annex (safeguards)",
        "My Number safeguards and entrustment",
        "ppc.go.jp legal/policy",
    ),
    Source(
        "JIS-Q-15001",
        "JIS Q 15001 個人情報保護マネジメントシステム－要求事項",
        "JIS Q 15001 Personal information protection management systems",
        "Clauses 4–10, Annex A",
        "The PMS and PrivacyMark",
        "jisc.go.jp",
    ),
    Source(
        "LSA-109",
        "労働基準法",
        "Labour Standards Act",
        "Art. 109",
        "Keeping employment records (retention holds)",
        "e-Gov 322AC0000000049",
    ),
)
REVIEW_DAYS = 365


def seed(session: Session, *, owner: str, today: date, actor: str) -> int:
    """Add the sources not yet in the register; returns how many were added."""
    have = set(session.scalars(select(LegalItem.code)))
    added = 0
    for s in SEED:
        if s.code in have:
            continue
        session.add(
            LegalItem(
                code=s.code,
                title_ja=s.title_ja,
                title_en=s.title_en,
                articles=s.articles,
                applicability=s.applicability,
                reference=s.reference,
                owner=owner,
                last_checked=today,
                next_review=today + timedelta(days=REVIEW_DAYS),
            )
        )
        added += 1
    if added:
        append(session, [AuditEvent(actor=actor, action="legal_register.seeded", counts={"items": added})])
    return added


def checked(session: Session, code: str, *, on: date, next_review: date | None, actor: str) -> LegalItem:
    """Record that someone read the source again (and found the register still right)."""
    item = session.scalar(select(LegalItem).where(LegalItem.code == code))
    if item is None:
        raise NotFound(f"no legal register item '{code}'")
    following = next_review or on + timedelta(days=REVIEW_DAYS)
    require([("next_review", "must be after the check")] if following <= on else [])
    item.last_checked, item.next_review = on, following
    append(session, [AuditEvent(actor=actor, action="legal_register.checked", objects=(f"legal:{code}",))])
    return item


def items(session: Session) -> list[LegalItem]:
    return list(session.scalars(select(LegalItem).order_by(LegalItem.code)))


def overdue(session: Session, today: date) -> list[LegalItem]:
    return [i for i in items(session) if i.next_review < today]
