"""Special care-required personal information (要配慮個人情報, APPI Art. 2(3); APPI-20b): medical
history, disability, criminal record, having been a victim of crime, creed, race, social status.

What is reported is a *value* about a person (a diagnosis, a conviction), not a word in a policy that
lists the categories: a term scores low alone, and high under a record label (既往歴：, 診断名：);
policy wording ("取得しません", "such as") cancels it.
"""

from __future__ import annotations

from typing import ClassVar

from mamoru.scan.recognizer import Pattern, Recognizer

TERMS_JA = (
    "糖尿病", "高血圧", "高血圧症", "脂質異常症", "心筋梗塞", "狭心症", "脳梗塞", "脳卒中", "がん(?![ばぼ])", "癌",
    "悪性腫瘍", "白血病", "うつ病", "鬱病", "統合失調症", "双極性障害", "適応障害", "不安障害", "パニック障害",
    "発達障害", "自閉症", "ADHD", "認知症", "てんかん", "喘息", "ぜんそく", "肝炎", "肝硬変", "腎不全",
    "人工透析", "HIV", "エイズ", "結核", "アルコール依存症", "椎間板ヘルニア", "リウマチ", "不妊治療",
    "身体障害者手帳", "精神障害者保健福祉手帳", "療育手帳", "身体障害", "精神障害", "知的障害",
    "前科", "逮捕歴", "犯罪歴", "有罪判決", "執行猶予", "懲役", "禁錮", "服役", "犯罪被害", "被害者",
    "信仰", "宗教", "入信", "信者", "部落", "国籍", "人種",
)  # fmt: skip
TERMS_EN = (
    "diabetes", "hypertension", "cancer", "leukemia", "depression", "schizophrenia", "bipolar disorder",
    "epilepsy", "asthma", "hepatitis", "HIV", "dementia", "stroke", "heart attack", "disability",
    "criminal record", "convicted", "conviction", "arrested", "crime victim", "religion", "religious belief",
)  # fmt: skip


def _alternation(words: tuple[str, ...]) -> str:
    return "|".join(sorted((w for w in words), key=len, reverse=True))


class SpecialCareRecognizer(Recognizer):
    entity = "special_care"
    label: ClassVar[dict[str, str]] = {"ja": "要配慮個人情報", "en": "Special care-required information"}
    patterns = (
        Pattern("term (Japanese)", "(?:" + _alternation(TERMS_JA) + ")", 0.35),
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
    )  # fmt: skip
    negative_context = (
        "取得しません", "取得しない", "取り扱いません", "含みます", "等の", "などの", "など", "等を", "等は",
        "要配慮", "方針", "規程", "such as", "including", "policy", "we do not", "will not",
    )  # fmt: skip
    context_boost = 0.45
    negative_penalty = 0.8
    window_before = 24
    window_after = 10
