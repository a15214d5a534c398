"""Checks a policy must pass beyond its shape: references, APPI and My Number rules, publishability.

Pure functions over a :class:`Policy`; each returns issues with the path of the offending field.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Iterator, Sequence

from mamoru.law.requests import fee_allowed
from mamoru.policy.errors import Path, PolicyIssue
from mamoru.policy.model import Policy, Processor, Recipient

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


def reference_issues(policy: Policy) -> list[PolicyIssue]:
    """Duplicate ids, references to undeclared ids, and the APPI / My Number rules of the content."""
    issues: list[PolicyIssue] = []
    categories = {c.id: c for c in policy.categories}
    kinds = {k.id for k in policy.subject_kinds}
    purposes = {p.id for p in policy.purposes}
    for section, ids in (
        ("categories", [c.id for c in policy.categories]),
        ("subject_kinds", [k.id for k in policy.subject_kinds]),
        ("purposes", [p.id for p in policy.purposes]),
        ("processors", [p.id for p in policy.processors]),
        ("recipients", [r.id for r in policy.recipients]),
        ("retention", [r.id for r in policy.retention]),
        ("roles", [r.id for r in policy.roles]),
    ):
        issues.extend(_duplicates(ids, section))

    for i, purpose in enumerate(policy.purposes):
        here: Path = ("purposes", i)
        if purpose.id in RESERVED_PURPOSES:
            issues.append(
                PolicyIssue(
                    (*here, "id"),
                    f"'{purpose.id}' is built in (answering a request, telling people of a breach); "
                    "choose another id",
                )
            )
        issues.extend(_unknown(purpose.subject_kinds, kinds, (*here, "subject_kinds"), "subject kind"))
        issues.extend(_unknown(purpose.categories, set(categories), (*here, "categories"), "category"))
        why = purpose_is_vague(purpose.text.ja, purpose.text.en)
        if why:
            issues.append(PolicyIssue((*here, "text"), why))
        uses_number = [c for c in purpose.categories if c in categories and categories[c].my_number]
        if uses_number and purpose.my_number is None:
            issues.append(
                PolicyIssue(
                    (*here, "categories"),
                    f"uses My Number category '{uses_number[0]}' without naming its statutory affairs "
                    "(my_number.affairs); the Individual Number may be used only for them (MN-1)",
                )
            )
        if purpose.my_number is not None and not uses_number:
            issues.append(
                PolicyIssue((*here, "my_number"), "a My Number purpose must include a My Number category")
            )

    parties: list[tuple[str, Sequence[Processor | Recipient]]] = [
        ("processors", policy.processors),
        ("recipients", policy.recipients),
    ]
    for section, entries in parties:
        for i, entry in enumerate(entries):
            issues.extend(_unknown(entry.purposes, purposes, (section, i, "purposes"), "purpose"))
            issues.extend(_unknown(entry.categories, set(categories), (section, i, "categories"), "category"))
    processor_ids = {p.id for p in policy.processors}
    for i, processor in enumerate(policy.processors):
        if processor.entrusted_by is not None and processor.entrusted_by not in processor_ids - {
            processor.id
        }:
            issues.append(
                PolicyIssue(
                    ("processors", i, "entrusted_by"), f"no other processor '{processor.entrusted_by}'"
                )
            )
        if processor.country != "JP" and processor.foreign is None:
            issues.append(
                PolicyIssue(
                    ("processors", i, "foreign"),
                    "a processor abroad needs the APPI Art. 28 information (route, country system, measures)",
                )
            )
    for i, recipient in enumerate(policy.recipients):
        here_r: Path = ("recipients", i)
        if recipient.country != "JP" and recipient.foreign is None:
            issues.append(
                PolicyIssue(
                    (*here_r, "foreign"),
                    "a recipient abroad needs the APPI Art. 28 information (route, country system, measures)",
                )
            )
        if recipient.basis == "joint_use":
            if recipient.joint_use is None:
                issues.append(
                    PolicyIssue(
                        (*here_r, "joint_use"),
                        "joint use needs its five published items: items, users, purpose, manager (APPI Art. 27(5))",
                    )
                )
            else:
                issues.extend(
                    _unknown(
                        recipient.joint_use.items,
                        set(categories),
                        (*here_r, "joint_use", "items"),
                        "category",
                    )
                )
        if recipient.basis == "opt_out":
            for j, cat in enumerate(recipient.categories):
                if cat in categories and (categories[cat].special_care or categories[cat].my_number):
                    issues.append(
                        PolicyIssue(
                            (*here_r, "categories", j),
                            "special care-required data and the Individual Number can never be provided by "
                            "opt-out (APPI Art. 27(2))",
                        )
                    )
        for j, cat in enumerate(recipient.categories):
            if cat in categories and categories[cat].my_number and recipient.basis != "law":
                issues.append(
                    PolicyIssue(
                        ("recipients", i, "categories", j),
                        "specific personal information may be provided only as the law requires; consent "
                        "cannot allow it (My Number Act Art. 19, MN-1)",
                    )
                )

    for name, category in policy.fields.items():
        if category not in categories:
            issues.append(PolicyIssue(("fields", name), f"unknown category '{category}'"))

    for i, role in enumerate(policy.roles):
        issues.extend(_unknown(role.purposes, purposes, ("roles", i, "purposes"), "purpose"))

    for i, rule in enumerate(policy.retention):
        issues.extend(_unknown(rule.categories, set(categories), ("retention", i, "categories"), "category"))
        issues.extend(_unknown(rule.purposes, purposes, ("retention", i, "purposes"), "purpose"))
        if not rule.categories and not rule.purposes:
            issues.append(PolicyIssue(("retention", i), "a retention rule must name categories or purposes"))
        if rule.years == rule.months == rule.days == 0:
            issues.append(PolicyIssue(("retention", i, "years"), "a retention period must be longer than 0"))

    for kind in policy.requests.fees:
        if policy.requests.fees[kind] > 0 and not fee_allowed(kind):
            issues.append(
                PolicyIssue(
                    ("requests", "fees", kind.value),
                    f"a fee may not be charged for '{kind.value}'; APPI Art. 38 allows fees only for "
                    "purpose notification and disclosure",
                )
            )

    if policy.revised_on is not None and policy.revised_on < policy.enacted_on:
        issues.append(PolicyIssue(("revised_on",), "the revision date is before the enactment date"))
    if policy.effective_from < policy.enacted_on:
        issues.append(PolicyIssue(("effective_from",), "the policy takes effect before it was enacted"))
    return issues


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
    return issues
