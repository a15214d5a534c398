"""Finding the person a request is about (APPI Art. 33): several identifiers, each looked up by the vault's
blind index, never by opening stored values.

The requester may give, besides the e-mail address they prove by a code, a phone number, their date of
birth and a customer or staff number. Each identifier that finds a data subject adds to that subject's
score; the score's band is the confidence the office sees. A subject found with at least medium
confidence is linked to the request; the office links or unlinks others by hand before approval
(:func:`mamoru.requests.service.link`). A weak match, or a person whose data includes special
care-required information, needs an identity document the office has checked before the request can be
approved.

Nothing here holds a personal value: identifiers are kept on the request as blind indexes only, and the
reasons a subject matched are codes (``phone``, ``name_birth_date``) that the pages put into words.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from enum import StrEnum

from sqlalchemy import select
from sqlalchemy.orm import Session

from mamoru.ledger.tables import Acquisition
from mamoru.policy.model import Policy
from mamoru.requests.tables import RequestCandidate, SubjectRequest
from mamoru.vault.service import Vault


class Reason(StrEnum):
    """Why a subject matched a request; each has a weight (``WEIGHTS``) and words in the catalog."""

    EMAIL = "email"  # the e-mail address the requester proved by the code
    PHONE = "phone"
    NAME_BIRTH_DATE = "name_birth_date"  # the name and the date of birth, both
    MEMBER_NUMBER = "member_number"  # a customer or staff number
    NAME = "name"  # the name alone: never a match by itself, it only adds to another identifier
    BY_HAND = "by_hand"  # linked by the office


WEIGHTS: dict[Reason, int] = {
    Reason.EMAIL: 70,
    Reason.PHONE: 40,
    Reason.NAME_BIRTH_DATE: 40,
    Reason.MEMBER_NUMBER: 40,
    Reason.NAME: 10,
    Reason.BY_HAND: 0,
}
#: A subject scoring this much is linked by itself (one identifier besides the name is enough).
LINK_FROM = 40
#: Below this a linked subject is a weak match: an identity document must be checked (the e-mail proven
#: by code, or two identifiers that agree, reach it).
STRONG_FROM = 70


class Confidence(StrEnum):
    STRONG = "strong"
    MEDIUM = "medium"
    WEAK = "weak"


def confidence(score: int) -> Confidence:
    if score >= STRONG_FROM:
        return Confidence.STRONG
    if score >= LINK_FROM:
        return Confidence.MEDIUM
    return Confidence.WEAK


class IdentityNeed(StrEnum):
    """Why the request needs an identity document checked by the office."""

    WEAK_MATCH = "weak_match"
    SPECIAL_CARE = "special_care"


#: The member number is looked for among both kinds of number.
MEMBER_FIELDS = ("employee_number", "customer_number")


def identifier_indexes(
    vault: Vault,
    *,
    name: str | None,
    phone: str | None = None,
    birth_date: date | None = None,
    member_number: str | None = None,
) -> dict[str, str]:
    """The blind indexes of what the requester gave (field -> index), kept on the request instead of
    the values. The e-mail address has its own column."""
    indexes: dict[str, str] = {}
    if name and name.strip():
        indexes["name"] = vault.blind_index("name", name)
    if phone and any(ch.isdigit() for ch in phone):
        indexes["phone"] = vault.blind_index("phone", phone)
    if birth_date is not None:
        indexes["birth_date"] = vault.blind_index("birth_date", birth_date.isoformat())
    if member_number:
        for field in MEMBER_FIELDS:
            indexes[field] = vault.blind_index(field, member_number)
    return indexes


@dataclass(frozen=True)
class Match:
    subject_id: str
    score: int
    reasons: tuple[Reason, ...]

    @property
    def confidence(self) -> Confidence:
        return confidence(self.score)


def combined(subject_id: str, reasons: Iterable[str]) -> Match:
    """One subject's match from all the reasons found for it (the name alone adds only beside another
    identifier, and nothing beside the name with the date of birth)."""
    kept = {Reason(r) for r in reasons}
    if Reason.NAME_BIRTH_DATE in kept:
        kept.discard(Reason.NAME)
    return Match(subject_id, min(100, sum(WEIGHTS[r] for r in kept)), tuple(sorted(kept)))


def find(session: Session, vault: Vault, request: SubjectRequest) -> list[Match]:
    """The subjects the request's identifiers find, the best first. The e-mail address counts only once
    the requester has proven it."""
    email = request.email_index if request.verified_at is not None else None
    return find_by_indexes(session, vault, dict(request.identifiers or {}), email_index=email)


def find_by_indexes(
    session: Session, vault: Vault, indexes: dict[str, str], *, email_index: str | None = None
) -> list[Match]:
    """The subjects these blind indexes find (field -> index, as :func:`identifier_indexes` makes them),
    the best first."""
    found: dict[str, set[Reason]] = defaultdict(set)

    def hits(field: str) -> set[str]:
        index = indexes.get(field)
        return set(vault.find_by_index(session, field, index)) if index else set()

    if email_index is not None:
        for subject in vault.find_by_index(session, "email", email_index):
            found[subject].add(Reason.EMAIL)
    for subject in hits("phone"):
        found[subject].add(Reason.PHONE)
    for field in MEMBER_FIELDS:
        for subject in hits(field):
            found[subject].add(Reason.MEMBER_NUMBER)
    named = hits("name")
    for subject in named & hits("birth_date"):
        found[subject].add(Reason.NAME_BIRTH_DATE)
    for subject in named:
        if subject in found and Reason.NAME_BIRTH_DATE not in found[subject]:
            found[subject].add(Reason.NAME)
    matches = [combined(subject, reasons) for subject, reasons in found.items()]
    return sorted(matches, key=lambda m: (-m.score, m.subject_id))


def special_care_subjects(
    session: Session, vault: Vault, policy: Policy, subject_ids: Iterable[str]
) -> list[str]:
    """Those of ``subject_ids`` whose data includes special care-required information: a stored field of
    such a category, or an acquisition that recorded one (names and categories only; nothing opened)."""
    special = {c.id for c in policy.categories if c.special_care}
    ids = list(subject_ids)
    if not ids or not special:
        return []
    out: set[str] = set()
    for subject in ids:
        if any(policy.fields.get(f) in special for f in vault.field_names(session, subject)):
            out.add(subject)
    for subject, categories in session.execute(
        select(Acquisition.subject_id, Acquisition.categories).where(Acquisition.subject_id.in_(ids))
    ):
        if special & set(categories or ()):
            out.add(subject)
    return sorted(out)


def identity_needs(
    session: Session, vault: Vault, policy: Policy, request: SubjectRequest
) -> list[IdentityNeed]:
    """Why an identity document must be checked before the request is approved (none: the code is
    enough): a linked subject matched below ``STRONG_FROM`` (linked by hand included), or data of a
    linked subject is special care-required."""
    linked = list(request.subjects or ())
    scores = {
        c.subject_id: c.score
        for c in session.scalars(select(RequestCandidate).where(RequestCandidate.request_id == request.id))
    }
    needs: list[IdentityNeed] = []
    if any(scores.get(subject, 0) < STRONG_FROM for subject in linked):
        needs.append(IdentityNeed.WEAK_MATCH)
    if special_care_subjects(session, vault, policy, linked):
        needs.append(IdentityNeed.SPECIAL_CARE)
    return needs
