"""Classifying a column (of a database table, a CSV file or a sheet) from its header and a sample of its
values: one analyzer call over the whole sample, each value under its header, never one call a cell."""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache

from mamoru.scan.analyzer import Analyzer
from mamoru.scan.mask import mask
from mamoru.scan.recognizer import Explanation, Finding
from mamoru.scan.recognizers.credit_card import luhn_valid
from mamoru.scan.report import MAX_OCCURRENCES, NO_DISMISSALS, Dismissals, Location, Occurrence, explain
from mamoru.scan.text import digits_only, fold

# Header words (folded, lower case) that suggest an entity. Short words must equal the header.
HEADER_HINTS: dict[str, tuple[str, ...]] = {
    "person": ("氏名", "名前", "お名前", "フリガナ", "ふりがな", "カナ氏名", "full name", "fullname", "full_name",
               "first_name", "last_name", "surname", "given_name", "family_name", "担当者", "申請者", "契約者", "従業員名", "社員名",
               "first name", "last name", "given name", "family name", "連名", "名義", "宛名", "お届け先名", "受取人"),
    "email": ("mail", "メール", "e-mail", "email"),
    "phone": ("電話", "tel", "phone", "携帯", "mobile", "fax"),
    "address": ("住所", "address", "所在地", "addr", "street", "番地", "建物"),
    "postal_code": ("郵便", "zip", "postal", "postcode", "〒"),
    "birth_date": ("生年月日", "誕生日", "birth", "dob", "birthday"),
    "my_number": ("マイナンバー", "個人番号", "my_number", "mynumber", "individual_number"),
    "credit_card": ("カード番号", "card_number", "credit", "cc_number", "card no"),
    "bank_account": ("口座", "account_no", "bank_account", "account_number", "acct"),
    "passport": ("旅券", "passport"),
    "drivers_license": ("免許", "license_no", "licence_no", "driver"),
    "health_insurance": ("保険者番号", "保険証", "被保険者", "insurance", "insurer"),
    "special_care": ("病歴", "既往歴", "病名", "診断", "diagnosis", "medical", "disability", "障害", "犯罪", "criminal", "religion", "宗教", "健康診断"),
    "corporate_number": ("法人番号", "corporate_number", "登録番号"),
}  # fmt: skip
EXACT_HINTS: dict[str, str] = {
    "name": "person",
    "姓": "person",
    "名": "person",
    "kana": "person",
    "カナ": "person",
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
    "敬称",
    "honorific",
    "ip_addr",
    "ip addr",
    "ipaddr",
    "ipアドレス",
    "mac_addr",
    "mac addr",
    "url",
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


@lru_cache(maxsize=4096)
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
    context), in one analyzer call: (value index, finding with offsets into that value); a value with
    no context of its own counts when the header names what it is (`by_header`)."""
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
        out.append(
            (row, Finding(f.entity, f.start - base, f.end - base, f.score, f.recognizer, f.explanation))
        )
    return by_header(header, values, out)


# --- the header decides (values that carry no context of their own) ---------------------------------
# A CSV export's header is often the only context: 7 digits under 口座番号, a katakana name under カナ, a
# building and room under 住所2. A value counts for the entity its header names when it has that
# entity's shape and most of the column does, and the analyzer found nothing else in it.
_NAME_PART = r"[^\W\d_](?:[^\W\d_]|['’.\-・ー])*"
VALUE_SHAPES: dict[str, re.Pattern[str]] = {
    "person": re.compile(rf"{_NAME_PART}(?:(?:, ?| |\u3000){_NAME_PART}){{0,3}}"),
    "postal_code": re.compile(r"〒? ?\d{3}-?\d{4}|\d{5}(?:-\d{4})?"),
    "bank_account": re.compile(r"\d{6,8}|1\d{4}-\d{1,8}"),
    "health_insurance": re.compile(r"[0-9A-Za-z\u3040-\u30ff\u4e00-\u9fff]{0,6}\d{1,10}(?:[-・ /]\d{1,10})?"),
    "passport": re.compile(r"[A-Z]{1,2}\d{7,8}|\d{9}"),
    "phone": re.compile(r"\+?[\d()][\d ().-]{8,18}\d(?: ?(?:x|ext\.?) ?\d{1,5})?", re.IGNORECASE),
    "address": re.compile(r"(?=.*\d)[^@\t]{3,80}"),
    "credit_card": re.compile(r"\d{4}(?:[ -]?\d{2,6}){2,4}"),
}
NOT_A_NAME = frozenset({"なし", "無し", "不明", "同上", "未定", "未記入", "n/a", "na", "none", "null", "unknown", "tbd",
                        "様", "殿", "先生", "さん", "御中", "氏", "各位", "mr", "ms", "mrs", "dr"})  # fmt: skip
# An internal identifier's column: a number there that passes a check digit is a record's id, not a
# card or a My Number, unless a context word says otherwise.
_ID_HEADER = re.compile(
    r"(?<![a-z])(?:uu)?id(?![a-z])|(?:user|customer|member|order|employee|record)id"
    r"|管理番号|社員番号|会員番号|注文番号|受注番号|伝票番号|受付番号|品番|(?<![a-z])(?:sku|jan)(?![a-z])"
)
# Digits alone are an account, a card's symbol or a passport only under a header that names a number
# ("口座番号", "acct_no"), not under "口座残高" or "insurance_premium".
NUMBERED = ("bank_account", "health_insurance", "passport")
_NUMBER_WORD = re.compile(
    r"番号|記号|(?<![a-z])(?:no|nr|num|number)(?![a-z])|#|bank_account|passport|旅券|^口座$"
)
CHECKSUM_ONLY = ("credit_card", "my_number", "corporate_number")
_LETTER = re.compile(r"[^\W\d_]")
HEADER_SHARE = 0.5  # share of a column's non-empty values that must have the shape


def by_header(
    header: str, values: Sequence[str], found: list[tuple[int, Finding]]
) -> list[tuple[int, Finding]]:
    """The analyzer's findings in a column, corrected by what its header says: a checksum-only number in
    an identifier column is dropped; a value with the shape of the header's entity is added."""
    h = fold(header).strip().lower()
    if _ID_HEADER.search(h):
        found = [
            (row, f)
            for row, f in found
            if f.entity not in CHECKSUM_ONLY or f.explanation.context_word is not None
        ]
    entity = header_hint(header)
    shape = VALUE_SHAPES.get(entity or "")
    if entity is None or shape is None or (entity in NUMBERED and not _NUMBER_WORD.search(h)):
        return found
    fitting: list[tuple[int, int, int]] = []
    filled = 0
    # Folded in one go (folding keeps every character's place, and no cell holds a newline any more).
    cells = fold("\n".join(v.replace("\n", " ") for v in values)).split("\n")
    for row, cell in enumerate(cells):
        value = cell.strip()
        if not value:
            continue
        filled += 1
        if shape.fullmatch(value) and _plausible(entity, value):
            start = cell.index(value)
            fitting.append((row, start, start + len(value)))
    if not fitting or len(fitting) < HEADER_SHARE * filled:
        return found
    taken: dict[int, list[tuple[int, int]]] = {}
    for row, f in found:
        taken.setdefault(row, []).append((f.start, f.end))
    label = header.replace("\n", " ").strip()[:40]
    why = Explanation(f"{entity} shape under its header", 0.6, None, label)
    added = [
        (row, Finding(entity, s, e, 0.6, "columns", why))
        for row, s, e in fitting
        if not any(a < e and s < b for a, b in taken.get(row, ()))
    ]
    return sorted(found + added, key=lambda rf: (rf[0], rf[1].start))


def _plausible(entity: str, value: str) -> bool:
    if entity == "person":
        return value.lower() not in NOT_A_NAME
    if entity == "address":
        return _LETTER.search(value) is not None  # not an IP address or a bare number
    if entity == "credit_card":
        digits = digits_only(value)
        return 13 <= len(digits) <= 19 and luhn_valid(digits)
    if entity == "phone":
        main = value.lower().split("x")[0]  # the number before an extension ("x855", "ext. 12")
        return 10 <= sum(c.isdigit() for c in main) <= 13
    return True


# ----------------------------------------------------------------------------------------------------


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
