"""The ledger gap report: personal data found where the ledger (through a dataset map or a file share)
says there is none, or not of that kind.

Pure: it takes the scan result, the file shares or dataset maps, the ledger's entries and the policy's
categories, and returns the gaps. The rules:

- a location no share or map covers → ``unregistered_location``;
- a database table its map does not list → ``unmapped_table``; a column the map does not declare (or
  declares with no category) → ``undeclared_column``;
- a share or map that names no ledger entry, or only unknown ones → ``no_ledger_entry``;
- a My Number, special care-required data or payment data where no declared category carries that
  flag → ``category_missing``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from mamoru.connectors.maps import DatasetMap
from mamoru.policy.model import Category
from mamoru.scan.recognizers import PERSONAL
from mamoru.scan.report import Gap, Location, ScanResult

# The flag a declared category must carry for an entity (None: any category will do).
REQUIRED_FLAG: dict[str, str | None] = {
    "my_number": "my_number",
    "special_care": "special_care",
    "credit_card": "financial_risk",
    "bank_account": "financial_risk",
}


@dataclass(frozen=True)
class ShareView:
    path: Path
    ledger_entries: tuple[str, ...]


def _personal(loc: Location) -> list[str]:
    return sorted(e for e in loc.hits if e in PERSONAL)


def _missing(entities: Sequence[str], declared: set[str], categories: Mapping[str, Category]) -> list[str]:
    """The entities no declared category accounts for."""
    out = []
    for e in entities:
        flag = REQUIRED_FLAG.get(e)
        if flag is None:
            if not declared:
                out.append(e)
            continue
        if not any(getattr(categories.get(c), flag, False) for c in declared):
            out.append(e)
    return out


def _group(locations: list[tuple[str, list[str], str, str]]) -> list[Gap]:
    merged: dict[tuple[str, str], Gap] = {}
    for where, entities, problem, detail in locations:
        g = merged.get((where, problem))
        if g is None:
            merged[(where, problem)] = Gap(where, sorted(set(entities)), problem, detail)
        else:
            g.entities = sorted(set(g.entities) | set(entities))
    return sorted(merged.values(), key=lambda g: (g.where, g.problem))


def file_gaps(
    result: ScanResult,
    shares: Sequence[ShareView],
    ledger: Mapping[str, Sequence[str]],
    categories: Mapping[str, Category],
) -> list[Gap]:
    """Gaps for a file scan; ``ledger`` maps entry codes to their data items (category ids)."""
    ordered = sorted(shares, key=lambda s: len(s.path.parts), reverse=True)
    raw: list[tuple[str, list[str], str, str]] = []
    for loc in result.locations:
        entities = _personal(loc)
        if not entities:
            continue
        path = Path(loc.container).resolve()
        share = next((s for s in ordered if path == s.path or s.path in path.parents), None)
        if share is None:
            raw.append(
                (
                    loc.container,
                    entities,
                    "unregistered_location",
                    "no file share in file-shares.yaml covers it",
                )
            )
            continue
        known = [c for c in share.ledger_entries if c in ledger]
        if not known:
            detail = (
                f"its share names unknown ledger entries: {', '.join(share.ledger_entries)}"
                if share.ledger_entries
                else "its share is declared to hold no personal data"
            )
            raw.append((loc.container, entities, "no_ledger_entry", detail))
            continue
        declared = {c for code in known for c in ledger[code]}
        missing = _missing(entities, declared, categories)
        if missing:
            raw.append(
                (
                    loc.container,
                    missing,
                    "category_missing",
                    f"ledger entries {', '.join(known)} declare no category for it",
                )
            )
    return _group(raw)


def database_gaps(
    result: ScanResult,
    maps: Sequence[DatasetMap],
    ledger: Mapping[str, Sequence[str]],
    categories: Mapping[str, Category],
) -> list[Gap]:
    """Gaps for a database scan; ``maps`` are the dataset maps whose URL variable names this database."""
    raw: list[tuple[str, list[str], str, str]] = []
    for loc in result.locations:
        entities = _personal(loc)
        if not entities:
            continue
        if not maps:
            raw.append(
                (loc.container, entities, "unregistered_location", "no dataset map names this database")
            )
            continue
        owner = next((m for m in maps if any(t.name == loc.container for t in m.tables)), None)
        if owner is None:
            raw.append(
                (
                    loc.container,
                    entities,
                    "unmapped_table",
                    f"no table '{loc.container}' in map(s) {', '.join(m.name for m in maps)}",
                )
            )
            continue
        known = [c for c in owner.ledger_entries if c in ledger]
        if not known:
            raw.append(
                (
                    loc.container,
                    entities,
                    "no_ledger_entry",
                    f"map '{owner.name}' names no known ledger entry",
                )
            )
            continue
        table = owner.table(loc.container)
        field = next((f for f in table.fields if f.name == loc.column), None)
        if field is None or not field.categories:
            raw.append(
                (
                    loc.where,
                    entities,
                    "undeclared_column",
                    f"map '{owner.name}' declares no category for this column",
                )
            )
            continue
        missing = _missing(entities, set(field.categories), categories)
        if missing:
            raw.append(
                (
                    loc.where,
                    missing,
                    "category_missing",
                    f"the column's categories ({', '.join(field.categories)}) do not cover it",
                )
            )
    return _group(raw)
