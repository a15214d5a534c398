"""The analyzer: every recognizer over one folded copy of the text, overlaps resolved, results sorted.

Overlaps: where two findings cover the same characters, the higher score wins, then the longer span,
then the earlier recognizer in the registry (a validated My Number beats a bare twelve-digit licence).
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Iterable

from mamoru.scan.recognizer import Finding, Recognizer, Shared, Vocabulary
from mamoru.scan.recognizers import REGISTERED
from mamoru.scan.text import fold

# A long text is analysed in blocks of about this many characters, each ending at a blank line.
BLOCK_CHARS = 2000


class Analyzer:
    def __init__(
        self, recognizers: Iterable[type[Recognizer]] = REGISTERED, entities: Iterable[str] | None = None
    ) -> None:
        wanted = set(entities) if entities is not None else None
        self.recognizers = [r() for r in recognizers if wanted is None or r.entity in wanted]
        self._rank = {r.name: i for i, r in enumerate(self.recognizers)}
        self._vocabulary = Vocabulary({w for r in self.recognizers for w in r.gate_words()})

    def analyze(self, text: str) -> list[Finding]:
        """Findings in ``text``. A long text is read a block at a time, each cut at a blank line: each
        recognizer's cheap tests (a context word, the words its patterns require) then skip the blocks
        that cannot hold its values, as they skip a short text. No context window reaches across a
        blank line anyway in practice (20 to 30 characters before a value, on its own paragraph)."""
        if len(text) <= BLOCK_CHARS:
            return self._resolve(self._block(text))
        found: list[Finding] = []
        start = 0
        while start < len(text):
            cut = text.find("\n\n", start + BLOCK_CHARS)
            stop = len(text) if cut < 0 else cut + 2
            if start == 0 and stop == len(text):
                found = self._block(text)
                break
            for f in self._block(text[start:stop]):
                found.append(
                    Finding(f.entity, f.start + start, f.end + start, f.score, f.recognizer, f.explanation)
                )
            start = stop
        return self._resolve(found)

    def warm(self) -> None:
        """Load every recognizer's dictionaries now (before worker processes are forked, so that they
        share one copy instead of each loading its own)."""
        for rec in self.recognizers:
            rec.warm()

    def _block(self, text: str) -> list[Finding]:
        folded = fold(text)
        lowered = folded.lower()  # for the recognizers' substring tests, made once
        shared = Shared(self._vocabulary.present(lowered))  # the gates' words and `holds` answers
        found: list[Finding] = []
        for rec in self.recognizers:
            found.extend(rec.analyze(folded, text, lowered, shared))
        return found

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
