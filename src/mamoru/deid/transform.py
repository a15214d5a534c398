"""The field treatments of a plan as pure functions, the token generator, and the k-anonymity measure.

No clock (the creation date is given), no I/O. Tokens come from the operating system's CSPRNG
(:mod:`secrets`), never from a hash of the value: without the stored mapping, the same value gets a
different token in every dataset.
"""

from __future__ import annotations

import secrets
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from decimal import ROUND_FLOOR, Decimal, InvalidOperation
from functools import lru_cache
from typing import Any

from mamoru.deid.plan import FieldRule, Generalization, Plan, Treatment
from mamoru.files import safe_cell

PREFECTURES = [
    "北海道",
    "青森県",
    "岩手県",
    "宮城県",
    "秋田県",
    "山形県",
    "福島県",
    "茨城県",
    "栃木県",
    "群馬県",
    "埼玉県",
    "千葉県",
    "東京都",
    "神奈川県",
    "新潟県",
    "富山県",
    "石川県",
    "福井県",
    "山梨県",
    "長野県",
    "岐阜県",
    "静岡県",
    "愛知県",
    "三重県",
    "滋賀県",
    "京都府",
    "大阪府",
    "兵庫県",
    "奈良県",
    "和歌山県",
    "鳥取県",
    "島根県",
    "岡山県",
    "広島県",
    "山口県",
    "徳島県",
    "香川県",
    "愛媛県",
    "高知県",
    "福岡県",
    "佐賀県",
    "長崎県",
    "熊本県",
    "大分県",
    "宮崎県",
    "鹿児島県",
    "沖縄県",
]
#: The eight regions (地方), by the first prefecture of each in PREFECTURES' order.
_REGIONS = (
    (0, "北海道地方"),
    (1, "東北地方"),
    (7, "関東地方"),
    (14, "中部地方"),
    (23, "近畿地方"),
    (30, "中国地方"),
    (35, "四国地方"),
    (39, "九州・沖縄地方"),
)
#: What a value that cannot be generalized becomes (an unparsable date, an address with no prefecture).
UNKNOWN = ""


def new_token() -> str:
    """96 random bits from the CSPRNG, 16 URL-safe characters."""
    return secrets.token_urlsafe(12)


def _date(value: Any) -> date | None:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value).strip()[:10])
    except ValueError:
        return None


def _number(value: Any) -> Decimal | None:
    if isinstance(value, bool) or value is None:
        return None
    try:
        return Decimal(str(value).strip().replace(",", ""))
    except InvalidOperation:
        return None


def prefecture(address: str) -> str:
    text = address.strip()
    return next((p for p in PREFECTURES if text.startswith(p)), UNKNOWN)


def region(address: str) -> str:
    found = prefecture(address)
    if not found:
        return UNKNOWN
    index = PREFECTURES.index(found)
    return next(name for start, name in reversed(_REGIONS) if index >= start)


def _plain(n: Decimal) -> str:
    return str(int(n)) if n == n.to_integral_value() else str(n.normalize())


def generalize(rule: FieldRule, value: Any, created_on: date) -> str:
    if value is None or value == "":
        return UNKNOWN
    how = rule.generalize
    if how is Generalization.YEAR:
        d = _date(value)
        return str(d.year) if d else UNKNOWN
    if how is Generalization.AGE_BAND:
        d = _date(value)
        if d is None:
            return UNKNOWN
        age = created_on.year - d.year - ((created_on.month, created_on.day) < (d.month, d.day))
        low = (max(age, 0) // rule.width) * rule.width
        return f"{low}-{low + rule.width - 1}"
    if how is Generalization.PREFECTURE:
        return prefecture(str(value))
    if how is Generalization.REGION:
        return region(str(value))
    n = _number(value)
    if n is None:
        return UNKNOWN
    width = Decimal(rule.width)
    start = (n / width).to_integral_value(rounding=ROUND_FLOOR) * width
    return f"{_plain(start)}-{_plain(start + width - 1)}"


def top_bottom(rule: FieldRule, value: Any) -> str:
    n = _number(value)
    if n is None:
        return UNKNOWN
    if rule.top is not None and n > Decimal(str(rule.top)):
        n = Decimal(str(rule.top))
    if rule.bottom is not None and n < Decimal(str(rule.bottom)):
        n = Decimal(str(rule.bottom))
    return _plain(n)


def cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, bytes):
        return value.hex()
    return str(value)


Tokenize = Callable[[str, str], str]


def _keep(value: Any) -> str:
    return str(safe_cell(value)) if isinstance(value, str) else cell(value)


#: How many distinct values of one field a run remembers the generalization of (repeated dates,
#: addresses and numbers cost a lookup; memory stays bounded whatever the source holds).
MEMO = 65_536


class Transformer:
    """Turns one source row into one output row, as the plan says. One function per output field is
    chosen once; generalizations are memoized per field."""

    def __init__(self, plan: Plan, created_on: date, tokenize: Tokenize) -> None:
        self.plan, self.created_on, self.tokenize = plan, created_on, tokenize
        self._steps: list[tuple[str, Callable[[Any], str]]] = [(r.name, self._step(r)) for r in plan.output()]

    def _step(self, rule: FieldRule) -> Callable[[Any], str]:
        t = rule.treatment
        if t is Treatment.KEEP:
            return _keep
        if t is Treatment.TOKEN:
            name, tokenize = rule.name, self.tokenize
            return lambda v: "" if v is None or v == "" else tokenize(name, cell(v))
        created_on = self.created_on
        if t is Treatment.GENERALIZE:
            memo = lru_cache(maxsize=MEMO)(lambda v: generalize(rule, v, created_on))
        else:
            memo = lru_cache(maxsize=MEMO)(lambda v: top_bottom(rule, v))

        def step(v: Any) -> str:
            try:
                return memo(v)
            except TypeError:  # an unhashable value
                return memo.__wrapped__(v)

        return step

    def __call__(self, row: Mapping[str, Any]) -> list[str]:
        get = row.get
        return [f(get(name)) for name, f in self._steps]


def qi_positions(plan: Plan) -> list[int]:
    names = [f.name for f in plan.output()]
    return [names.index(q) for q in plan.quasi_identifiers]


def class_key(row: list[str], positions: list[int]) -> tuple[str, ...]:
    return tuple(row[i] for i in positions)


@dataclass(frozen=True)
class KAnonymity:
    """The measure over the quasi-identifiers: how many classes, the smallest, those below k."""

    k: int
    classes: int
    smallest: int
    rows: int
    rare: frozenset[tuple[str, ...]]  # classes below k (their rows are suppressed, if the plan allows)
    rare_rows: int
    smallest_kept: int  # the smallest class once the rare ones are suppressed

    @property
    def met(self) -> bool:
        return self.smallest >= self.k


def measure(keys: Iterable[tuple[str, ...]], k: int) -> KAnonymity:
    counts = Counter(keys)
    rare = frozenset(c for c, n in counts.items() if n < k)
    return KAnonymity(
        k=k,
        classes=len(counts),
        smallest=min(counts.values(), default=0),
        rows=sum(counts.values()),
        rare=rare,
        rare_rows=sum(counts[c] for c in rare),
        smallest_kept=min((n for n in counts.values() if n >= k), default=0),
    )
