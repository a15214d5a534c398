"""Person names: kanji and kana through SudachiPy's part-of-speech tags (人名・姓／名), kana names under
a reading label (フリガナ), and romaji names through the compiled surname list."""

from __future__ import annotations

import re
import threading
import warnings
from bisect import bisect_left
from collections.abc import Iterator
from functools import lru_cache
from typing import Any, ClassVar

from mamoru.scan.recognizer import Explanation, Finding, Pattern, Recognizer, Shared
from mamoru.scan.recognizers.address import PREFECTURES
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
    "name", "from:", "to:", "attn", "dear", "mr.", "ms.", "mrs.", "dr.", "prof.", "名義", "発行者", "氏 名",
)  # fmt: skip
# Labels that open a list of names running to the end of the line (出席者：山田、佐藤、鈴木): every
# surname on the line after one counts, however far from it. Matched at the start of a line only.
LIST_LABELS = (
    "出席者",
    "参加者",
    "欠席者",
    "出席",
    "参加",
    "宛先",
    "cc",
    "bcc",
    "to",
    "記録",
    "報告者",
    "n",
    "fn",
)
# Words after a surname that are not a given name (石井です, 山田さん, 佐藤から).
NOT_GIVEN = (
    "です", "でした", "でございます", "と申します", "より", "から", "まで", "など", "には", "とは", "への",
)  # fmt: skip
# A self-introduction: a surname that opens a sentence and is followed by one of these.
SELF_INTRODUCTION = ("です。", "と申します", "でございます")
ORG_SUFFIXES = (
    "支店", "本店", "営業所", "支社", "工場", "センター", "株式会社", "有限会社", "合同会社", "(株)", "（株）", "製作所", "商事", "工業", "銀行", "病院", "医院",
    "クリニック", "大学", "学園", "学校", "商店", "建設", "産業", "電機", "電気", "不動産", "事務所", "法律",
    "会計", "駅", "市", "町", "村", "区", "郡", "県", "通り", "ビル", "運輸", "ホールディングス", "グループ",
    "会社", "特許", "化学", "薬品", "食品", "証券", "保険", "財団", "協会", "研究所", "記念", "賞", "家",
    "屋", "店", "堂", "製薬", "物産", "興業", "印刷", "精機", "自動車", "鉄道", "新聞", "出版",
)  # fmt: skip
ORG_PREFIXES = ("株式会社", "有限会社", "合同会社", "(株)", "（株）", "財団法人", "社団法人")

_SUDACHI_MAX_BYTES = 45_000
KANJI_OR_KANA = re.compile(r"[\u3041-\u30ff\u4e00-\u9fff々]")
_GIVEN_AFTER = re.compile(
    r"(?P<sep>[ \u3000;]?)(?P<g>[\u4e00-\u9fff々]{1,3}|[ぁ-ゖ]{2,4}|[ァ-ヴー]{2,6})"
    r"(?=$|[\s;,、，。()（）<>「」:：/・])"
)
_COMPANY_STARTS = tuple(sorted(COMPANY_WORDS))  # one `startswith` for them all
_SPACES = re.compile(r"[ \u3000]+")
# A span that can hold a name: kanji and katakana (a space or ";" between two parts kept, and a part
# after one may start with hiragana: 鈴木 くみ子), then up to four hiragana (井上 さくら).
_NAME_SPAN = re.compile(
    # two such characters, or one and a space: a lone kanji (日, 円) holds no name here
    r"(?=[\u30a1-\u30fa\u30fc\u4e00-\u9fff々][\u30a1-\u30fa\u30fc\u4e00-\u9fff々 \u3000;])"
    r"[\u30a1-\u30fa\u30fc\u4e00-\u9fff々]"
    r"(?:[\u30a1-\u30fa\u30fc\u4e00-\u9fff々]|[ \u3000;](?:[ぁ-ゖ]{1,4}(?=[\u4e00-\u9fff々]))?(?=[\u30a1-\u30fa\u4e00-\u9fff々ぁ-ゖ]))*"
    r"[ぁ-ゖ]{0,4}"
)
# A name right before a title or honorific (森部長, 小林 涼先生, 田中様), found by a regular expression and
# checked by tokenizing the candidate alone: in running text the analyser may join it to the title
# (森部 + 長) or read it as a place (松本 in 松本課長).
_TITLES = tuple(
    h for h in HONORIFICS if h != "氏"
)  # the same words as HONORIFICS but 氏, as the list had them
_KANJI_RUN = r"[\u4e00-\u9fff々]"
# (The test that no kanji comes before the name is written after its first kanji, so that the engine
# skips straight to kanji instead of trying every position, as `text.AFTER_FIRST` does for numbers.)
_TITLED = re.compile(
    rf"(?P<v>{_KANJI_RUN}(?<!{_KANJI_RUN}{_KANJI_RUN}){_KANJI_RUN}{{0,3}}(?:[ \u3000][\u4e00-\u9fff々ぁ-ゖ]{{1,3}})?)"
    rf"(?={'|'.join(_TITLES)})"
)
_TITLE_WORD = re.compile("|".join(_TITLES))
# A list of names after a list label, one a line: 出席者：山田、佐藤、鈴木（敬称略）.
_LIST_LINE = re.compile(
    r"^[ \u3000>]*(?:出席者|参加者|欠席者|出席|参加|宛先|cc|bcc|記録|報告者)[ \u3000]*:[ \u3000]*(?P<rest>[^\n]*)",
    re.MULTILINE | re.IGNORECASE,
)
_LIST_ITEM = re.compile(r"[^,、・/;()\s]+(?:[ \u3000][^,、・/;()\s]+)?")
# A self-introduction: "お世話になっております。林です。"
_INTRODUCED = re.compile(
    rf"(?:^|[。>]|(?<=[\u30a1-\u30fa\u4e00-\u9fff-])の)[ \u3000]*(?P<v>{_KANJI_RUN}{{1,4}})"
    r"(?=です。|と申します|でございます)",
    re.MULTILINE,
)
_INTRODUCTION_WORD = re.compile("です。|と申します|でございます")
# A reading in brackets after a name: 山田 太郎 様（やまだ たろう）, or a name alone on its line with its
# reading (a signature: 山田太郎（やまだたろう））; the name before it is yielded too in the second case.
_KANA_WORD = r"(?:[ぁ-ゖ][ぁ-ゖ-]{0,7}(?:[ \u3000][ぁ-ゖ][ぁ-ゖ-]{0,7})?|[ァ-ヴ][ァ-ヴ-]{0,7}(?:[ \u3000][ァ-ヴ][ァ-ヴ-]{0,7})?)"
_READING = re.compile(
    rf"(?:(?<=様)|(?<=さま)|^[ \u3000>]*(?P<k>{_KANJI_RUN}{{1,4}}(?:[ \u3000]?[\u4e00-\u9fff々ぁ-ゖ]{{1,4}})?))"
    rf"[ \u3000]?\((?P<v>{_KANA_WORD})\)",
    re.MULTILINE,
)
_KANA_IN_BRACKETS = re.compile(r"\([ぁ-ゖァ-ヴ]")  # what every reading holds: searched first, far faster
# A relative's name in brackets after the relation: 連絡先：妻（花子）.
_RELATIONS = ("妻", "夫", "母", "父", "長男", "長女", "次男", "次女", "三男", "三女", "息子", "娘", "兄", "姉", "弟", "妹", "祖母",
              "祖父", "配偶者")  # fmt: skip
_RELATIVE = re.compile(
    # each relation with its test that no kanji comes before it written after it (see _TITLED)
    "(?:" + "|".join(rf"{w}(?<![\u4e00-\u9fff]{w})" for w in _RELATIONS) + ")"
    r"\((?P<v>[\u4e00-\u9fff々ぁ-ゖァ-ヴ][\u4e00-\u9fff々ぁ-ゖァ-ヴ -]{0,9})\)"
)

_NOT_RELATIVE_NAME = frozenset(
    ("有", "無", "あり", "なし", "同居", "別居", "無職", "会社員", "自営", "主婦", "学生", "故人", "同上")
)
# Titles that end a name in a list of attendees (山田課長、佐藤委員長): the honorifics and a few more.
_LIST_TITLES = (*_TITLES, "委員長", "委員", "理事", "所長", "次長", "本部長", "専務", "常務", "取締役")


def _parts(item: str) -> list[tuple[int, str]]:
    """An item of a list, split at a space that follows a title (山田課長 佐藤部長 are two names; 山田 太郎
    is one)."""
    head, sep, tail = item.partition(" ")
    if not sep:
        head, sep, tail = item.partition("\u3000")
    if sep and head.endswith(_LIST_TITLES):
        return [(0, head), (len(head) + 1, tail)]
    return [(0, item)]


# One-kanji surnames that the dictionary reads as common nouns when alone (林, 森): taken for a surname
# only in the three places above (before a title, in a list after a list label, in a self-introduction).
ONE_KANJI_SURNAMES = frozenset("林森原関堀辻岸泉畑谷浜東西南北星楠林")
_LIST_LABEL = re.compile(
    r"[ \u3000>]*(?P<label>" + "|".join(sorted(LIST_LABELS, key=len, reverse=True)) + r")[ \u3000]*[:：]",
    re.IGNORECASE,
)

# A Western name (any surname: the romaji list knows Japanese ones only) where a field or a header holds a
# person's name: a JSON "name", a mail header (From:, To:), a vCard's FN: and N: (last;first), Name:.
# Two or three capitalised words, a title before and a suffix after allowed, then the end of the field.
_WORD = r"[A-Z][a-z]+(?:['’-][A-Z]?[a-z]+)?"
_WESTERN_LABELLED = (
    r"(?:\"(?i:(?:display|full|contact|first|last|given|family)?_?name)\" ?: ?\""
    r"|(?m:^)(?:(?i:to|from|cc|attn|name)|FN): ?|(?i:regards|sincerely|cheers),\n)"
    r"(?P<v>(?:(?:Mr|Mrs|Ms|Miss|Dr|Prof)\.? )?" + _WORD + r"(?: [A-Z]\.)?(?: " + _WORD + r"){1,2}"
    r"(?:,? (?:Jr|Sr|II|III|IV|MD|PhD|DDS|DVM|Esq)\.?)?)"
    r"(?=\"|$| ?<|,|\n)"
    r"|(?m:^)N:(?P<n>" + _WORD + ";" + _WORD + r")(?=;|$)"
    r"|\"(?i:(?:display|full)?_?name)\" ?: ?\"(?P<j>(?:[A-Z]{2,15}|" + _WORD + "),? " + _WORD + r")\""
    r"|ロ-マ字[:(][^)\n]{0,12}?\)?[: ]?(?P<r>[A-Z]{2,15} [A-Z]{2,15}|"
    + _WORD
    + " "
    + _WORD
    + r")(?![A-Za-z])"
)
_GREETED = r"(?<![A-Za-z])(?i:hi|hello|dear) (?P<v>[A-Z][a-z]{1,14})(?=,)"
# Words that fill a name's place but are no name: "From: Customer Care", "Hi Team,".
_NOT_NAMES = frozenset(
    (
        "all", "team", "there", "everyone", "everybody", "folks", "sir", "madam", "customer", "care", "support", "service", "services", "desk", "help", "center", "centre", "sales", "info", "admin", "office", "department", "no", "reply", "noreply", "notification", "notifications", "billing", "account", "accounts", "hr", "friends", "colleagues", "guys",
    )
)  # fmt: skip

# A surname that starts a company's name: more kanji or katakana, then the kind of company.
_COMPANY_AHEAD = re.compile(
    r"[\u30a1-\u30fa\u30fc\u4e00-\u9fff々]{0,8}?(?:株式会社|有限会社|合同会社|合資会社|\(株\)|（株）)"
)
# A résumé's ふりがな row above 現住所 holds the address's reading, not a name.
_ADDRESS_NEXT = re.compile(r"[ \u3000]*\n[ \u3000]*(?:現住所|住所|連絡先|〒)")

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
        # The same three tests as sets of part-of-speech ids: one call a morpheme instead of three.
        self.surname_ids: set[int] = set()
        self.given_ids: set[int] = set()
        self.full_ids: set[int] = set()
        kinds = {"姓": self.surname_ids, "名": self.given_ids, "一般": self.full_ids}
        pos_id = 0
        while (pos := self.dictionary.pos_of(pos_id)) is not None:
            if pos[:3] == ("名詞", "固有名詞", "人名") and pos[3] in kinds:
                kinds[pos[3]].add(pos_id)
            pos_id += 1
        self._names: dict[str, bool] = {}

    def known_prefix(self, prefix: str) -> bool:
        """`starts_a_name`, looked up once for each string."""
        known = self._names.get(prefix)
        return self.starts_a_name(prefix) if known is None else known

    def starts_a_name(self, prefix: str) -> bool:
        """Whether the dictionary has a name (surname, given or full name) written exactly ``prefix``:
        a dictionary fact, kept once looked up (a few thousand short strings at most)."""
        known = self._names.get(prefix)
        if known is None:
            names = self.surname_ids | self.given_ids | self.full_ids
            known = any(m.part_of_speech_id() in names for m in self.dictionary.lookup(prefix))
            if len(self._names) > 200_000:
                self._names.clear()
            self._names[prefix] = known
        return known

    @classmethod
    def get(cls) -> _Sudachi:
        if cls._instance is None:
            with cls._lock:
                if cls._instance is None:
                    cls._instance = cls()
        return cls._instance

    def tokenize(self, text: str) -> Any:
        return self.tokenizer.tokenize(text)


# Where a piece's morphemes are: the analysed text's morphemes, the first and past-the-last index of the
# piece's, and the piece's offset in that text.
_Read = tuple[Any, int, int, int]


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
            r"(?P<v>[ァ-ヴ][ァ-ヴ-]{0,9}[ ]?[ァ-ヴ][ァ-ヴ-]{0,9}|[ぁ-ゖ][ぁ-ゖ-]{0,9}[ ]?[ぁ-ゖ][ぁ-ゖ-]{0,9})"
            r"(?![ァ-ヴぁ-ゖ])",
            0.85,
            requires=("フリガナ", "ふりがな", "カナ", "よみがな", "読み"),
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
            requires=("mr", "ms", "dr", "prof"),
        ),
        Pattern(
            "katakana name after a name label",
            r"(?:(?i:name)|名前|氏名|名義)[:：]?[ ]?(?P<v>[ァ-ヴ][ァ-ヴ-]{1,12}(?:[ ][ァ-ヴ][ァ-ヴ-]{0,12})?)(?![ァ-ヴ])",
            0.75,
            requires=("name", "名前", "氏名", "名義"),
        ),
        Pattern(
            "romaji name alone under a name label",
            r"(?i:name)[:：] ?(?P<v>[A-Z][a-z]{1,14}|[A-Z]{2,15})(?![A-Za-z])(?!,? [A-Za-z])",
            0.7,
            requires=("name",),
        ),
        Pattern(
            "Western name under a name field",
            _WESTERN_LABELLED,
            0.75,
            requires=(
                "name",
                "to:",
                "from:",
                "fn:",
                "attn:",
                "n:",
                "regards",
                "sincerely",
                "cheers",
                "ロ-マ字",
            ),
        ),
        Pattern("first name after a greeting", _GREETED, 0.7, requires=("hi ", "hello ", "dear ")),
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
        self._seen: dict[str, _Read] = {}  # a piece -> where its morphemes are (`_analysed`)
        self._may_hold: dict[str, bool] = {}  # a span -> whether it may hold a name (`_may_start_a_name`)

    def warm(self) -> None:
        _Sudachi.get()

    def analyze(
        self,
        folded: str,
        original: str | None = None,
        lowered: str | None = None,
        shared: Shared | None = None,
    ) -> Iterator[Finding]:
        text = folded if original is None else original
        yield from self._patterns(folded, folded.lower() if lowered is None else lowered, shared)
        yield from self._sudachi(text)

    # --- regular expressions: kana under a label, romaji ------------------------------------------

    def _patterns(self, folded: str, lowered: str, shared: Shared | None) -> Iterator[Finding]:
        kana, romaji, honorific, kana_label, romaji_label, western, greeted = (
            (p, rx if self.gate_open(gate, words, lowered, shared) else None)
            for p, rx, gate, words, _, _ in self._plan
        )
        if western[1] is not None:
            for m in western[1].finditer(folded):
                group = next(g for g in ("v", "n", "r", "j") if m.group(g) is not None)
                words = re.findall(r"[A-Za-z]+", m.group(group).lower())
                if not any(w in _NOT_NAMES or w in COMPANY_WORDS for w in words):
                    yield self._finding(m.start(group), m.end(group), western[0], 0.75)
        if greeted[1] is not None:
            for m in greeted[1].finditer(folded):
                if m.group("v").lower() not in _NOT_NAMES:
                    yield self._finding(m.start("v"), m.end("v"), greeted[0], 0.7)
        if kana[1] is not None:
            for m in kana[1].finditer(folded):
                if not _ADDRESS_NEXT.match(folded, m.end("v")):
                    yield self._finding(m.start("v"), m.end("v"), kana[0], 0.85)
        if kana_label[1] is not None:
            for m in kana_label[1].finditer(folded):
                yield self._finding(m.start("v"), m.end("v"), kana_label[0], 0.75)
        if romaji_label[1] is not None:
            for m in romaji_label[1].finditer(folded):
                word = m.group("v").lower()
                if (word in SURNAMES or word in GIVEN_NAMES) and word not in COMPANY_WORDS:
                    yield self._finding(m.start("v"), m.end("v"), romaji_label[0], 0.7)
        yield from self._in_name_places(folded)
        if romaji[1] is None:
            return
        words = list(romaji[1].finditer(folded))
        i = 0
        while i < len(words) - 1:
            first, second = words[i], words[i + 1]
            gap = folded[first.end() : second.start()]
            if gap not in (" ", ", "):
                i += 1
                continue
            # "Surname, Given" (a directory or an HR export): both must be known names, in that order.
            if gap == ", ":
                ok = first.group(0).lower() in SURNAMES and second.group(0).lower() in GIVEN_NAMES
            else:
                ok = self._romaji_pair(folded, first, second)
            if ok:
                yield self._finding(first.start(), second.end(), romaji[0], 0.75)
                i += 2
            else:
                i += 1
        for m in honorific[1].finditer(folded) if honorific[1] is not None else ():
            if m.group("v").lower() in SURNAMES:
                yield self._finding(m.start("v"), m.end("v"), honorific[0], 0.8)

    def _in_name_places(self, folded: str) -> Iterator[Finding]:
        """Names before a title, in a list after a list label and in a self-introduction, each candidate
        tokenized alone (only these short spans go to the analyser here)."""
        if not KANJI_OR_KATAKANA.search(folded):
            return
        # Each search below runs only where the words it needs occur (plain substring tests, far cheaper
        # than the searches, which start with look-behinds and so cannot skip ahead).
        for m in _TITLED.finditer(folded) if _TITLE_WORD.search(folded) else ():
            length = self._isolated_name(m.group("v"))
            if length:
                yield self._finding(
                    m.start("v"), m.start("v") + length, _PLACES[0], 0.85, folded[m.end("v") :][:2]
                )
        for line in _LIST_LINE.finditer(folded) if ":" in folded else ():
            base = line.start("rest")
            for item in _LIST_ITEM.finditer(line.group("rest")):
                for offset, part in _parts(item.group(0)):
                    word = part
                    for title in _LIST_TITLES:
                        word = word.removesuffix(title)
                    length = self._isolated_name(word)
                    if length:
                        at = base + item.start() + offset
                        yield self._finding(at, at + length, _PLACES[1], 0.8)
        bracket = "(" in folded
        for m in _READING.finditer(folded) if bracket and _KANA_IN_BRACKETS.search(folded) else ():
            if m.group("k"):
                k = m.group("k")
                if not self._at_line_end(folded, m.end()) or self._org_after.search(k) or k[-1] in "都道府":
                    continue
                yield self._finding(m.start("k"), m.end("k"), _PLACES[3], 0.75)
            yield self._finding(m.start("v"), m.end("v"), _PLACES[3], 0.8)
        for m in _RELATIVE.finditer(folded) if bracket else ():
            if m.group("v").strip() not in _NOT_RELATIVE_NAME:
                yield self._finding(m.start("v"), m.end("v"), _PLACES[4], 0.75)
        for m in _INTRODUCED.finditer(folded) if _INTRODUCTION_WORD.search(folded) else ():
            length = self._isolated_name(m.group("v"))
            if length == len(m.group("v")):
                yield self._finding(m.start("v"), m.end("v"), _PLACES[2], 0.75)

    @staticmethod
    def _at_line_end(folded: str, end: int) -> bool:
        rest = folded[end : end + 4]
        return rest.strip(" \u3000") == "" or rest.lstrip(" \u3000").startswith("\n")

    def _isolated_name(self, word: str) -> int:
        """How many leading characters of ``word`` are a name: a surname (by the dictionary, or a common
        one-kanji surname), with the given name after it when one follows; 0 when it is no name."""
        if not word or self._org_after.search(word):
            return 0
        return _isolated_name_length(word)

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
        return not after.startswith(_COMPANY_STARTS)

    # --- SudachiPy: kanji and kana names by part of speech ----------------------------------------

    def _sudachi(self, text: str) -> Iterator[Finding]:
        """Tokenize only the spans that can hold a name: runs of kanji and katakana (a space or ";"
        inside a run kept, so 山田 太郎 and 坂本;翔 stay whole, and up to four hiragana after it, so 井上
        さくら does too), never the hiragana prose, digits and Latin text between them. The spans of one
        text go to the analyser together, one a line (a newline is a token of its own, so no name is
        joined across spans); context (labels, honorifics, lists) is still read from the whole text."""
        sudachi = _Sudachi.get()
        may = self._may_hold
        if len(may) > 100_000:
            may.clear()
        spans = []
        for m in _NAME_SPAN.finditer(text):
            span = m.group(0)
            hold = may.get(span)
            if hold is None:
                hold = may[span] = _may_start_a_name(span, sudachi)
            if hold:
                spans.append(m.span())
        if not spans:
            return
        limit = _SUDACHI_MAX_BYTES // 3
        padded: list[tuple[int, str]] = []  # (offset in the text, the span with its padding)
        for start, end in spans:
            if end - start > limit:
                for offset, piece in _pieces(text[start:end]):
                    morphemes = sudachi.tokenize(piece)
                    yield from self._names_in(
                        (morphemes, 0, len(morphemes), 0), start + offset, text, sudachi
                    )
                continue
            # Two characters before and one after as written (氏名：林 明美, 氏名: 林 亮介,): the analyser
            # reads 林 as a surname after "：" but as a noun at the start of a line.
            for _ in range(2):
                if start > 0 and text[start - 1] != "\n":
                    start -= 1
            if end < len(text) and text[end] != "\n":
                end += 1
            padded.append((start, text[start:end]))
        for (start, _), read in zip(padded, self._analysed([p for _, p in padded], sudachi), strict=True):
            yield from self._names_in(read, start, text, sudachi)

    def _analysed(self, pieces: list[str], sudachi: _Sudachi) -> list[_Read]:
        """The morphemes of each piece, from the analyser or from the pieces already read by this
        recognizer (the same label, era or word recurs on every row of a table: メールアドレス:, 令和5).
        The pieces not read yet go to the analyser together, each after a newline (a token of its own, so
        no name is joined across pieces, and each piece is read the same wherever it stands)."""
        seen = self._seen
        if len(seen) > 20_000:
            seen.clear()
        unread = [p for p in dict.fromkeys(pieces) if p not in seen]
        limit = _SUDACHI_MAX_BYTES // 3
        i = 0
        while i < len(unread):
            batch: list[str] = []
            size = 0
            while i < len(unread) and (not batch or size + len(unread[i]) + 1 <= limit):
                batch.append(unread[i])
                size += len(unread[i]) + 1
                i += 1
            morphemes = sudachi.tokenize("\n" + "\n".join(batch))
            begins = [m.begin() for m in morphemes]
            at = lo = 1
            for piece in batch:
                # The piece's morphemes run up to the next newline's.
                hi = bisect_left(begins, at + len(piece), lo)
                seen[piece] = (morphemes, lo, hi, at)
                at += len(piece) + 1
                lo = hi + 1
        return [seen[p] for p in pieces]

    def _names_in(self, read: _Read, base: int, text: str, sudachi: _Sudachi) -> Iterator[Finding]:
        """Names among the morphemes ``read[1]:read[2]`` of an analysed text, which hold the piece that
        starts at ``read[3]`` there and at ``base`` in ``text``."""
        morphemes, i, n, at = read
        shift = base - at
        surname_ids, given_ids, full_ids = sudachi.surname_ids, sudachi.given_ids, sudachi.full_ids
        while i < n:
            m = morphemes[i]
            pos = m.part_of_speech_id()
            is_surname = pos in surname_ids
            if not (is_surname or pos in given_ids or pos in full_ids):
                i += 1
                continue
            start, end = m.begin(), m.end()
            j = i + 1
            if not KANJI_OR_KANA.search(m.surface()):
                i = j  # an English word the dictionary tags as a name (March, Bank): romaji rules only
                continue
            paired = pos in full_ids
            if is_surname:
                k = j
                if k < n and morphemes[k].surface() in (" ", "\u3000", ";"):
                    k += 1
                if k < n and morphemes[k].part_of_speech_id() in given_ids:
                    end = morphemes[k].end()
                    j = k + 1
                    paired = True
                else:
                    given = self._given_after(text, end + shift)
                    if given is not None:
                        end = given - shift
                        while j < n and morphemes[j].begin() < end:
                            j += 1
                        paired = True
            i = j
            yield from self._judge(text, start + shift, end + shift, paired)

    def _given_after(self, text: str, end: int) -> int | None:
        """Where a given name the dictionary does not know ends, right after a surname: one to three
        kanji, or two to four hiragana or katakana after a space (山田 翔, 井上 さくら, 坂本;翔), or one
        or two kanji written on (山本翔), always followed by a boundary; None when there is none."""
        m = _GIVEN_AFTER.match(text, end)
        if m is None:
            return None
        given = m.group("g")
        if not m.group("sep") and not ("\u4e00" <= given[0] <= "\u9fff" and len(given) <= 2):
            return None
        if given in HONORIFICS or given in NOT_GIVEN or self._org_after.match(given):
            return None
        return m.end("g")

    def _judge(self, text: str, start: int, end: int, paired: bool) -> Iterator[Finding]:
        after = text[end : end + 8]
        before = text[max(0, start - self.window_before) : start]
        honorific = self._honorific.match(after.lstrip(" \u3000"))
        squeezed = _SPACES.sub("", before.lower())  # 氏　　名 as written on a résumé
        label = self._label.search(squeezed) if self._label is not None else None
        word: str | None = None
        line_start = text.rfind("\n", 0, start) + 1
        listed = _LIST_LABEL.match(text, line_start, start)
        opening = text[line_start:start].rstrip(" \u3000")
        introduced = (not opening or opening.endswith(("。", ">"))) and after.startswith(SELF_INTRODUCTION)
        if not (paired or honorific or label or listed or introduced):
            return  # a surname alone in prose: most candidates end here, before the tests for companies
        if self._org_after.match(after.lstrip(" \u3000")):
            return
        if self._org_before.search(before) and not (
            # 林建設株式会社 山田様: a space, then a name with an honorific, is a person at the company
            before[-1:] in (" ", "\u3000") and self._honorific.match(after)
        ):
            return
        if _COMPANY_AHEAD.match(text, end):  # 斉藤水産株式会社, 林ガス有限会社: a company's name
            return
        if paired:
            score = 0.85
        elif honorific or label:
            score = 0.75
        elif listed:
            score, word = 0.75, listed.group("label")
        elif introduced:
            score, word = 0.7, after[:2]
        else:
            return
        if word is None:
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

    def _finding(
        self, start: int, end: int, pattern: Pattern, score: float, word: str | None = None
    ) -> Finding:
        return Finding(
            self.entity, start, end, score, self.name, Explanation(pattern.name, score, None, word)
        )


_PLACES = (
    Pattern("name before a title or honorific", _TITLED.pattern, 0.85),
    Pattern("name in a list after a list label", _LIST_LINE.pattern, 0.8),
    Pattern("surname in a self-introduction", _INTRODUCED.pattern, 0.75),
    Pattern("reading in brackets after a name", _READING.pattern, 0.8),
    Pattern("relative's name in brackets after the relation", _RELATIVE.pattern, 0.75),
)


def _may_start_a_name(span: str, sudachi: _Sudachi) -> bool:
    """Whether a span of kanji and katakana is worth the analyser: it starts with two to four characters
    that the dictionary knows as a name, or a common one-kanji surname with a short given name after it
    (林知実, 森　浩), or a part after a space does (`_may_hold_a_name`)."""
    if not span[1:]:
        return False
    head = _SEPARATOR.split(span, 1)[0]
    if (
        head.startswith(PREFECTURES)
        or head.endswith(_ORG_ENDS)
        or (len(head) > 4 and head.endswith(_PLACE_ENDS))
    ):
        # 福岡県青ヶ島村, 三井住友銀行, 横浜市: a place or a bank, though its first kanji are a surname's;
        # a name written after it, past a space, is still tried.
        return _may_hold_a_name(span, sudachi)
    known = sudachi.known_prefix
    return (
        known(span[:2])
        or known(span[:3])
        or known(span[:4])
        or (len(span) <= 6 and span[0] in ONE_KANJI_SURNAMES)
        or _may_hold_a_name(span, sudachi)
    )


def _may_hold_a_name(span: str, sudachi: _Sudachi) -> bool:
    """A cheap test before the analyser runs (its start is tried by the caller): a part of the span
    after a space or ";" starts with two to four characters that the dictionary knows as a name. Prose
    words (会議, 生年月日) fail it."""
    size = len(span)
    if size < 2 or _SEPARATOR.search(span) is None:
        return False  # the start was tried already
    known = sudachi.starts_a_name
    for i in (m.end() for m in _SEPARATOR.finditer(span)):
        if _no_name_part(_SEPARATOR.split(span[i:], 1)[0]):
            continue  # 三井住友銀行 名古屋支店 普通預金: a branch, not 名古 a name
        if i < size and span[i] in ONE_KANJI_SURNAMES:
            return True  # 特許情報サービス部 林 翼
        for k in (2, 3, 4):
            if i + k > size:
                break
            if known(span[i : i + k]):
                return True
    return False


_SEPARATOR = re.compile(r"[ \u3000;]")
# The ends of a bank's name and of a place's (before a space): a span that starts with one is no name.
# A surname may end in a place's (中村, 古市), so only a longer run counts (横浜市保土ケ谷区).
_ORG_ENDS = ("銀行", "支店", "本店", "営業所")
_PLACE_ENDS = ("市", "区", "郡", "町", "村")
# The words of a building's name (コーポ鶴ヶ丘, 中川崎ハイツ): a part that starts or ends with one is no name.
_BUILDING_WORDS = (
    "ハイツ", "コーポ", "パーク", "アーバン", "クレスト", "パレス", "コート", "シティ", "レジデンス", "マンション",
    "タワー", "ハイム", "メゾン", "ヒルズ", "ハウス", "プラザ", "テラス", "ガーデン", "荘",
)  # fmt: skip


def _no_name_part(part: str) -> bool:
    """Whether a part of a span (up to a space) is a place, a bank or a building, though its first
    characters are a surname's (福岡県青ヶ島村, 三井住友銀行, 横浜市保土ケ谷区, コーポ鶴ヶ丘)."""
    return (
        part.startswith(PREFECTURES)
        or part.endswith(_ORG_ENDS)
        or (len(part) > 4 and part.endswith(_PLACE_ENDS))
        or part.startswith(_BUILDING_WORDS)
        or part.endswith(_BUILDING_WORDS)
    )


@lru_cache(maxsize=4096)
def _isolated_name_length(word: str) -> int:
    sudachi = _Sudachi.get()
    morphemes = sudachi.tokenize(word)
    if not len(morphemes):
        return 0
    first = morphemes[0]
    if not (sudachi.surname(first) or sudachi.full(first) or first.surface() in ONE_KANJI_SURNAMES):
        return 0
    end = int(first.end())
    if end == len(word):
        return end
    rest = len(morphemes)
    k = 1
    if k < rest and morphemes[k].surface() in (" ", "\u3000"):
        k += 1
    if k < rest and sudachi.given(morphemes[k]) and morphemes[k].end() == len(word):
        return len(word)
    given = _GIVEN_AFTER.match(word, end)
    if given is not None and given.end("g") == len(word) and given.group("g") not in HONORIFICS:
        return len(word)
    return end if word[end] in " \u3000" else 0
