"""The data map a person can read: for each purpose, the ledger entries that serve it, the categories it
uses, and the processors and recipients its data goes to, by name, with foreign countries by name; and
the foreign parties grouped by country. Names only: no personal value, no code."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from mamoru.policy.model import Policy, Processor, Recipient
from mamoru.words import country


@dataclass(frozen=True)
class Party:
    """A processor (委託先) or a recipient (提供先) as a reader sees it."""

    kind: str  # processor | recipient
    name: str
    country: str  # the country's name
    foreign: bool
    work: str = ""


@dataclass(frozen=True)
class PurposeGroup:
    purpose: str
    my_number: bool
    entries: list[str]
    categories: list[str]
    processors: list[Party]
    recipients: list[Party]


@dataclass(frozen=True)
class DataMap:
    purposes: list[PurposeGroup]
    #: country name -> the foreign parties there (each once, whatever the purposes)
    abroad: dict[str, list[Party]]


def data_map(policy: Policy, entries: Sequence[tuple[str, Sequence[str]]], lang: str) -> DataMap:
    """Group the map by purpose; ``entries`` are the ledger's (name, purpose ids)."""
    names = {c.id: c.name.in_(lang) for c in policy.categories}

    def party(kind: str, p: Processor | Recipient, work: str = "") -> Party:
        return Party(kind, p.name.in_(lang), country(p.country, lang), p.country != "JP", work)

    processors = [
        (set(p.purposes), party("processor", p, p.entrusted_work.in_(lang))) for p in policy.processors
    ]
    recipients = [(set(r.purposes), party("recipient", r)) for r in policy.recipients]
    groups = [
        PurposeGroup(
            purpose=p.text.in_(lang),
            my_number=p.my_number is not None,
            entries=sorted(name for name, ids in entries if p.id in ids),
            categories=[names.get(c, c) for c in p.categories],
            processors=[x for ids, x in processors if p.id in ids],
            recipients=[x for ids, x in recipients if p.id in ids],
        )
        for p in policy.purposes
    ]
    abroad: dict[str, list[Party]] = {}
    for _, x in processors + recipients:
        if x.foreign:
            abroad.setdefault(x.country, []).append(x)
    return DataMap(groups, dict(sorted(abroad.items())))
