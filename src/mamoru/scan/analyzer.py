"""The analyzer: every recognizer over one folded copy of the text, overlaps resolved, results sorted.

Overlaps: where two findings cover the same characters, the higher score wins, then the longer span,
then the earlier recognizer in the registry (a validated My Number beats a bare twelve-digit licence).
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Iterable

from mamoru.scan.recognizer import Finding, Recognizer
from mamoru.scan.recognizers import REGISTERED
from mamoru.scan.text import fold


class Analyzer:
    def __init__(
        self, recognizers: Iterable[type[Recognizer]] = REGISTERED, entities: Iterable[str] | None = None
    ) -> None:
        wanted = set(entities) if entities is not None else None
        self.recognizers = [r() for r in recognizers if wanted is None or r.entity in wanted]
        self._rank = {r.name: i for i, r in enumerate(self.recognizers)}

    def analyze(self, text: str) -> list[Finding]:
        folded = fold(text)
        lowered = folded.lower()  # for the recognizers' substring tests, made once
        found: list[Finding] = []
        for rec in self.recognizers:
            found.extend(rec.analyze(folded, text, lowered))
        return self._resolve(found)

    def _resolve(self, found: list[Finding]) -> list[Finding]:
        if len(found) < 2:
            return found
        found.sort(key=lambda f: (-f.score, -(f.end - f.start), self._rank.get(f.recognizer, 99), f.start))
        starts: list[int] = []
        kept: list[Finding] = []
        for f in found:
            i = bisect_left(starts, f.start)
            if i > 0 and kept[i - 1].end > f.start:
                continue
            if i < len(kept) and kept[i].start < f.end:
                continue
            starts.insert(i, f.start)
            kept.insert(i, f)
        return kept
