"""Checks a policy must pass beyond its shape: references, APPI and My Number rules, publishability.

Pure functions over a :class:`Policy`; each returns issues with the path of the offending field.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterable, Iterator, Sequence

from mamoru.law.requests import fee_allowed
from mamoru.policy.errors import Path, PolicyIssue
from mamoru.policy.model import Category, Policy, Processor, Purpose, Recipient, SecurityArea

# APPI-17a: a purpose must be specific. These say nothing about what is done with the data.
VAGUE_PURPOSES: frozenset[str] = frozenset(
    {
        "事業活動に用いるため",
        "事業活動のため",
        "業務のため",
        "業務に利用するため",
        "当社の事業のため",
        "当財団の事業のため",
        "サービス向上のため",
        "マーケティング活動に用いるため",
        "forbusinesspurposes",
        "forbusinessuse",
        "forbusinessactivities",
        "businesspurposes",
        "toimproveourservices",
        "formarketingpurposes",
    }
)
#: The guard's built-in purpose of answering a person's own request; a policy may not declare it.
RESERVED_PURPOSES = frozenset({"subject_request", "breach_notice"})
MIN_PURPOSE_CHARS_JA = 10
MIN_PURPOSE_CHARS_EN = 20


def _squash(text: str) -> str:
    text = unicodedata.normalize("NFKC", text).lower()
    return re.sub(r"[\s、。,.・「」『』()（）:：;；!！?？\-]", "", text)


def purpose_is_vague(ja: str, en: str) -> str | None:
    """Why a purpose text is not specific enough (APPI Art. 17(1)), or None when it is."""
    for lang, text, minimum in (("ja", ja, MIN_PURPOSE_CHARS_JA), ("en", en, MIN_PURPOSE_CHARS_EN)):
        if _squash(text) in VAGUE_PURPOSES:
            return f"the {lang} text says nothing specific about the use (APPI Art. 17(1))"
        if len(text.strip()) < minimum:
            return (
                f"the {lang} text is shorter than {minimum} characters; state the use specifically "
                "(APPI Art. 17(1))"
            )
    return None


def _duplicates(ids: Iterable[str], path: str) -> Iterator[PolicyIssue]:
    seen: set[str] = set()
    for index, item in enumerate(ids):
        if item in seen:
            yield PolicyIssue((path, index, "id"), f"duplicate id '{item}'")
        seen.add(item)


def _unknown(refs: list[str], known: set[str], path: Path, what: str) -> Iterator[PolicyIssue]:
    for index, ref in enumerate(refs):
        if ref not in known:
            yield PolicyIssue((*path, index), f"unknown {what} '{ref}'")


def _categories(policy: Policy) -> dict[str, Category]:
    return {c.id: c for c in policy.categories}


def _purpose_ids(policy: Policy) -> set[str]:
    return {p.id for p in policy.purposes}


def _duplicate_ids(policy: Policy) -> Iterator[PolicyIssue]:
    for section, ids in (
        ("categories", [c.id for c in policy.categories]),
        ("subject_kinds", [k.id for k in policy.subject_kinds]),
        ("purposes", [p.id for p in policy.purposes]),
        ("processors", [p.id for p in policy.processors]),
        ("recipients", [r.id for r in policy.recipients]),
        ("retention", [r.id for r in policy.retention]),
        ("storage", [s.id for s in policy.storage]),
        ("roles", [r.id for r in policy.roles]),
    ):
        yield from _duplicates(ids, section)


def _purpose_issues(policy: Policy) -> Iterator[PolicyIssue]:
    categories = _categories(policy)
    kinds = {k.id for k in policy.subject_kinds}
    for i, purpose in enumerate(policy.purposes):
        here: Path = ("purposes", i)
        if purpose.id in RESERVED_PURPOSES:
            yield PolicyIssue(
                (*here, "id"),
                f"'{purpose.id}' is built in (answering a request, telling people of a breach); "
                "choose another id",
            )
        yield from _unknown(purpose.subject_kinds, kinds, (*here, "subject_kinds"), "subject kind")
        yield from _unknown(purpose.categories, set(categories), (*here, "categories"), "category")
        why = purpose_is_vague(purpose.text.ja, purpose.text.en)
        if why:
            yield PolicyIssue((*here, "text"), why)
        yield from _purpose_my_number_issues(purpose, here, categories)
        yield from _purpose_change_issues(purpose, here)


def _purpose_change_issues(purpose: Purpose, here: Path) -> Iterator[PolicyIssue]:
    """APPI-17b: every version after the first records its change (related or not, and why)."""
    seen: set[int] = set()
    for j, change in enumerate(purpose.changes):
        if change.version in seen or change.version > purpose.version:
            yield PolicyIssue(
                (*here, "changes", j, "version"),
                f"version {change.version} is recorded twice or is later than the purpose's version "
                f"{purpose.version}",
            )
        seen.add(change.version)
    for version in range(2, purpose.version + 1):
        if version not in seen:
            yield PolicyIssue(
                (*here, "changes"),
                f"version {version} of the purpose has no change record: say whether it is reasonably related "
                "to the previous purpose, why, and what the purpose said before (APPI Art. 17(2))",
            )
    assessment = purpose.improper_use
    if assessment is not None and assessment.version != purpose.version:
        yield PolicyIssue(
            (*here, "improper_use", "version"),
            f"the improper-use assessment is of version {assessment.version}, but the purpose is at version "
            f"{purpose.version}; assess the purpose as it now reads (APPI Art. 19)",
        )


def _purpose_my_number_issues(
    purpose: Purpose, here: Path, categories: dict[str, Category]
) -> Iterator[PolicyIssue]:
    uses_number = [c for c in purpose.categories if c in categories and categories[c].my_number]
    if uses_number and purpose.my_number is None:
        yield PolicyIssue(
            (*here, "categories"),
            f"uses My Number category '{uses_number[0]}' without naming its statutory affairs "
            "(my_number.affairs); the Individual Number may be used only for them (MN-1)",
        )
    if purpose.my_number is not None and not uses_number:
        yield PolicyIssue((*here, "my_number"), "a My Number purpose must include a My Number category")


def _party_references(policy: Policy) -> Iterator[PolicyIssue]:
    """The purposes and categories that processors, then recipients, name."""
    categories = set(_categories(policy))
    purposes = _purpose_ids(policy)
    parties: list[tuple[str, Sequence[Processor | Recipient]]] = [
        ("processors", policy.processors),
        ("recipients", policy.recipients),
    ]
    for section, entries in parties:
        for i, entry in enumerate(entries):
            yield from _unknown(entry.purposes, purposes, (section, i, "purposes"), "purpose")
            yield from _unknown(entry.categories, categories, (section, i, "categories"), "category")


def _processor_issues(policy: Policy) -> Iterator[PolicyIssue]:
    processor_ids = {p.id for p in policy.processors}
    for i, processor in enumerate(policy.processors):
        if processor.entrusted_by is not None and processor.entrusted_by not in processor_ids - {
            processor.id
        }:
            yield PolicyIssue(
                ("processors", i, "entrusted_by"), f"no other processor '{processor.entrusted_by}'"
            )
        if processor.country != "JP" and processor.foreign is None:
            yield PolicyIssue(
                ("processors", i, "foreign"),
                "a processor abroad needs the APPI Art. 28 information (route, country system, measures)",
            )


def _recipient_issues(policy: Policy) -> Iterator[PolicyIssue]:
    categories = _categories(policy)
    for i, recipient in enumerate(policy.recipients):
        here: Path = ("recipients", i)
        if recipient.country != "JP" and recipient.foreign is None:
            yield PolicyIssue(
                (*here, "foreign"),
                "a recipient abroad needs the APPI Art. 28 information (route, country system, measures)",
            )
        if recipient.basis == "joint_use":
            yield from _joint_use_issues(recipient, here, categories)
        if recipient.basis == "opt_out":
            yield from _opt_out_issues(recipient, here, categories)
        elif recipient.opt_out is not None:
            yield PolicyIssue(
                (*here, "opt_out"), "opt-out notice items on a recipient whose basis is not opt_out"
            )
        yield from _my_number_provision_issues(recipient, here, categories)


def _joint_use_issues(
    recipient: Recipient, here: Path, categories: dict[str, Category]
) -> Iterator[PolicyIssue]:
    if recipient.joint_use is None:
        yield PolicyIssue(
            (*here, "joint_use"),
            "joint use needs its five published items: items, users, purpose, manager (APPI Art. 27(5))",
        )
    else:
        yield from _unknown(
            recipient.joint_use.items, set(categories), (*here, "joint_use", "items"), "category"
        )


#: The items of APPI Art. 27(2) a recipient by opt-out states itself (policy ``recipients[].opt_out``).
OPT_OUT_ITEMS = ("acquisition_method", "provision_method", "request_method", "update_method", "starts_on")


def _opt_out_issues(
    recipient: Recipient, here: Path, categories: dict[str, Category]
) -> Iterator[PolicyIssue]:
    if recipient.opt_out is None:
        yield PolicyIssue(
            (*here, "opt_out"),
            "provision by opt-out needs its notice items: acquisition_method, provision_method, "
            "request_method, update_method, starts_on (APPI Art. 27(2))",
        )
    else:
        for item in OPT_OUT_ITEMS:
            if getattr(recipient.opt_out, item) is None:
                yield PolicyIssue(
                    (*here, "opt_out", item),
                    f"the opt-out notice lacks its {item.replace('_', ' ')} (APPI Art. 27(2)); "
                    "it cannot be published or filed without it",
                )
    for j, cat in enumerate(recipient.categories):
        if cat in categories and (categories[cat].special_care or categories[cat].my_number):
            yield PolicyIssue(
                (*here, "categories", j),
                "special care-required data and the Individual Number can never be provided by "
                "opt-out (APPI Art. 27(2))",
            )


def _my_number_provision_issues(
    recipient: Recipient, here: Path, categories: dict[str, Category]
) -> Iterator[PolicyIssue]:
    for j, cat in enumerate(recipient.categories):
        if cat in categories and categories[cat].my_number and recipient.basis != "law":
            yield PolicyIssue(
                (*here, "categories", j),
                "specific personal information may be provided only as the law requires; consent "
                "cannot allow it (My Number Act Art. 19, MN-1)",
            )


def _storage_issues(policy: Policy) -> Iterator[PolicyIssue]:
    categories = set(_categories(policy))
    for i, place in enumerate(policy.storage):
        yield from _unknown(place.categories, categories, ("storage", i, "categories"), "category")
        if place.country != "JP" and place.country_system is None:
            yield PolicyIssue(
                ("storage", i, "country_system"),
                "a storage location abroad needs what we know of that country's protection system "
                "(the notice's foreign environment section is made from it)",
            )
    for i, measure in enumerate(policy.security_measures):
        if measure.area == SecurityArea.EXTERNAL_ENVIRONMENT:
            yield PolicyIssue(
                ("security_measures", i, "area"),
                "the foreign environment section is generated from the countries of the processors, "
                "recipients and storage locations; declare those (storage: ...) instead of writing it",
            )


def _field_issues(policy: Policy) -> Iterator[PolicyIssue]:
    categories = _categories(policy)
    for name, category in policy.fields.items():
        if category not in categories:
            yield PolicyIssue(("fields", name), f"unknown category '{category}'")


def _role_issues(policy: Policy) -> Iterator[PolicyIssue]:
    purposes = _purpose_ids(policy)
    for i, role in enumerate(policy.roles):
        yield from _unknown(role.purposes, purposes, ("roles", i, "purposes"), "purpose")


def _retention_issues(policy: Policy) -> Iterator[PolicyIssue]:
    categories = set(_categories(policy))
    purposes = _purpose_ids(policy)
    for i, rule in enumerate(policy.retention):
        yield from _unknown(rule.categories, categories, ("retention", i, "categories"), "category")
        yield from _unknown(rule.purposes, purposes, ("retention", i, "purposes"), "purpose")
        if not rule.categories and not rule.purposes:
            yield PolicyIssue(("retention", i), "a retention rule must name categories or purposes")
        if rule.years == rule.months == rule.days == 0:
            yield PolicyIssue(("retention", i, "years"), "a retention period must be longer than 0")


def _fee_issues(policy: Policy) -> Iterator[PolicyIssue]:
    for kind in policy.requests.fees:
        if policy.requests.fees[kind] > 0 and not fee_allowed(kind):
            yield PolicyIssue(
                ("requests", "fees", kind.value),
                f"a fee may not be charged for '{kind.value}'; APPI Art. 38 allows fees only for "
                "purpose notification and disclosure",
            )


def _date_issues(policy: Policy) -> Iterator[PolicyIssue]:
    if policy.revised_on is not None and policy.revised_on < policy.enacted_on:
        yield PolicyIssue(("revised_on",), "the revision date is before the enactment date")
    if policy.effective_from < policy.enacted_on:
        yield PolicyIssue(("effective_from",), "the policy takes effect before it was enacted")


#: The checks of :func:`reference_issues`, one per part of the policy, in the order their issues are listed.
_REFERENCE_CHECKS: tuple[Callable[[Policy], Iterable[PolicyIssue]], ...] = (
    _duplicate_ids,
    _purpose_issues,
    _party_references,
    _processor_issues,
    _recipient_issues,
    _storage_issues,
    _field_issues,
    _role_issues,
    _retention_issues,
    _fee_issues,
    _date_issues,
)


def reference_issues(policy: Policy) -> list[PolicyIssue]:
    """Duplicate ids, references to undeclared ids, and the APPI / My Number rules of the content."""
    return [issue for check in _REFERENCE_CHECKS for issue in check(policy)]


def publication_issues(policy: Policy) -> list[PolicyIssue]:
    """What a notice needs before it may be published (APPI Art. 32, JIS Q 15001 A.3.2.2)."""
    issues: list[PolicyIssue] = []
    if policy.revised_on is None:
        issues.append(
            PolicyIssue(("revised_on",), "a published policy must state its last revision date (JIS-5)")
        )
    if policy.organization.inquiry_contact is None:
        issues.append(
            PolicyIssue(
                ("organization", "inquiry_contact"),
                "a published policy must name a contact for inquiries and complaints (APPI-32, JIS-5)",
            )
        )
    if not policy.security_measures:
        issues.append(
            PolicyIssue(("security_measures",), "the security measures taken must be stated (APPI-32)")
        )
    for i, purpose in enumerate(policy.purposes):
        if purpose.improper_use is None:
            issues.append(
                PolicyIssue(
                    ("purposes", i, "improper_use"),
                    "a purpose is put in force only after its improper-use assessment: that the use cannot "
                    "encourage or induce an illegal or improper act (APPI Art. 19)",
                )
            )
    return issues
