"""What a scan found: locations, the entities at each (counts and masked samples), and gaps."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

MAX_SAMPLES = 3


@dataclass
class Hits:
    """One entity at one location: how many values, and at most three masked samples."""

    entity: str
    count: int = 0
    samples: list[str] = field(default_factory=list)
    score: float = 0.0

    def add(self, masked: str, score: float) -> None:
        self.count += 1
        self.score = max(self.score, score)
        if len(self.samples) < MAX_SAMPLES and masked not in self.samples:
            self.samples.append(masked)


@dataclass
class Location:
    """A place personal data sits: a file, a column of a file, a database column.

    `container` is what the ledger (or a file share) describes: the file, or the table.
    `basis`: "text" (found in running text), "values" (a column's sampled values), "header" (a
    column's header alone, its values looking like it).
    """

    kind: str  # file | file_column | db_column
    where: str
    container: str
    column: str | None = None
    basis: str = "text"
    hits: dict[str, Hits] = field(default_factory=dict)
    rows_sampled: int = 0

    def hit(self, entity: str) -> Hits:
        h = self.hits.get(entity)
        if h is None:
            h = self.hits[entity] = Hits(entity)
        return h


@dataclass
class Gap:
    """Personal data found where the ledger says there is none (or not of this kind)."""

    where: str
    entities: list[str]
    problem: (
        str  # unregistered_location, unmapped_table, undeclared_column, category_missing, no_ledger_entry
    )
    detail: str  # in English, for the command line
    reason: str = ""  # the key of the console's sentence for it (label gapd_<reason>), in ja and en
    refs: list[str] = field(default_factory=list)  # the ledger entries or maps that sentence names


@dataclass
class ScanResult:
    target_kind: str  # files | database
    target: str  # the scanned path(s), or the environment variable naming the database (never its URL)
    locations: list[Location] = field(default_factory=list)
    gaps: list[Gap] = field(default_factory=list)
    files_scanned: int = 0
    bytes_scanned: int = 0
    errors: list[str] = field(default_factory=list)
    seconds: float = 0.0

    def totals(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for loc in self.locations:
            for e, h in loc.hits.items():
                out[e] = out.get(e, 0) + h.count
        return dict(sorted(out.items()))

    def to_json(self) -> dict[str, Any]:
        return {
            "target_kind": self.target_kind,
            "target": self.target,
            "files_scanned": self.files_scanned,
            "bytes_scanned": self.bytes_scanned,
            "seconds": round(self.seconds, 3),
            "totals": self.totals(),
            "locations": [
                {
                    "kind": loc.kind,
                    "where": loc.where,
                    "container": loc.container,
                    "column": loc.column,
                    "basis": loc.basis,
                    "rows_sampled": loc.rows_sampled,
                    "findings": [asdict(h) for h in sorted(loc.hits.values(), key=lambda h: h.entity)],
                }
                for loc in self.locations
            ],
            "gaps": [asdict(g) for g in self.gaps],
            "errors": self.errors,
        }
