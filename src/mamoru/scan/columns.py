"""Classifying a column (of a database table, a CSV file or a sheet) from its header and a sample of its
values: one analyzer call over the whole sample, each value under its header, never one call a cell."""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Sequence
from dataclasses import dataclass, field, replace

from mamoru.scan.analyzer import Analyzer
from mamoru.scan.mask import mask
from mamoru.scan.recognizer import Finding
from mamoru.scan.report import MAX_OCCURRENCES, NO_DISMISSALS, Dismissals, Location, Occurrence, explain
from mamoru.scan.text import fold

# Header words (folded, lower case) that suggest an entity. Short words must equal the header.
HEADER_HINTS: dict[str, tuple[str, ...]] = {
    "person": ("氏名", "名前", "お名前", "フリガナ", "ふりがな", "カナ氏名", "full name", "fullname", "full_name",
               "first_name", "last_name", "surname", "given_name", "family_name", "担当者", "申請者", "契約者", "従業員名", "社員名"),
    "email": ("mail", "メール", "e-mail", "email"),
    "phone": ("電話", "tel", "phone", "携帯", "mobile", "fax"),
    "address": ("住所", "address", "所在地", "addr", "street"),
    "postal_code": ("郵便", "zip", "postal", "postcode", "〒"),
    "birth_date": ("生年月日", "誕生日", "birth", "dob", "birthday"),
    "my_number": ("マイナンバー", "個人番号", "my_number", "mynumber", "individual_number"),
    "credit_card": ("カード番号", "card_number", "credit", "cc_number", "card no"),
    "bank_account": ("口座", "account_no", "bank_account", "account_number"),
    "passport": ("旅券", "passport"),
    "drivers_license": ("免許", "license_no", "licence_no", "driver"),
    "health_insurance": ("保険者番号", "保険証", "被保険者", "insurance"),
    "special_care": ("病歴", "既往歴", "病名", "診断", "diagnosis", "medical", "disability", "障害", "犯罪", "criminal", "religion", "宗教", "健康診断"),
    "corporate_number": ("法人番号", "corporate_number", "登録番号"),
}  # fmt: skip
EXACT_HINTS: dict[str, str] = {
    "name": "person",
    "姓": "person",
    "名": "person",
    "kana": "person",
    "dob": "birth_date",
}
NOT_PERSONAL_HEADERS = (
    "会社",
    "社名",
    "company",
    "product",
    "商品",
    "file",
    "組織",
    "部署",
    "部門",
    "dept",
    "host",
    "server",
    "法人名",
)
MIN_SHARE = 0.3  # share of sampled values that must carry the entity
MIN_SHARE_WITH_HEADER = 0.1
_NAMEISH = re.compile(r"^[^\d@:/]{1,20}(?:[ \u3000][^\d@:/]{1,20}){0,2}$")


@dataclass
class ColumnClass:
    header: str
    hinted: str | None
    values: int
    cells: dict[str, int] = field(default_factory=dict)  # entity -> how many sampled values carry it
    samples: dict[str, list[str]] = field(default_factory=dict)  # entity -> masked samples
    scores: dict[str, float] = field(default_factory=dict)
    basis: str = "values"
    occurrences: list[Occurrence] = field(default_factory=list)  # row: 1-based among the values read

    @property
    def entities(self) -> list[str]:
        return sorted(self.cells)


def header_hint(header: str) -> str | None:
    h = fold(header).strip().lower()
    if not h or any(w in h for w in NOT_PERSONAL_HEADERS):
        return None
    if h in EXACT_HINTS:
        return EXACT_HINTS[h]
    for entity, words in HEADER_HINTS.items():
        if any(w in h for w in words):
            return entity
    return None


def analyze_cells(analyzer: Analyzer, header: str, values: Sequence[str]) -> list[tuple[int, Finding]]:
    """Findings in a column's values, each read under its header (so "生年月日" gives every date its
    context), in one analyzer call: (value index, finding with offsets into that value)."""
    label = header.replace("\n", " ").strip()[:40]
    prefix = len(label) + 2
    starts: list[int] = []
    offset = 0
    lines = []
    for v in values:
        cell = v.replace("\n", " ")
        starts.append(offset + prefix)
        lines.append(f"{label}: {cell}")
        offset += prefix + len(cell) + 1
    out: list[tuple[int, Finding]] = []
    for f in analyzer.analyze("\n".join(lines)):
        row = bisect_right(starts, f.start) - 1
        if row < 0 or f.start < starts[row]:
            continue  # a finding inside the header label itself
        base = starts[row]
        out.append((row, replace(f, start=f.start - base, end=f.end - base)))
    return out


def classify(
    analyzer: Analyzer,
    header: str,
    values: Sequence[str | None],
    dismissals: Dismissals = NO_DISMISSALS,
    container: str = "",
) -> ColumnClass:
    """Which entities a column holds: an entity counts when at least 30 % of the sampled values carry it
    (10 % when the header says so too). A person-name header over name-shaped values counts alone."""
    kept = [
        (i, str(v).strip().replace("\n", " "))
        for i, v in enumerate(values)
        if v is not None and str(v).strip()
    ]
    index = [i for i, _ in kept]  # a non-empty value's place among ``values``: an occurrence's row
    cells = [c for _, c in kept]
    hinted = header_hint(header)
    result = ColumnClass(header=header, hinted=hinted, values=len(cells))
    if not cells:
        return result
    per_entity: dict[str, set[int]] = {}
    for row, f in analyze_cells(analyzer, header, cells):
        fingerprint = dismissals.fingerprint(f.entity, container, cells[row][f.start : f.end])
        if dismissals.dismissed(fingerprint):
            continue
        per_entity.setdefault(f.entity, set()).add(row)
        masked = result.samples.setdefault(f.entity, [])
        sample = mask(cells[row][f.start : f.end])
        if len(result.occurrences) < MAX_OCCURRENCES:
            e = f.explanation
            why = explain(e.pattern, e.validation, e.context_word, e.negative_word)
            result.occurrences.append(
                Occurrence(
                    f.entity, sample, f.score, f.recognizer, why, row=index[row] + 1, fingerprint=fingerprint
                )
            )
        if len(masked) < 3 and sample not in masked:
            masked.append(sample)
        result.scores[f.entity] = max(result.scores.get(f.entity, 0.0), f.score)
    for entity, rows in per_entity.items():
        share = len(rows) / len(cells)
        if share >= MIN_SHARE or (entity == hinted and share >= MIN_SHARE_WITH_HEADER):
            result.cells[entity] = len(rows)
    if not result.cells and hinted == "person":
        shaped = [(index[i], c) for i, c in enumerate(cells) if _NAMEISH.match(c)]
        if len(shaped) >= 0.8 * len(cells):
            marks = [dismissals.fingerprint("person", container, c) for _, c in shaped]
            named = [
                (i, c, m) for (i, c), m in zip(shaped, marks, strict=True) if not dismissals.dismissed(m)
            ]
            if named:
                result.cells["person"] = len(named)
                result.samples["person"] = [mask(c) for _, c, _ in named[:3]]
                result.scores["person"] = 0.6
                result.basis = "header"
                why = "a name header over name-shaped values"
                result.occurrences = [
                    Occurrence("person", mask(c), 0.6, "columns", why, row=i + 1, fingerprint=m)
                    for i, c, m in named[:MAX_OCCURRENCES]
                ]
    result.occurrences = [o for o in result.occurrences if o.entity in result.cells]
    for entity in list(result.samples):
        if entity not in result.cells:
            del result.samples[entity]
            result.scores.pop(entity, None)
    return result


def to_location(
    cls: ColumnClass, *, kind: str, where: str, container: str, column: str, rows: int
) -> Location:
    """A classified column as a report location: each entity with its count and masked samples."""
    loc = Location(
        kind=kind, where=where, container=container, column=column, basis=cls.basis, rows_sampled=rows
    )
    for entity, n in cls.cells.items():
        h = loc.hit(entity)
        h.count, h.samples, h.score = n, cls.samples.get(entity, [])[:3], cls.scores.get(entity, 0.0)
    loc.occurrences = list(cls.occurrences)
    return loc
