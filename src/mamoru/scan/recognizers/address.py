"""Addresses: anchored on a prefecture (or a romanised ward/city and prefecture), with the
chōme-ban-gō part that makes an address a person's and not a region's."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import replace
from typing import ClassVar

from mamoru.scan.recognizer import Finding, Pattern, Recognizer, Shared

PREFECTURES = (
    "北海道", "青森県", "岩手県", "宮城県", "秋田県", "山形県", "福島県", "茨城県", "栃木県", "群馬県",
    "埼玉県", "千葉県", "東京都", "神奈川県", "新潟県", "富山県", "石川県", "福井県", "山梨県", "長野県",
    "岐阜県", "静岡県", "愛知県", "三重県", "滋賀県", "京都府", "大阪府", "兵庫県", "奈良県", "和歌山県",
    "鳥取県", "島根県", "岡山県", "広島県", "山口県", "徳島県", "香川県", "愛媛県", "高知県", "福岡県",
    "佐賀県", "長崎県", "熊本県", "大分県", "宮崎県", "鹿児島県", "沖縄県",
)  # fmt: skip

_PREF = "(?:" + "|".join(PREFECTURES) + ")"
# The long-vowel mark ー is folded to "-": inside a katakana town name (ポートアイランド, センター北) it is
# part of the name, so a "-" right after katakana is taken as one.
_NAME = r"(?:[\u3041-\u3096\u30a1-\u30fa\u4e00-\u9fff々ヶケ]|(?<=[\u30a1-\u30fa])-)"
_KNUM = "[一二三四五六七八九十〇]"
# 1丁目2番3号 / 1-2-3 / 三丁目2番地 / 2番地の5 ; the building (name and room number) is optional.
_BLOCK = (
    rf"(?:\d{{1,4}}|{_KNUM}{{1,3}})(?:丁目|-)\s?\d{{1,5}}(?:番地?|-)?(?:の?\d{{1,5}}号?)?"
    rf"|\d{{1,5}}番地?(?:の?\d{{1,5}}号?)?"
)
# A building starts with a name, not a digit: "1-2-3 100-0001" is a block and a postal code.
_BUILDING = r"(?:[ ]?[^\s\d、。,;:()（）「」<>][^\s、。,;()（）「」<>]{0,23}?\d{1,4}(?:号室|号|F|階)?)?"
_ROMAJI_AREA = r"[A-Z][a-z]+(?:-[a-z]+)?"


class AddressRecognizer(Recognizer):
    entity = "address"
    label: ClassVar[dict[str, str]] = {"ja": "住所", "en": "Address"}
    patterns = (
        Pattern(
            "prefecture, municipality, block",
            _PREF + _NAME + r"{1,24}?(?:" + _BLOCK + r")(?![0-9])" + _BUILDING,
            0.85,
            requires=("都", "道", "府", "県"),
        ),
        Pattern(
            "romanised block, ward or city, prefecture",
            r"\d(?<![0-9A-Za-z]\d)\d{0,3}-\d{1,4}(?:-\d{1,4})?,? " + _ROMAJI_AREA + r"(?: \d-chome)?,? "
            r"(?:" + _ROMAJI_AREA + r"-(?:ku|shi|cho|machi|gun)|" + _ROMAJI_AREA + r" (?:City|Ward)),? "
            r"(?:" + _ROMAJI_AREA + r"(?:-(?:to|fu|ken))?|Hokkaido)",
            0.8,
            requires=("-ku", "-shi", "-cho", "-machi", "-gun", " city", " ward"),
        ),
        Pattern(
            "municipality and block under an address label or after a postal code",
            r"(?:(?:住所|居所|(?i:adr)[^:\n]{0,40}:;;)(?:\([^)\n]{0,6}\))?[:\u3000 ]{0,3}|〒 ?\d{3}-?\d{4}[\s>]{1,8})"
            r"(?P<v>[\u4e00-\u9fffヶケ]{1,6}?[市区郡町村]"
            + _NAME
            + r"{0,24}?(?:"
            + _BLOCK
            + r")(?![0-9])"
            + _BUILDING
            + ")",
            0.8,
            requires=("住所", "居所", "adr", "〒"),
        ),
        Pattern(
            "street under a JSON address key",
            r'"(?i:street|address|home_?address|street_?address|address_?line_?1|line1)" ?: ?"'
            r"(?P<v>\d{1,6}(?:-\d{1,4}){0,2},? [A-Z][^\"\n]{2,80}?)\"",
            0.8,
            requires=("street", "address", "line1"),
        ),
        Pattern(
            "street and city of a vCard ADR",
            r"(?m:^)(?i:adr)[^:\n]{0,40}:[^;\n]{0,40};[^;\n]{0,40};(?P<v>\d{1,6} [A-Z][^;\n]{2,60})",
            0.8,
            requires=("adr",),
        ),
        Pattern(
            "street, city and state after the word address",
            r"(?i:address)(?: is| to|:)? (?P<v>\d{1,6} [A-Z][A-Za-z0-9 .'#-]{2,60}?, [A-Z][A-Za-z .'-]{1,30}, "
            r"[A-Z]{2})(?![A-Za-z])",
            0.8,
            requires=("address",),
        ),
    )
    context = ("住所", "現住所", "住まい", "address", "居所", "送付先", "届け先")
    # A business's address: under 所在地 (a business's word for where it is), in the payer's block of a
    # withholding slip, or right after a company's name. Not a person's.
    negative_context = (
        "所在地",
        "支払者",
        "株式会社",
        "有限会社",
        "合同会社",
        "(株)",
        "御中",
        "本社",
        "本店",
    )
    negative_penalty = 0.8
    negative_after = False
    nearest_word_wins = True

    def analyze(
        self,
        folded: str,
        original: str | None = None,
        lowered: str | None = None,
        shared: Shared | None = None,
    ) -> Iterator[Finding]:
        """As every recognizer, and a vCard's city (its own field after the street) as one more finding."""
        for finding in super().analyze(folded, original, lowered, shared):
            yield finding
            if finding.explanation.pattern == _VCARD:
                m = _VCARD_CITY.match(folded, finding.end)
                if m is not None:
                    yield replace(finding, start=m.start("c"), end=m.end("c"))


_VCARD = "street and city of a vCard ADR"
_VCARD_CITY = re.compile(r";(?P<c>[A-Z][A-Za-z .'-]{1,40})(?=;)")
