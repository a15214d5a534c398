"""Special care-required personal information (要配慮個人情報, APPI Art. 2(3); APPI-20b): medical
history, disability, criminal record, having been a victim of crime, creed, race, social status.

What is reported is a *value* about a person (a diagnosis, a conviction), not a word in a policy that
lists the categories: a term scores low alone, and high under a record label (既往歴：, 診断名：);
policy wording ("取得しません", "such as") cancels it.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import ClassVar

from mamoru.scan.recognizer import Explanation, Finding, Pattern, Recognizer, Shared
from mamoru.scan.text import fold

TERMS_JA = (
    "糖尿病", "高血圧", "高血圧症", "脂質異常症", "心筋梗塞", "狭心症", "脳梗塞", "脳卒中", "がん(?![ばぼ])", "癌",
    "悪性腫瘍", "白血病", "うつ病", "鬱病", "統合失調症", "双極性障害", "適応障害", "不安障害", "パニック障害",
    "発達障害", "自閉症", "ADHD", "認知症", "てんかん", "喘息", "ぜんそく", "肝炎", "肝硬変", "腎不全",
    "人工透析", "HIV", "エイズ", "結核", "アルコール依存症", "椎間板ヘルニア", "リウマチ", "不妊治療",
    "身体障害者手帳", "精神障害者保健福祉手帳", "療育手帳", "身体障害", "精神障害", "知的障害",
    "前科", "逮捕歴", "犯罪歴", "有罪判決", "執行猶予", "懲役", "禁錮", "服役", "犯罪被害", "被害者",
    "信仰", "宗教", "入信", "信者", "部落", "国籍", "人種",
    # conditions a medical or HR record names (a term alone scores low: it needs a record's context)
    "胃潰瘍", "十二指腸潰瘍", "潰瘍性大腸炎", "クローン病", "逆流性食道炎", "過敏性腸症候群", "慢性腎臓病", "腎臓病",
    "ネフローゼ", "不整脈", "心房細動", "心不全", "心臓病", "心筋症", "弁膜症", "高脂血症", "痛風", "高尿酸血症",
    "甲状腺機能低下症", "甲状腺機能亢進症", "バセドウ病", "橋本病", "骨粗鬆症", "関節リウマチ", "膠原病",
    "全身性エリテマトーデス", "多発性硬化症", "パーキンソン病", "アルツハイマー", "脳出血", "くも膜下出血",
    "脳腫瘍", "肉腫", "リンパ腫", "骨髄腫", "睡眠時無呼吸症候群", "慢性閉塞性肺疾患", "COPD", "間質性肺炎",
    "気管支喘息", "アトピー性皮膚炎", "乾癬", "緑内障", "網膜症", "難聴", "メニエール病", "片頭痛", "頸椎症",
    "ヘルニア", "子宮筋腫", "子宮内膜症", "更年期障害", "前立腺肥大症", "肝機能障害", "脂肪肝", "膵炎", "貧血",
    "摂食障害", "拒食症", "過食症", "強迫性障害", "PTSD", "心的外傷後ストレス障害", "自律神経失調症", "不眠症",
    "睡眠障害", "躁うつ病", "学習障害", "ダウン症", "脳性麻痺", "筋ジストロフィー", "ALS", "筋萎縮性側索硬化症",
    "難病", "梅毒", "性感染症", "依存症", "聴覚障害", "視覚障害", "言語障害", "肢体不自由", "内部障害",
)  # fmt: skip
TERMS_EN = (
    "diabetes", "hypertension", "cancer", "leukemia", "depression", "schizophrenia", "bipolar disorder",
    "epilepsy", "asthma", "hepatitis", "HIV", "dementia", "stroke", "heart attack", "disability",
    "criminal record", "convicted", "conviction", "arrested", "crime victim", "religion", "religious belief",
    "major depressive disorder", "depressive disorder", "anxiety disorder", "panic disorder", "PTSD",
    "post-traumatic stress disorder", "obsessive-compulsive disorder", "OCD", "ADHD", "autism",
    "eating disorder", "anorexia", "bulimia", "multiple sclerosis", "Crohn's disease", "Crohn's", "Crohn",
    "ulcerative colitis", "celiac disease", "coeliac disease", "irritable bowel syndrome", "rheumatoid arthritis",
    "arthritis", "lupus", "Parkinson's disease", "Parkinson's", "Alzheimer's disease", "Alzheimer's",
    "migraine", "heart disease", "coronary artery disease", "atrial fibrillation", "arrhythmia", "heart failure",
    "chronic kidney disease", "kidney disease", "renal failure", "dialysis", "COPD", "cystic fibrosis",
    "sickle cell", "hemophilia", "haemophilia", "fibromyalgia", "chronic fatigue syndrome", "hypothyroidism",
    "hyperthyroidism", "Graves' disease", "Hashimoto's thyroiditis", "psoriasis", "glaucoma", "hearing loss",
    "hearing impairment", "visual impairment", "cerebral palsy", "Down syndrome", "dyslexia",
    "Tourette syndrome", "spina bifida", "muscular dystrophy", "ALS", "tuberculosis", "tumor", "tumour",
    "lymphoma", "melanoma", "sleep apnea", "sleep apnoea", "insomnia", "substance use disorder", "alcoholism",
    "addiction", "chronic pain", "long COVID", "mental illness", "type 1 diabetes", "type 2 diabetes",
)  # fmt: skip


def _alternation(words: tuple[str, ...]) -> str:
    # Flat, longest first: the regular-expression engine tests the first characters of a flat list of
    # literals as one set, faster than nested groups (a trie measured ten times slower).
    return "|".join(sorted((w for w in words), key=len, reverse=True))


class SpecialCareRecognizer(Recognizer):
    entity = "special_care"
    label: ClassVar[dict[str, str]] = {"ja": "要配慮個人情報", "en": "Special care-required information"}
    patterns = (
        Pattern("term (Japanese)", "(?:" + _alternation(tuple(fold(w) for w in TERMS_JA)) + ")", 0.35),
        Pattern(
            "term (English)",
            r"(?<![A-Za-z])(?:" + _alternation(TERMS_EN) + r")(?![A-Za-z])",
            0.35,
            2,  # re.IGNORECASE
            requires=tuple(w.lower() for w in TERMS_EN),
        ),
    )
    context = (
        "既往歴", "病歴", "病名", "診断", "傷病", "治療中", "通院", "入院", "服薬", "持病", "健康診断", "検査結果",
        "障害", "手帳", "前科", "犯罪", "判決", "被害", "信条", "宗教", "所見", "休職", "産業医", "療養",
        "medical history", "diagnos", "condition", "treated for", "record", "convicted",
        "既往", "基礎疾患", "疾患", "病気", "accommodation", "medical", "sick leave", "health",
    )  # fmt: skip
    negative_context = (
        "取得しません", "取得しない", "取り扱いません", "含みます", "等の", "などの", "など", "等を", "等は",
        "要配慮", "方針", "規程", "such as", "including", "policy", "we do not", "will not",
    )  # fmt: skip
    context_boost = 0.45
    negative_penalty = 0.8
    window_before = 24
    window_after = 10

    def __init__(self) -> None:
        super().__init__()
        # The English terms are searched in the lowered text, case-sensitively: the same matches as the
        # pattern's IGNORECASE form on the folded text (offsets kept), several times faster.
        self._english = re.compile(
            r"(?<![a-z])(?:" + _alternation(tuple(w.lower() for w in TERMS_EN)) + r")(?![a-z])"
        )
        self._english_gate = self._gates[1]
        # Every English term starts a word (the pattern's look-behind), so a block holds one only if it
        # holds the term's first run of letters as a word of its own: one search for the block's words,
        # far cheaper than a hundred substring tests.
        self._english_starts = frozenset(_LETTERS.match(w.lower()).group(0) for w in TERMS_EN)  # type: ignore[union-attr]
        # The base class leaves the English pattern out; analyze runs it.
        self._plan = [step for step in self._plan if step[0] is not self.patterns[1]]

    def gate_words(self) -> set[str]:
        """As every recognizer's, less the English terms (`analyze` tests them by the block's words)."""
        return super().gate_words() - set(self.patterns[1].requires)

    def analyze(
        self,
        folded: str,
        original: str | None = None,
        lowered: str | None = None,
        shared: Shared | None = None,
    ) -> Iterator[Finding]:
        """The terms, and every item of a list under a record label (既往歴：胃潰瘍、不整脈): what a
        record lists there is a condition whether or not the term list knows it."""
        if lowered is None or len(lowered) != len(folded):
            lowered = folded.lower()
        yield from super().analyze(folded, original, lowered, shared)
        pattern = self.patterns[1]
        gate = self._english_gate
        if (
            self._english_starts.intersection(_LETTERS.findall(lowered))
            if shared is not None and shared.present is not None
            else gate is not None and gate.search(lowered) is not None
        ):
            # Lowering may change the length (İ): then the pattern runs as written, on the folded text.
            same = len(lowered) == len(folded)
            regex = self._english if same else self._compiled[1][1]
            previous_end = 0
            for match in regex.finditer(lowered if same else folded):
                found = self._score(
                    folded, match.start(), match.end(), pattern, previous_end, original, lowered
                )
                previous_end = match.end()
                if found is not None:
                    yield found
        if "歴" not in folded and "病" not in folded and "疾患" not in folded:
            return
        for line in _RECORD_LINE.finditer(folded):
            rest = line.group("rest")
            if self._negative is not None and self._negative.search(rest.lower()):
                continue
            base = line.start("rest")
            for item in _ITEM.finditer(rest):
                if item.group(0).startswith("(") or item.group(0).strip().lower() in _NOTHING:
                    continue
                yield Finding(
                    self.entity,
                    base + item.start(),
                    base + item.end(),
                    0.8,
                    self.name,
                    Explanation("item under a record label", 0.8, None, line.group("label")),
                )


_LETTERS = re.compile(r"[a-z]+")
# A record's label, then a colon (or a tab), then its list to the end of the line.
_RECORD_LINE = re.compile(
    r"(?P<label>既往歴|病歴|現病歴|持病|病名|診断名|傷病名|基礎疾患)[ \u3000]*(?::[ \u3000]*|\t)(?P<rest>[^\n]{1,120})"
)
# An item, or a note in brackets after one (高血圧（内服中）), which is skipped.
_ITEM = re.compile(r"\([^)\n]*\)?|[^、,;/・()\s][^、,;/・()\n]{0,24}?(?=[ \u3000]*(?:[、,;/・()]|$))")
_NOTHING = frozenset(
    ("なし", "特になし", "無", "無し", "不明", "該当なし", "特記事項なし", "none", "n/a", "-")
)
