"""What a scan found: locations, the entities at each (counts and masked samples), and gaps."""

from __future__ import annotations

import base64
import hashlib
import hmac
from dataclasses import asdict, dataclass, field
from typing import Any

from mamoru.scan.text import fold

MAX_SAMPLES = 3
MAX_OCCURRENCES = 1000  # findings kept one by one at a location; the count goes on past it


@dataclass
class Occurrence:
    """One finding where someone can go and look: the line of a file (1-based), or the row of a table
    column (1-based, in the order the rows were read) and a database row's key, its kind, masked value
    and why it was reported."""

    entity: str
    masked: str
    score: float
    recognizer: str
    explanation: str
    line: int | None = None
    row: int | None = None
    # A keyed hash of (kind, file or table, value): how the office's "not personal" mark finds the same
    # value at the same place in the next scan without anyone keeping the value. Empty when unkeyed.
    fingerprint: str = ""
    # A database row's primary key: the value of a one-column key, {column: value} for a composite
    # one, None for a file or a table without a key. A key column that holds personal data is masked.
    key: Any = None


@dataclass(frozen=True)
class Dismissals:
    """What a scan leaves out: the key of the fingerprints and those the office marked not personal."""

    key: bytes = b""
    marked: frozenset[str] = frozenset()

    def fingerprint(self, entity: str, container: str, value: str) -> str:
        if not self.key:
            return ""
        normal = "".join(fold(value).split()).lower()
        digest = hmac.new(self.key, f"{entity}\x00{container}\x00{normal}".encode(), hashlib.sha256).digest()
        return base64.b32encode(digest).decode().rstrip("=").lower()[:32]

    def dismissed(self, fingerprint: str) -> bool:
        return bool(fingerprint) and fingerprint in self.marked


NO_DISMISSALS = Dismissals()


def explain(
    pattern: str, validation: bool | None, context_word: str | None, negative_word: str | None
) -> str:
    """A recognizer's explanation as one line of English: the pattern, the check, the context word."""
    parts = [pattern]
    if validation is True:
        parts.append("validated")  # a check digit, a digit count, an issuer prefix: the recognizer's own test
    if context_word:
        parts.append(f"context word {context_word!r}")
    if negative_word:
        parts.append(f"negative word {negative_word!r}")
    return "; ".join(parts)


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
    occurrences: list[Occurrence] = field(default_factory=list)

    def note(self, occurrence: Occurrence) -> None:
        if len(self.occurrences) < MAX_OCCURRENCES:
            self.occurrences.append(occurrence)

    def finding_lines(self) -> list[dict[str, Any]]:
        """Each occurrence as one self-contained record (a JSON line of `mamoru scan --json`)."""
        place: dict[str, Any] = (
            {"file": self.container}
            if self.kind == "file"
            else {"file" if self.kind == "file_column" else "table": self.container, "column": self.column}
        )
        out = []
        for o in self.occurrences:
            row = asdict(o)
            if self.kind != "db_column":
                del row["key"]
            out.append({"type": "finding", **place, "kind": row.pop("entity"), **row})
        return out

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
                    "occurrences": [asdict(o) for o in loc.occurrences],
                }
                for loc in self.locations
            ],
            "gaps": [asdict(g) for g in self.gaps],
            "errors": self.errors,
        }
