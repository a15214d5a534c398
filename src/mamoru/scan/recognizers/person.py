"""Person names: kanji and kana through SudachiPy's part-of-speech tags (人名・姓／名), kana names under
a reading label (フリガナ), and romaji names through the compiled surname list."""

from __future__ import annotations

import re
import threading
import warnings
from collections.abc import Iterator
from typing import Any, ClassVar

from mamoru.scan.recognizer import Explanation, Finding, Pattern, Recognizer
from mamoru.scan.romaji_names import COMPANY_WORDS, GIVEN_NAMES, SURNAMES
from mamoru.scan.text import KANJI_OR_KATAKANA, words_pattern

HONORIFICS = (
    "様",
    "さま",
    "さん",
    "氏",
    "殿",
    "君",
    "くん",
    "ちゃん",
    "先生",
    "部長",
    "課長",
    "係長",
    "社長",
    "主任",
    "室長",
)
NAME_LABELS = (
    "氏名", "名前", "お名前", "担当", "担当者", "申請者", "申込者", "代表者", "差出人", "宛先", "記入者", "本人",
    "従業員", "社員", "受付者", "依頼者", "相談者", "患者", "契約者", "被保険者", "扶養", "配偶者", "保護者",
    "name", "from:", "to:", "attn", "dear", "mr.", "ms.", "mrs.", "dr.", "prof.",
)  # fmt: skip
ORG_SUFFIXES = (
    "株式会社", "有限会社", "合同会社", "(株)", "（株）", "製作所", "商事", "工業", "銀行", "病院", "医院",
    "クリニック", "大学", "学園", "学校", "商店", "建設", "産業", "電機", "電気", "不動産", "事務所", "法律",
    "会計", "駅", "市", "町", "村", "区", "郡", "県", "通り", "ビル", "運輸", "ホールディングス", "グループ",
    "会社", "特許", "化学", "薬品", "食品", "証券", "保険", "財団", "協会", "研究所", "記念", "賞", "家",
    "屋", "店", "堂", "製薬", "物産", "興業", "印刷", "精機", "自動車", "鉄道", "新聞", "出版",
)  # fmt: skip
ORG_PREFIXES = ("株式会社", "有限会社", "合同会社", "(株)", "（株）", "財団法人", "社団法人")

_SUDACHI_MAX_BYTES = 45_000
# A word that can be read as Hepburn romaji syllables (ta-i-chi, ha-t-to-ri, shi-n-ji): next to a known
# surname such a word is taken for a given name; English words (Motor, Dear, Industries) are not.
_SYLLABLE = r"(?:[kstpc](?=[kstpc]))?(?:[kgsztdnhbpmr]y?[aeiou]|sh[aiuo]|ch[aiuo]|j[aiuo]|tsu|f[uaio]|w[ao]|y[aou]|[aeiou]|n(?![aeiouy]))"
_ROMAJI = re.compile(rf"(?:{_SYLLABLE}){{2,8}}$")


class _Sudachi:
    """One SudachiPy tokenizer a process, loaded on first use (the dictionary ships on PyPI)."""

    _lock = threading.Lock()
    _instance: _Sudachi | None = None

    def __init__(self) -> None:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            from sudachipy import Dictionary, SplitMode

            self.dictionary = Dictionary(dict="core")
            factory = getattr(self.dictionary, "tokenizer", None) or self.dictionary.create
            self.tokenizer = factory(mode=SplitMode.C)
        self.surname = self.dictionary.pos_matcher([("名詞", "固有名詞", "人名", "姓")])
        self.given = self.dictionary.pos_matcher([("名詞", "固有名詞", "人名", "名")])
        self.full = self.dictionary.pos_matcher([("名詞", "固有名詞", "人名", "一般")])

    @classmethod
    def get(cls) -> _Sudachi:
        if cls._instance is None:
            with cls._lock:
                if cls._instance is None:
                    cls._instance = cls()
        return cls._instance

    def tokenize(self, text: str) -> Any:
        return self.tokenizer.tokenize(text)


def _pieces(line: str) -> Iterator[tuple[int, str]]:
    """Split a long line at sentence ends so that each piece fits Sudachi's input limit."""
    if len(line) * 3 <= _SUDACHI_MAX_BYTES:
        yield 0, line
        return
    start = 0
    while start < len(line):
        stop = min(len(line), start + _SUDACHI_MAX_BYTES // 3)
        if stop < len(line):
            cut = max(
                line.rfind("。", start, stop), line.rfind(" ", start, stop), line.rfind("、", start, stop)
            )
            if cut > start:
                stop = cut + 1
        yield start, line[start:stop]
        start = stop


class PersonRecognizer(Recognizer):
    entity = "person"
    label: ClassVar[dict[str, str]] = {"ja": "氏名", "en": "Person name"}
    patterns = (
        Pattern(
            "kana name under a reading label",
            r"(?:フリガナ|ふりがな|カナ氏名|氏名カナ|カナ|よみがな|読み)[:：)）]?\s*"
            r"(?P<v>[ァ-ヴ][ァ-ヴ-]{0,9}[ ][ァ-ヴ][ァ-ヴ-]{0,9}|[ぁ-ゖ][ぁ-ゖ-]{0,9}[ ][ぁ-ゖ][ぁ-ゖ-]{0,9})",
            0.85,
        ),
        Pattern(
            "romaji given name and surname",
            r"[A-Z](?<![A-Za-z][A-Z])(?:[a-z]{1,14}|[A-Z]{1,14})(?![A-Za-z])",
            0.75,
        ),
        Pattern(
            "honorific and romaji surname",
            r"(?:Mr|Ms|Mrs|Dr|Prof)\.? (?P<v>[A-Z][a-z]{1,14})(?![A-Za-z])",
            0.8,
        ),
    )
    context = NAME_LABELS + HONORIFICS
    window_before = 12
    window_after = 4

    def __init__(self) -> None:
        super().__init__()
        self._honorific = re.compile("|".join(re.escape(h) for h in HONORIFICS))
        self._label = words_pattern(NAME_LABELS)
        self._org_after = re.compile(
            "|".join(re.escape(s) for s in sorted(ORG_SUFFIXES, key=len, reverse=True))
        )
        self._org_before = re.compile("(?:" + "|".join(re.escape(s) for s in ORG_PREFIXES) + r")\s?$")

    def analyze(self, folded: str, original: str | None = None) -> Iterator[Finding]:
        text = folded if original is None else original
        yield from self._patterns(folded)
        yield from self._sudachi(text)

    # --- regular expressions: kana under a label, romaji ------------------------------------------

    def _patterns(self, folded: str) -> Iterator[Finding]:
        kana, romaji, honorific = self._compiled
        for m in kana[1].finditer(folded):
            yield self._finding(m.start("v"), m.end("v"), kana[0], 0.85)
        words = list(romaji[1].finditer(folded))
        i = 0
        while i < len(words) - 1:
            first, second = words[i], words[i + 1]
            if second.start() != first.end() + 1 or folded[first.end()] != " ":
                i += 1
                continue
            if self._romaji_pair(folded, first, second):
                yield self._finding(first.start(), second.end(), romaji[0], 0.75)
                i += 2
            else:
                i += 1
        for m in honorific[1].finditer(folded):
            if m.group("v").lower() in SURNAMES:
                yield self._finding(m.start("v"), m.end("v"), honorific[0], 0.8)

    def _romaji_pair(self, folded: str, first: re.Match[str], second: re.Match[str]) -> bool:
        a, b = first.group(0).lower(), second.group(0).lower()
        if a in COMPANY_WORDS or b in COMPANY_WORDS:
            return False
        if not (
            (a in SURNAMES and (b in GIVEN_NAMES or _ROMAJI.match(b)))
            or (b in SURNAMES and (a in GIVEN_NAMES or _ROMAJI.match(a)))
        ):
            if not (a in SURNAMES or b in SURNAMES):
                return False
            before = folded[max(0, first.start() - self.window_before) : first.start()]
            if self._label is None or not self._label.search(before.lower()):
                return False
        after = folded[second.end() : second.end() + 14].lower().lstrip(" ,")
        return not any(after.startswith(w) for w in COMPANY_WORDS)

    # --- SudachiPy: kanji and kana names by part of speech ----------------------------------------

    def _sudachi(self, text: str) -> Iterator[Finding]:
        """Tokenize the lines that hold kanji or katakana, several lines a call (a newline is a token of
        its own, so no name is joined across lines)."""
        if not KANJI_OR_KATAKANA.search(text):
            return
        sudachi = _Sudachi.get()
        limit = _SUDACHI_MAX_BYTES // 3
        batch_start, batch_end = -1, -1
        offset = 0
        for line in text.split("\n"):
            line_end = offset + len(line)
            if KANJI_OR_KATAKANA.search(line):
                if batch_start >= 0 and line_end - batch_start > limit:
                    yield from self._names_in(text[batch_start:batch_end], batch_start, text, sudachi)
                    batch_start = -1
                if len(line) > limit:
                    for start, piece in _pieces(line):
                        yield from self._names_in(piece, offset + start, text, sudachi)
                else:
                    if batch_start < 0:
                        batch_start = offset
                    batch_end = line_end
            offset = line_end + 1
        if batch_start >= 0:
            yield from self._names_in(text[batch_start:batch_end], batch_start, text, sudachi)

    def _names_in(self, piece: str, base: int, text: str, sudachi: _Sudachi) -> Iterator[Finding]:
        morphemes = sudachi.tokenize(piece)
        n = len(morphemes)
        i = 0
        while i < n:
            m = morphemes[i]
            is_surname = sudachi.surname(m)
            is_given = not is_surname and sudachi.given(m)
            is_full = not is_surname and not is_given and sudachi.full(m)
            if not (is_surname or is_given or is_full):
                i += 1
                continue
            start, end = m.begin(), m.end()
            j = i + 1
            paired = is_full
            if is_surname:
                k = j
                if k < n and morphemes[k].surface() in (" ", "\u3000"):
                    k += 1
                if k < n and sudachi.given(morphemes[k]):
                    end = morphemes[k].end()
                    j = k + 1
                    paired = True
            i = j
            yield from self._judge(text, base + start, base + end, paired)

    def _judge(self, text: str, start: int, end: int, paired: bool) -> Iterator[Finding]:
        after = text[end : end + 8]
        before = text[max(0, start - self.window_before) : start]
        if self._org_after.match(after.lstrip(" \u3000")) or self._org_before.search(before):
            return
        honorific = self._honorific.match(after.lstrip(" \u3000"))
        label = self._label.search(before.lower()) if self._label is not None else None
        if paired:
            score = 0.85
        elif honorific or label:
            score = 0.75
        else:
            return
        word = honorific.group(0) if honorific else (label.group(0) if label else None)
        if word is not None:
            score = min(1.0, score + 0.1)
        yield Finding(
            self.entity,
            start,
            end,
            score,
            self.name,
            Explanation("SudachiPy 人名", 0.85 if paired else 0.75, None, word, None),
        )

    def _finding(self, start: int, end: int, pattern: Pattern, score: float) -> Finding:
        return Finding(self.entity, start, end, score, self.name, Explanation(pattern.name, score))
