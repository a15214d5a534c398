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

#: Every kind of gap, and every reason given for one (the console has a sentence for each).
PROBLEMS = (
    "unregistered_location",
    "unmapped_table",
    "undeclared_column",
    "category_missing",
    "no_ledger_entry",
)
REASONS = (
    "no_share",
    "no_map",
    "share_declared_none",
    "share_unknown_entries",
    "entries_lack_category",
    "table_not_in_map",
    "map_no_entry",
    "column_undeclared",
    "column_lacks_category",
)

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


# The category an entity belongs to when a draft map proposes one (the policy's own ids where they
# exist; otherwise the first category carrying the flag, or the first identifying one).
_PREFERRED: dict[str, str] = {
    "person": "identity",
    "birth_date": "identity",
    "passport": "identity",
    "drivers_license": "identity",
    "health_insurance": "identity",
    "phone": "contact",
    "email": "contact",
    "address": "contact",
    "postal_code": "contact",
    "credit_card": "payment",
    "bank_account": "payment",
    "my_number": "my_number",
    "special_care": "health",
}


def suggest_categories(entities: Sequence[str], categories: Sequence[Category]) -> list[str]:
    """The policy categories that would account for ``entities`` (for a draft dataset map)."""
    by_id = {c.id: c for c in categories}
    out: list[str] = []
    for entity in entities:
        if entity not in PERSONAL:
            continue
        flag = REQUIRED_FLAG.get(entity)
        preferred = by_id.get(_PREFERRED.get(entity, ""))
        if preferred is not None and (flag is None or getattr(preferred, flag, False)):
            chosen: Category | None = preferred
        elif flag is not None:
            chosen = next((c for c in categories if getattr(c, flag, False)), None)
        else:
            chosen = next((c for c in categories if c.identifying), None)
        if chosen is not None and chosen.id not in out:
            out.append(chosen.id)
    return out


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


def _group(found: list[Gap]) -> list[Gap]:
    merged: dict[tuple[str, str], Gap] = {}
    for gap in found:
        g = merged.get((gap.where, gap.problem))
        if g is None:
            gap.entities = sorted(set(gap.entities))
            merged[(gap.where, gap.problem)] = gap
        else:
            g.entities = sorted(set(g.entities) | set(gap.entities))
    return sorted(merged.values(), key=lambda g: (g.where, g.problem))


def file_gaps(
    result: ScanResult,
    shares: Sequence[ShareView],
    ledger: Mapping[str, Sequence[str]],
    categories: Mapping[str, Category],
) -> list[Gap]:
    """Gaps for a file scan; ``ledger`` maps entry codes to their data items (category ids)."""
    ordered = sorted(shares, key=lambda s: len(s.path.parts), reverse=True)
    found: list[Gap] = []
    for loc in result.locations:
        entities = _personal(loc)
        if not entities:
            continue
        path = Path(loc.container).resolve()
        share = next((s for s in ordered if path == s.path or s.path in path.parents), None)
        where = loc.container
        if share is None:
            found.append(
                Gap(
                    where,
                    entities,
                    "unregistered_location",
                    "no file share in file-shares.yaml covers it",
                    "no_share",
                )
            )
            continue
        known = [c for c in share.ledger_entries if c in ledger]
        if not known:
            named = list(share.ledger_entries)
            if named:
                detail, reason = (
                    f"its share names unknown ledger entries: {', '.join(named)}",
                    "share_unknown_entries",
                )
            else:
                detail, reason = "its share is declared to hold no personal data", "share_declared_none"
            found.append(Gap(where, entities, "no_ledger_entry", detail, reason, named))
            continue
        declared = {c for code in known for c in ledger[code]}
        missing = _missing(entities, declared, categories)
        if missing:
            detail = f"ledger entries {', '.join(known)} declare no category for it"
            found.append(Gap(where, missing, "category_missing", detail, "entries_lack_category", known))
    return _group(found)


def database_gaps(
    result: ScanResult,
    maps: Sequence[DatasetMap],
    ledger: Mapping[str, Sequence[str]],
    categories: Mapping[str, Category],
) -> list[Gap]:
    """Gaps for a database scan; ``maps`` are the dataset maps whose URL variable names this database."""
    found: list[Gap] = []
    for loc in result.locations:
        entities = _personal(loc)
        if not entities:
            continue
        table_name = loc.container
        if not maps:
            found.append(
                Gap(
                    table_name,
                    entities,
                    "unregistered_location",
                    "no dataset map names this database",
                    "no_map",
                )
            )
            continue
        owner = next((m for m in maps if any(table_name in (t.name, t.id) for t in m.tables)), None)
        if owner is None:
            names = [m.name for m in maps]
            detail = f"no table '{table_name}' in map(s) {', '.join(names)}"
            found.append(Gap(table_name, entities, "unmapped_table", detail, "table_not_in_map", names))
            continue
        known = [c for c in owner.ledger_entries if c in ledger]
        if not known:
            detail = f"map '{owner.name}' names no known ledger entry"
            found.append(Gap(table_name, entities, "no_ledger_entry", detail, "map_no_entry", [owner.name]))
            continue
        mapped = [t for t in owner.tables if table_name in (t.name, t.id)]  # one per schema
        field = next((f for t in mapped for f in t.fields if f.name == loc.column and f.categories), None)
        if field is None or not field.categories:
            detail = f"map '{owner.name}' declares no category for this column"
            found.append(
                Gap(loc.where, entities, "undeclared_column", detail, "column_undeclared", [owner.name])
            )
            continue
        missing = _missing(entities, set(field.categories), categories)
        if missing:
            detail = f"the column's categories ({', '.join(field.categories)}) do not cover it"
            found.append(
                Gap(
                    loc.where,
                    missing,
                    "category_missing",
                    detail,
                    "column_lacks_category",
                    list(field.categories),
                )
            )
    return _group(found)
