"""The recognizer contract: patterns, context words, negative context words and a validation step.

A recognizer looks at the folded text (see `text.fold`) and yields `Finding`s with offsets into it,
each carrying an `Explanation` of how its score was reached. Scores run from 0 to 1; a finding below
`min_score` is dropped. Context is read from a window of raw characters around the value, never from
tokens: a token-based window would miss 生年月日 written as one compound.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field
from typing import ClassVar

from mamoru.scan.text import fold, words_pattern


@dataclass(frozen=True, slots=True)
class Pattern:
    """One regular expression and the score a bare match of it earns."""

    name: str
    regex: str
    score: float
    flags: int = 0
    # Words (folded, lower case) of which every match holds at least one: a text without any of them
    # is not searched with this pattern at all (a plain substring test, far cheaper than the pattern).
    requires: tuple[str, ...] = ()
    # A regular expression that every match of this pattern holds (text.LONG_NUMBER: twelve digits or
    # more): searched once a text, the answer shared by every pattern that names the same one.
    holds: str = ""


# Explanations and findings are values (nothing changes one once made: `dataclasses.replace` makes a
# new one), but not frozen: a scan makes one of each for every match, and a frozen dataclass takes four
# times as long to make.
@dataclass(slots=True, unsafe_hash=True)
class Explanation:
    """Why a finding has its score: which pattern, what validation said, which context words."""

    pattern: str
    base_score: float
    validation: bool | None = None
    context_word: str | None = None
    negative_word: str | None = None


@dataclass(slots=True, unsafe_hash=True)
class Finding:
    entity: str
    start: int
    end: int
    score: float
    recognizer: str
    explanation: Explanation = field(compare=False)

    def value(self, text: str) -> str:
        return text[self.start : self.end]


class Shared:
    """What the recognizers share about one block of text, each answer found once: which of the words
    that gate patterns occur in it (`Vocabulary.present`, or None: each gate is then searched), and
    whether each `Pattern.holds` expression occurs."""

    __slots__ = ("holds", "present")

    def __init__(self, present: AbstractSet[str] | None = None) -> None:
        self.present = present
        self.holds: dict[str, bool] = {}


class Vocabulary:
    """Every word that gates a pattern or a recognizer, found in a block in one go.

    The Japanese words by one search for them all (their first characters are rare enough for the engine
    to skip from one to the next): a match hides the words inside it (住所 in 現住所) and may hide one
    that starts inside it and runs on, so those are added or tested alone. The words in Latin letters
    by plain substring tests, only for the first characters the block holds (a flat search for them all
    tries every alternative at nearly every letter of English text)."""

    def __init__(self, words: AbstractSet[str]) -> None:
        wide = sorted((w for w in words if not w.isascii()), key=lambda w: (-len(w), w))
        self._wide = re.compile("|".join(re.escape(w) for w in wide)) if wide else None
        # For each word: the words inside it, and those that may start inside it and run past its end.
        self._inside = {v: frozenset(w for w in wide if w != v and w in v) for v in wide}
        self._overlapping = {
            v: tuple(
                w
                for w in wide
                if w not in v and any(v.endswith(w[:k]) for k in range(1, min(len(v), len(w))))
            )
            for v in wide
        }
        narrow: dict[str, list[str]] = {}
        for w in sorted(w for w in words if w.isascii()):
            narrow.setdefault(w[0], []).append(w)
        self._narrow = [(first, tuple(ws)) for first, ws in narrow.items()]

    def present(self, lowered: str) -> set[str]:
        found: set[str] = set()
        for first, words in self._narrow:
            if first in lowered:
                for w in words:
                    if w in lowered:
                        found.add(w)
        if self._wide is None:
            return found
        for v in set(self._wide.findall(lowered)):
            found.add(v)
            found |= self._inside[v]
            for w in self._overlapping[v]:
                if w not in found and w in lowered:
                    found.add(w)
                    found |= self._inside[w]
        return found


class Recognizer:
    """Base class: a subclass names its entity and patterns; it may add context and validation.

    `needs_context`: a match with no context word is dropped whatever its score (bank accounts,
    passports, dates of birth: the shapes are too common to report alone).
    """

    entity: ClassVar[str]
    label: ClassVar[dict[str, str]]  # {"ja": ..., "en": ...}
    patterns: ClassVar[tuple[Pattern, ...]]
    context: ClassVar[tuple[str, ...]] = ()
    negative_context: ClassVar[tuple[str, ...]] = ()
    window_before: ClassVar[int] = 20
    window_after: ClassVar[int] = 8
    context_boost: ClassVar[float] = 0.35
    negative_penalty: ClassVar[float] = 0.6
    valid_score: ClassVar[float | None] = None  # a validated match scores at least this
    needs_context: ClassVar[bool] = False
    min_score: ClassVar[float] = 0.5
    negative_after: ClassVar[bool] = True  # whether negative words after the value count too
    personal: ClassVar[bool] = True  # False: reported, but not personal data (a Corporate Number)
    # When set, a context window does not reach back past the previous match of this recognizer
    # (on "生年月日 1985/05/03 入社日 2010/04/01" the second date must not borrow the first's label).
    window_stops_at_previous: ClassVar[bool] = False
    # When set, a negative word earlier on the same line than the window reaches (up to `line_reach`
    # characters back) counts too, unless a context word was found in the window: "Account update
    # request #123456789018" is a ticket number however long the words between.
    negative_line: ClassVar[bool] = False
    # When set, a negative word before the value counts only when no context word comes after it (nearer
    # the value): the nearest label says what the value is.
    nearest_word_wins: ClassVar[bool] = False
    line_reach: ClassVar[int] = 200

    def __init__(self) -> None:
        self.name: str = type(self).__name__  # read for every finding: an attribute, not a property
        self._compiled = [(p, re.compile(p.regex, p.flags)) for p in self.patterns]
        self._context = words_pattern(self.context)
        self._negative = words_pattern(self.negative_context)
        self._context_words = tuple({fold(w).lower() for w in self.context})
        self._context_gate = words_pattern(self._context_words) if self.needs_context else None
        self._context_gate_words = frozenset(self._context_words)
        # Per pattern: the substring test that must pass before it runs, and whether it has a value group.
        self._gates = [words_pattern(p.requires) for p in self.patterns]
        self._holds = [re.compile(p.holds) if p.holds else None for p in self.patterns]
        self._value_group = ["v" in rx.groupindex for _, rx in self._compiled]
        # Everything `analyze` needs for a pattern, in one tuple: read once a call, not once a test.
        self._plan = [
            (pattern, regex, gate, frozenset(pattern.requires), holds, value_group)
            for (pattern, regex), gate, holds, value_group in zip(
                self._compiled, self._gates, self._holds, self._value_group, strict=True
            )
        ]
        self._own_span = type(self).span is not Recognizer.span
        self._validates = type(self).validate is not Recognizer.validate
        self._plain_applies = type(self).applies is Recognizer.applies

    def gate_words(self) -> set[str]:
        """The words (folded, lower case) this recognizer asks `Shared.present` about."""
        words = {w for p in self.patterns for w in p.requires}
        return words | set(self._context_words) if self.needs_context else words

    def gate_open(
        self, gate: re.Pattern[str] | None, words: AbstractSet[str], lowered: str, shared: Shared | None
    ) -> bool:
        """Whether a block may hold a match of a pattern gated by ``words`` (``gate`` their search)."""
        if gate is None:
            return True
        if shared is not None and shared.present is not None:
            return not shared.present.isdisjoint(words)
        return gate.search(lowered) is not None

    def applies(self, folded: str, lowered: str | None = None) -> bool:
        """A cheap test of the whole text before any pattern runs: a recognizer that needs a context
        word has nothing to find in a text without one."""
        if self._context_gate is None:
            return True
        return self._context_gate.search(folded.lower() if lowered is None else lowered) is not None

    def warm(self) -> None:
        """Load what the recognizer needs before its first text (a dictionary); nothing by default."""

    def validate(self, value: str) -> bool | None:
        """True: the value checks (a check digit holds); False: it cannot be one; None: no opinion."""
        return None

    def span(self, match: re.Match[str]) -> tuple[int, int]:
        """The part of a match that is the value (a subclass may drop a label the pattern needed)."""
        if match.lastindex and "v" in match.groupdict() and match.group("v") is not None:
            return match.span("v")
        return match.span()

    def analyze(
        self,
        folded: str,
        original: str | None = None,
        lowered: str | None = None,
        shared: Shared | None = None,
    ) -> Iterable[Finding]:
        """Findings in ``folded`` (offsets hold in ``original`` too: folding keeps every offset).
        ``lowered`` is ``folded.lower()`` when the caller has it already (the analyzer makes it once);
        ``shared`` keeps, for one text, which gate words and `Pattern.holds` expressions occur in it.

        A list, not a generator: the analyzer calls every recognizer on every block of every text, and a
        plain call with the patterns' tests prepared in ``__init__`` costs a fraction of a generator's."""
        if lowered is None or len(lowered) != len(folded):  # İ lowers to two characters
            lowered = folded.lower()
        if shared is None:
            shared = Shared()
        if self._plain_applies:
            if not self.gate_open(self._context_gate, self._context_gate_words, lowered, shared):
                return []
        elif not self.applies(folded, lowered):
            return []
        present = shared.present
        known = shared.holds
        found: list[Finding] = []
        score = self._score
        own_span = self._own_span
        for pattern, regex, gate, words, holds, value_group in self._plan:
            if gate is not None:  # `gate_open`, written out: it runs for every pattern of every block
                if present is not None:
                    if present.isdisjoint(words):
                        continue
                elif gate.search(lowered) is None:
                    continue
            if holds is not None:
                occurs = known.get(pattern.holds)
                if occurs is None:
                    occurs = known[pattern.holds] = holds.search(folded) is not None
                if not occurs:
                    continue
            previous_end = 0
            for match in regex.finditer(folded):
                if own_span:
                    start, end = self.span(match)
                elif value_group and match.group("v") is not None:
                    start, end = match.span("v")
                else:
                    start, end = match.span()
                finding = score(folded, start, end, pattern, previous_end, original, lowered)
                previous_end = end
                if finding is not None:
                    found.append(finding)
        return found

    def _score(
        self,
        folded: str,
        start: int,
        end: int,
        pattern: Pattern,
        previous_end: int,
        original: str | None = None,
        lowered: str | None = None,
    ) -> Finding | None:
        lo = start - self.window_before
        if lo < 0:
            lo = 0
        if self.window_stops_at_previous and previous_end > lo:
            lo = previous_end
        if lowered is None or len(lowered) != len(folded):
            before = folded[lo:start].lower()
            after = folded[end : end + self.window_after].lower()
        else:
            before = lowered[lo:start]
            after = lowered[end : end + self.window_after]
        if "。" in before:
            before = before[before.rfind("。") + 1 :]
        if "。" in after:
            after = after[: after.find("。")]
        if "\n" in after:
            after = after[: after.find("\n")]
        context_word = negative_word = None
        context = self._context
        if context is not None:
            at = context.search(before)
            hit, base = (at, start - len(before)) if at else (context.search(after), end)
            if hit:
                # As written (メール, not the folded メ-ル): folding keeps every offset.
                source = original if original is not None and len(original) == len(folded) else folded
                context_word = source[base + hit.start() : base + hit.end()]
        if context_word is None and self.needs_context:
            return None  # before the validation: most matches of such a recognizer end here
        validation = self.validate(folded[start:end]) if self._validates else None
        if validation is False:
            return None
        score = pattern.score
        if validation and self.valid_score is not None:
            score = max(score, self.valid_score)
        if context_word is not None:
            score += self.context_boost
        negative = self._negative
        if negative is not None:
            hit = negative.search(before)
            if hit is not None and self.nearest_word_wins and context is not None:
                # "勤務先：株式会社山田設計 / 現住所：…": a context word after the negative one is nearer.
                last_negative = max(m.end() for m in negative.finditer(before))
                if any(m.start() >= last_negative for m in context.finditer(before)):
                    hit = None
            if hit is None and self.negative_after:
                hit = negative.search(after)
            if hit is None and self.negative_line and context_word is None:
                line_start = max(folded.rfind("\n", 0, lo) + 1, lo - self.line_reach)
                hit = negative.search(folded[line_start:start].lower())
            if hit:
                negative_word = hit.group(0)
                score -= self.negative_penalty
        if score > 1.0:
            score = 1.0
        if score < self.min_score:
            return None
        return Finding(
            self.entity,
            start,
            end,
            round(score, 3),
            self.name,
            Explanation(pattern.name, pattern.score, validation, context_word, negative_word),
        )
