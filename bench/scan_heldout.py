"""A held-out labelled corpus for discovery: document shapes a Japanese organization holds, written
without looking at the recognizers, so that its F1 is an honest accuracy figure.

`bench/scan.py` keeps its own corpus (a regression check) and a second one that the recognizers were
later tuned on. This third corpus was written from knowledge of the documents themselves: JIS-style
résumés (ふりがな, 和暦), withholding slips (源泉徴収票), minutes with attendee lists, invoices with
registration numbers (T + 13 digits), English HR exports (CSV and JSON lines), customer-support e-mail
threads (quoted replies, signatures), vCard address books, CSV exports whose header is the only
context, health-insurance card data (記号・番号・保険者番号・枝番), direct-debit forms (口座振替依頼書),
delivery slips, free-text survey answers, New Year card address lists, staff rosters with romanised
names, clinic appointment notes, and trap documents (order and tracking numbers that pass the My Number
or Luhn check, JAN codes, part numbers shaped like postal codes, dates that are not birth dates,
company names built on surnames).

Labels: every personal value with its type and character offsets; corporate numbers and invoice
registration numbers with their own types (reported, not counted in the personal overall figure);
traps unlabelled. Values come from Faker (ja_JP, en_US, seeded) and from lists written here; check
digits are computed (My Number and Corporate Number through `mamoru.law`, Luhn for cards).

Run `python bench/scan_heldout.py` to print the corpus by kind, the label counts and mamoru's
precision, recall and F1 on it (scored as `bench/scan.py` scores: same type and overlapping span, each
label and each prediction counted once; CSV documents column by column under their header). Values
in the printed samples are masked. Last line: JSON summary.
"""

from __future__ import annotations

import json
import os
import random
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any, TypeVar

from faker import Faker

from mamoru.law import corporate_number, mynumber

SEED = int(os.environ.get("BENCH_HELDOUT_SEED", "20261203"))
TARGET_BYTES = int(os.environ.get("BENCH_HELDOUT_BYTES", "500000"))
PERSONAL = (
    "person", "phone", "email", "address", "postal_code", "birth_date", "my_number", "credit_card",
    "bank_account", "passport", "drivers_license", "health_insurance", "special_care",
)  # fmt: skip
CODES = ("corporate_number", "invoice_registration")
TYPES = PERSONAL + CODES
IDENTIFICATION = (
    "my_number", "credit_card", "bank_account", "passport", "drivers_license", "health_insurance",
    "corporate_number", "invoice_registration",
)  # fmt: skip

Span = tuple[int, int, str]
T = TypeVar("T")
Piece = tuple[str, str | None]


@dataclass
class Doc:
    """The shape of `bench/scan.py`'s Doc: text and labels; CSV documents also carry header and cells."""

    kind: str
    text: str = ""
    labels: list[Span] = field(default_factory=list)
    header: list[str] | None = None
    rows: list[list[tuple[int, str]]] = field(default_factory=list)

    def add(self, piece: str, entity: str | None = None) -> None:
        if entity is not None and piece:
            self.labels.append((len(self.text), len(self.text) + len(piece), entity))
        self.text += piece

    def line(self, *pieces: Piece | str) -> None:
        for p in pieces:
            if isinstance(p, str):
                self.add(p)
            else:
                self.add(*p)
        self.add("\n")


def csv_doc(kind: str, header: Sequence[str], rows: Sequence[Sequence[Sequence[Piece]]]) -> Doc:
    """A CSV document: each cell is a list of pieces (text, type or None); cells with a comma are quoted."""
    d = Doc(kind, header=list(header))
    d.add(",".join(header) + "\n")
    for row in rows:
        cells: list[tuple[int, str]] = []
        for i, cell in enumerate(row):
            if i:
                d.add(",")
            value = "".join(t for t, _ in cell)
            quoted = "," in value or '"' in value
            if quoted:
                d.add('"')
            start = len(d.text)
            for t, k in cell:
                d.add(t, k)
            cells.append((start, value))
            if quoted:
                d.add('"')
        d.rows.append(cells)
        d.add("\n")
    return d


# --- value lists written here (not Faker's, so that names are not only Faker's pool) ------------------

SURNAMES = (
    ("佐々木", "ササキ", "Sasaki"), ("長谷川", "ハセガワ", "Hasegawa"), ("五十嵐", "イガラシ", "Igarashi"),
    ("東海林", "ショウジ", "Shoji"), ("小野寺", "オノデラ", "Onodera"), ("宇佐美", "ウサミ", "Usami"),
    ("渡邉", "ワタナベ", "Watanabe"), ("齋藤", "サイトウ", "Saito"), ("髙橋", "タカハシ", "Takahashi"),
    ("柳田", "ヤナギダ", "Yanagida"), ("今井", "イマイ", "Imai"), ("秋山", "アキヤマ", "Akiyama"),
    ("丸山", "マルヤマ", "Maruyama"), ("関", "セキ", "Seki"), ("林", "ハヤシ", "Hayashi"),
    ("森", "モリ", "Mori"), ("堀江", "ホリエ", "Horie"), ("大和田", "オオワダ", "Owada"),
    ("比嘉", "ヒガ", "Higa"), ("新垣", "アラガキ", "Aragaki"), ("我那覇", "ガナハ", "Ganaha"),
    ("千葉", "チバ", "Chiba"), ("熊谷", "クマガイ", "Kumagai"), ("及川", "オイカワ", "Oikawa"),
    ("菅原", "スガワラ", "Sugawara"), ("本田", "ホンダ", "Honda"), ("福田", "フクダ", "Fukuda"),
    ("上野", "ウエノ", "Ueno"), ("野口", "ノグチ", "Noguchi"), ("桑原", "クワバラ", "Kuwabara"),
)  # fmt: skip
GIVEN = (
    ("翔", "ショウ", "Sho", "M"), ("蓮", "レン", "Ren", "M"), ("湊", "ミナト", "Minato", "M"),
    ("大翔", "ヒロト", "Hiroto", "M"), ("健一", "ケンイチ", "Kenichi", "M"), ("誠", "マコト", "Makoto", "M"),
    ("博", "ヒロシ", "Hiroshi", "M"), ("茂", "シゲル", "Shigeru", "M"), ("勇気", "ユウキ", "Yuki", "M"),
    ("さくら", "サクラ", "Sakura", "F"), ("ひかり", "ヒカリ", "Hikari", "F"), ("あおい", "アオイ", "Aoi", "F"),
    ("恵", "メグミ", "Megumi", "F"), ("陽菜", "ヒナ", "Hina", "F"), ("結衣", "ユイ", "Yui", "F"),
    ("久美子", "クミコ", "Kumiko", "F"), ("千尋", "チヒロ", "Chihiro", "F"), ("薫", "カオル", "Kaoru", "F"),
    ("まゆみ", "マユミ", "Mayumi", "F"), ("ゆかり", "ユカリ", "Yukari", "F"),
)  # fmt: skip
BANKS = (
    ("三菱UFJ銀行", "0005"), ("みずほ銀行", "0001"), ("三井住友銀行", "0009"), ("りそな銀行", "0010"),
    ("横浜銀行", "0138"), ("千葉銀行", "0134"), ("静岡銀行", "0149"), ("北洋銀行", "0501"),
    ("城南信用金庫", "1344"), ("JAバンク東京", "5000"),
)  # fmt: skip
BRANCHES = (
    "本店営業部",
    "新宿支店",
    "渋谷駅前支店",
    "横浜駅前支店",
    "梅田支店",
    "札幌支店",
    "大宮支店",
    "柏支店",
)
DISEASES = (
    "2型糖尿病", "高血圧症", "気管支喘息", "うつ病", "双極性障害", "統合失調症", "脂質異常症", "関節リウマチ",
    "パニック障害", "適応障害", "乳がん", "胃潰瘍", "慢性腎臓病", "てんかん", "HIV感染症", "B型肝炎",
    "腰椎椎間板ヘルニア", "アトピー性皮膚炎", "潰瘍性大腸炎", "不整脈",
)  # fmt: skip
DISEASES_EN = (
    "type 2 diabetes",
    "asthma",
    "major depressive disorder",
    "epilepsy",
    "hypertension",
    "multiple sclerosis",
    "Crohn's disease",
)
COMPANY_FORMS = (
    "株式会社{s}製作所",
    "{s}商事株式会社",
    "{s}電機株式会社",
    "有限会社{s}工務店",
    "{s}建設株式会社",
    "株式会社{s}",
    "{s}運輸株式会社",
)
PRODUCTS = (
    "A4コピー用紙 500枚×5冊",
    "トナーカートリッジ（黒）",
    "保守サービス（月額）",
    "USB-Cケーブル 1m",
    "会議室利用料",
    "システム開発委託費（6月分）",
    "翻訳料（特許明細書）",
    "交通費実費",
)
FREE_DOMAINS = (
    "gmail.com",
    "yahoo.co.jp",
    "icloud.com",
    "docomo.ne.jp",
    "ezweb.ne.jp",
    "outlook.jp",
    "softbank.ne.jp",
    "nifty.com",
)
EN_MONTHS = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)
PLACES = (
    ("東京都", "千代田区", ("丸の内", "神田小川町", "九段北", "麹町")),
    ("東京都", "世田谷区", ("三軒茶屋", "経堂", "用賀", "北沢")),
    ("東京都", "八王子市", ("明神町", "元本郷町", "散田町")),
    ("神奈川県", "横浜市港北区", ("日吉本町", "綱島西", "新横浜")),
    ("神奈川県", "川崎市中原区", ("小杉町", "木月")),
    ("神奈川県", "藤沢市", ("鵠沼海岸", "辻堂元町")),
    ("大阪府", "大阪市北区", ("梅田", "天神橋", "中崎西")),
    ("大阪府", "堺市堺区", ("中瓦町", "南花田口町")),
    ("愛知県", "名古屋市中区", ("栄", "錦", "丸の内")),
    ("愛知県", "常滑市", ("セントレア", "りんくう町")),
    ("北海道", "札幌市中央区", ("北一条西", "南三条西", "宮の森")),
    ("北海道", "虻田郡ニセコ町", ("字富士見", "字曽我")),
    ("福岡県", "福岡市博多区", ("博多駅前", "祇園町", "住吉")),
    ("宮城県", "仙台市青葉区", ("一番町", "国分町", "上杉")),
    ("京都府", "京都市中京区", ("烏丸通御池下る虎屋町", "河原町通三条上る下丸屋町")),
    ("広島県", "広島市中区", ("紙屋町", "八丁堀")),
    ("埼玉県", "さいたま市浦和区", ("高砂", "常盤")),
    ("千葉県", "千葉市美浜区", ("幕張西", "打瀬")),
    ("茨城県", "つくば市", ("竹園", "吾妻", "研究学園")),
    ("山梨県", "南アルプス市", ("小笠原", "鏡中條")),
    ("沖縄県", "那覇市", ("おもろまち", "久茂地", "首里当蔵町")),
    ("兵庫県", "神戸市中央区", ("三宮町", "ポートアイランド中町")),
    ("静岡県", "浜松市中央区", ("板屋町", "鍛冶町")),
    ("群馬県", "みどり市", ("大間々町大間々", "笠懸町阿左美")),
    ("長野県", "北佐久郡軽井沢町", ("大字軽井沢", "大字長倉")),
    ("新潟県", "新潟市中央区", ("万代", "古町通")),
)
ERAS = (("令和", "R", date(2019, 5, 1)), ("平成", "H", date(1989, 1, 8)), ("昭和", "S", date(1926, 12, 25)))
ZEN = str.maketrans("0123456789-", "０１２３４５６７８９－")
KANJI_DIGITS = "〇一二三四五六七八九"


def kanji_number(n: int) -> str:
    if n < 10:
        return KANJI_DIGITS[n]
    tens, ones = divmod(n, 10)
    return ("" if tens == 1 else KANJI_DIGITS[tens]) + "十" + (KANJI_DIGITS[ones] if ones else "")


def hiragana(katakana: str) -> str:
    return "".join(chr(ord(c) - 0x60) if "ァ" <= c <= "ヶ" else c for c in katakana)


@dataclass
class Name:
    last: str
    first: str
    last_kana: str
    first_kana: str
    last_rom: str
    first_rom: str
    sex: str


class Values:
    """Seeded values: Faker ja_JP / en_US and the lists above; check digits computed."""

    def __init__(self, seed: int) -> None:
        self.r = random.Random(seed)
        self.fj = Faker("ja_JP")
        self.fj.seed_instance(seed)
        self.fe = Faker("en_US")
        self.fe.seed_instance(seed + 1)

    def pick(self, seq: Sequence[T]) -> T:
        return seq[self.r.randrange(len(seq))]

    def digits(self, n: int) -> str:
        return "".join(str(self.r.randrange(10)) for _ in range(n))

    # people
    def name(self) -> Name:
        if self.r.random() < 0.6:
            last, last_kana, last_rom = self.fj.last_name_pair()
        else:
            last, last_kana, last_rom = self.pick(SURNAMES)
        if self.r.random() < 0.6:
            sex = self.pick("MF")
            pair = self.fj.first_name_male_pair() if sex == "M" else self.fj.first_name_female_pair()
            first, first_kana, first_rom = pair
        else:
            first, first_kana, first_rom, sex = self.pick(GIVEN)
        return Name(last, first, last_kana, first_kana, last_rom, first_rom, sex)

    def kanji(self, n: Name, sep: str | None = None) -> str:
        sep = self.pick((" ", "　", "", " ")) if sep is None else sep
        return n.last + sep + n.first

    def kana(self, n: Name, hira: bool = False) -> str:
        s = n.last_kana + self.pick((" ", "　", "")) + n.first_kana
        return hiragana(s) if hira else s

    def romaji(self, n: Name) -> str:
        return str(
            self.pick(
                (
                    f"{n.first_rom} {n.last_rom}",
                    f"{n.last_rom.upper()} {n.first_rom}",
                    f"{n.last_rom}, {n.first_rom}",
                    f"{n.first_rom} {n.last_rom}",
                )
            )
        )

    def en_name(self) -> str:
        return str(self.pick((self.fe.name(), f"{self.fe.first_name()} {self.fe.last_name()}")))

    # contact
    def phone(self, mobile: bool | None = None) -> str:
        mobile = self.r.random() < 0.5 if mobile is None else mobile
        if mobile:
            s = f"{self.pick(('090', '080', '070'))}-{self.digits(4)}-{self.digits(4)}"
        else:
            area = self.pick(("03", "06", "045", "052", "011", "092", "0467", "0263", "0120", "048"))
            local = 10 - len(area)
            mid = 4 if len(area) == 2 else (6 - len(area) if len(area) < 4 else 2)
            if area == "0120":
                mid = 3
                local = 6
            s = f"{area}-{self.digits(mid)}-{self.digits(local - mid)}"
        style = self.r.random()
        if style < 0.12:
            return s.replace("-", "")
        if style < 0.2:
            a, b, c = s.split("-")
            return f"({a}){b}-{c}"
        if style < 0.28:
            return s.translate(ZEN)
        if style < 0.34 and not s.startswith("0120"):
            return "+81-" + s[1:]
        return s

    def email(self, n: Name | None = None, domain: str | None = None) -> str:
        if n is None:
            local = self.fe.user_name()
        else:
            f, last = n.first_rom.lower(), n.last_rom.lower()
            local = str(
                self.pick(
                    (
                        f"{f}.{last}",
                        f"{last}.{f}",
                        f"{f[0]}{last}",
                        f"{last}{self.digits(2)}",
                        f"{f}_{last}{self.digits(3)}",
                    )
                )
            )
        return f"{local}@{domain or self.pick(FREE_DOMAINS)}"

    def postal(self) -> str:
        return f"{self.digits(3)}-{self.digits(4)}"

    def address_parts(self) -> tuple[str, str]:
        """An address as (prefecture to house number, building and room); the building may be empty."""
        if self.r.random() < 0.2:
            pref, city, town = self.fj.prefecture(), self.fj.city(), self.fj.town()  # Faker: not coherent
        else:
            pref, city, towns = self.pick(PLACES)
            town = self.pick(towns)
        if self.r.random() < 0.15 and pref in ("東京都", "大阪府", "神奈川県"):
            pref = ""
        c, b, g = self.r.randint(1, 9), self.r.randint(1, 30), self.r.randint(1, 25)
        style = self.r.random()
        if town.startswith(("字", "大字")) or "通" in town:
            num = f"{self.r.randint(1, 2400)}番地" if style < 0.5 else f"{self.r.randint(1, 2400)}-{g}"
        elif style < 0.35:
            num = f"{c}-{b}-{g}"
        elif style < 0.55:
            num = f"{kanji_number(c)}丁目{b}番{g}号"
        elif style < 0.7:
            num = f"{c}丁目{b}番地{g}"
        elif style < 0.8:
            num = f"{c}-{b}-{g}".translate(ZEN)
        else:
            num = f"{c}－{b}－{g}"
        bldg = ""
        if self.r.random() < 0.45:
            bldg = self.fj.building_name() + str(self.r.randint(101, 1208))
            if self.r.random() < 0.3:
                bldg += "号室"
        return pref + city + town + num, bldg

    def address(self) -> str:
        head, bldg = self.address_parts()
        return head + (self.pick((" ", "　", "")) + bldg if bldg else "")

    def en_address(self) -> tuple[str, str]:
        if self.r.random() < 0.5:
            town, ward, pref = self.pick(
                (
                    ("Nishi-Azabu", "Minato-ku", "Tokyo"),
                    ("Jiyugaoka", "Meguro-ku", "Tokyo"),
                    ("Kudan-minami", "Chiyoda-ku", "Tokyo"),
                    ("Tsukiji", "Chuo-ku", "Tokyo"),
                    ("Honcho", "Naka-ku", "Yokohama"),
                    ("Umeda", "Kita-ku", "Osaka"),
                    ("Sakae", "Naka-ku", "Nagoya"),
                )
            )
            return (
                f"{self.r.randint(1, 5)}-{self.r.randint(1, 20)}-{self.r.randint(1, 15)} {town}, {ward}, {pref}",
                (self.postal()),
            )
        return f"{self.fe.street_address()}, {self.fe.city()}, {self.fe.state_abbr()}", self.fe.zipcode()

    # dates
    def birthday(self) -> date:
        return date(1942, 1, 1) + timedelta(days=self.r.randrange(365 * 62))

    def someday(self) -> date:
        return date(2019, 1, 1) + timedelta(days=self.r.randrange(365 * 6))

    def wareki(self, d: date, style: str = "kanji") -> str:
        for era, initial, start in ERAS:
            if d >= start:
                y = d.year - start.year + 1
                if style == "initial":
                    return f"{initial}{y}.{d.month}.{d.day}"
                year = "元" if y == 1 and self.r.random() < 0.7 else str(y)
                s = f"{era}{year}年{d.month}月{d.day}日"
                return s.translate(ZEN) if style == "zen" else s
        return d.isoformat()

    def wareki_ym(self, d: date) -> str:
        """年 and 月 only, as résumés and slips write them (平成26年3月)."""
        full = self.wareki(d)
        return full[: full.index("月") + 1]

    def jdate(self, d: date) -> str:
        r = self.r.random()
        if r < 0.35:
            return self.wareki(d)
        if r < 0.45:
            return self.wareki(d, "initial")
        if r < 0.52:
            return self.wareki(d, "zen")
        if r < 0.75:
            return f"{d.year}年{d.month}月{d.day}日"
        if r < 0.9:
            return f"{d.year}/{d.month:02d}/{d.day:02d}"
        return d.isoformat()

    def en_date(self, d: date) -> str:
        return str(
            self.pick(
                (
                    f"{EN_MONTHS[d.month - 1]} {d.day}, {d.year}",
                    f"{d.day} {EN_MONTHS[d.month - 1][:3]} {d.year}",
                    f"{d.month:02d}/{d.day:02d}/{d.year}",
                    f"{d.day:02d}/{d.month:02d}/{d.year}",
                    d.isoformat(),
                )
            )
        )

    # identification codes
    def my_number(self, plain: bool | None = None) -> str:
        base = str(self.r.randint(1, 9)) + self.digits(10)
        s = base + str(mynumber.check_digit(base))
        if plain or (plain is None and self.r.random() < 0.5):
            return s
        sep = self.pick((" ", "-", "　"))
        return f"{s[:4]}{sep}{s[4:8]}{sep}{s[8:]}"

    def corp(self) -> str:
        base = self.digits(12)
        return str(corporate_number.check_digit(base)) + base

    def invoice_no(self) -> str:
        n = self.corp()
        return "T" + n if self.r.random() < 0.85 else f"T{n[0]}-{n[1:5]}-{n[5:9]}-{n[9:]}"

    def luhn(self, prefix: str, length: int) -> str:
        body = prefix + self.digits(length - len(prefix) - 1)
        total = 0
        for i, ch in enumerate(reversed(body)):
            d = int(ch)
            if i % 2 == 0:
                d *= 2
                d -= 9 if d > 9 else 0
            total += d
        return body + str((10 - total % 10) % 10)

    def card(self) -> str:
        kind = self.r.random()
        if kind < 0.15:
            n = self.luhn(self.pick(("34", "37")), 15)
            return f"{n[:4]} {n[4:10]} {n[10:]}"
        n = self.luhn(self.pick(("4", "51", "53", "3528", "3589", "36")), 16 if kind < 0.95 else 14)
        sep = self.pick((" ", "-", "", " "))
        return sep.join(n[i : i + 4] for i in range(0, len(n), 4))

    def account(self) -> str:
        return self.digits(7)

    def passport(self) -> str:
        return self.pick(("TK", "TZ", "MU", "TR", "TS")) + self.digits(7)

    def licence(self) -> str:
        # public safety commission, year first licensed, serial, check digit, times reissued
        yy = f"{self.r.randint(60, 124) % 100:02d}"
        return f"{self.pick(('30', '45', '62', '11', '50'))}{yy}{self.digits(7)}{self.r.randint(0, 2)}"

    def insurer(self, kokuho: bool = False) -> str:
        if kokuho:
            return self.pick(("13", "27", "14", "01")) + self.digits(4)
        return self.pick(("01", "06", "31", "32", "34")) + self.digits(6)

    def company(self, n: Name | None = None) -> str:
        if n is not None or self.r.random() < 0.5:
            s = (n or self.name()).last
            return str(self.pick(COMPANY_FORMS)).format(s=s)
        return str(self.fj.company())

    # traps
    def order_no_passing_my_number(self) -> str:
        base = self.digits(11)
        return base + str(mynumber.check_digit(base))

    def jan(self) -> str:
        body = "49" + self.digits(10)
        total = sum(int(c) * (3 if i % 2 else 1) for i, c in enumerate(body))
        return body + str((10 - total % 10) % 10)


# --- documents ---------------------------------------------------------------------------------------


def resume_jis(v: Values) -> Doc:
    d = Doc("履歴書")
    n = v.name()
    born = v.birthday()
    today = v.someday()
    age = today.year - born.year - ((today.month, today.day) < (born.month, born.day))
    d.line("履　歴　書")
    d.line(f"　　　　　　　　　　　　{v.wareki(today)}現在")
    d.line("ふりがな　", (v.kana(n, hira=True), "person"))
    d.line("氏　　名　", (v.kanji(n, "　"), "person"))
    birth = v.wareki(born) if v.r.random() < 0.7 else f"{born.year}年{born.month}月{born.day}日"
    d.line("生年月日　", (birth, "birth_date"), f"生（満{age}歳）　　※性別　{'男' if n.sex == 'M' else '女'}")
    d.line("ふりがな　", v.pick(("とうきょうと", "かながわけん", "おおさかふ", "ちばけん")))
    d.line("現住所　〒", (v.postal(), "postal_code"))
    d.line("　　　　", (v.address(), "address"))
    d.line("電話　", (v.phone(False), "phone"), "　携帯　", (v.phone(True), "phone"))
    d.line("E-mail　", (v.email(n), "email"))
    d.line("連絡先（現住所以外に連絡を希望する場合のみ記入）　同上")
    d.line("年　　月　　学歴・職歴（各別にまとめて書く）")
    d.line("　　　　　　学　歴")
    y = born.year + 15
    school = v.pick(("県立", "都立", "私立"))
    d.line(f"{v.wareki_ym(date(y + 1, 3, 1))}　{school}{v.fj.city()[:-1]}高等学校　卒業")
    d.line(
        f"{v.wareki_ym(date(y + 1, 4, 1))}　{v.pick(('早稲田', '明治', '関西', '東北', '九州'))}大学 経済学部 入学"
    )
    d.line(f"{v.wareki_ym(date(y + 5, 3, 1))}　同大学 卒業")
    d.line("　　　　　　職　歴")
    d.line(f"{v.wareki_ym(date(y + 5, 4, 1))}　{v.company()}　入社　営業部に配属")
    d.line(f"{v.wareki_ym(date(y + 12, 3, 31))}　一身上の都合により退職")
    d.line("　　　　　　　　　　　　　　　　　　　　　　以上")
    d.line("免許・資格")
    d.line(f"{v.wareki_ym(date(y + 4, 8, 1))}　普通自動車第一種運転免許 取得")
    d.line(f"{v.wareki_ym(date(y + 7, 11, 1))}　TOEIC Listening & Reading 公開テスト 785点 取得")
    d.line("志望の動機、特技、好きな学科、アピールポイントなど")
    d.line("前職では法人営業を担当し、新規顧客の開拓に取り組んでまいりました。")
    d.line(
        f"通勤時間　約{v.r.randint(20, 90)}分　扶養家族数（配偶者を除く）{v.r.randint(0, 3)}人　配偶者　有"
    )
    if v.r.random() < 0.35:
        d.line(
            "本人希望記入欄　持病の",
            (v.pick(DISEASES), "special_care"),
            "のため、月に一度の通院日の休暇を希望します。",
        )
    else:
        d.line("本人希望記入欄　貴社の規定に従います。")
    d.line()
    return d


def withholding_slip(v: Values) -> Doc:
    d = Doc("源泉徴収票")
    n = v.name()
    year = v.r.randint(2019, 2024)
    d.line(f"{v.wareki(date(year, 12, 31)).split('年')[0]}年分　給与所得の源泉徴収票")
    d.line("支払を受ける者　住所又は居所　", (v.address(), "address"))
    d.line(f"（受給者番号）{v.digits(5)}　（個人番号）", (v.my_number(), "my_number"), "　（役職名）")
    d.line("氏名　（フリガナ）", (v.kana(n), "person"))
    d.line("　　　", (v.kanji(n), "person"))
    pay = v.r.randint(2_800_000, 9_800_000)
    d.line(f"種別　給料・賞与　支払金額　{pay:,}　給与所得控除後の金額　{int(pay * 0.72):,}")
    d.line(
        f"所得控除の額の合計額　{v.r.randint(380, 1600) * 1000:,}　源泉徴収税額　{v.r.randint(40, 600) * 1000:,}"
    )
    if v.r.random() < 0.6:
        sp = v.name()
        sp.last, sp.last_kana = n.last, n.last_kana
        d.line(
            "（源泉）控除対象配偶者　（フリガナ）",
            (v.kana(sp), "person"),
            "　氏名　",
            (v.kanji(sp), "person"),
        )
        d.line("　個人番号　", (v.my_number(), "my_number"), "　配偶者の合計所得　380,000")
    d.line(f"社会保険料等の金額　{v.r.randint(400, 1400) * 1000:,}　生命保険料の控除額　40,000")
    born = v.birthday()
    era = v.wareki(born)
    d.line("受給者生年月日　", (era, "birth_date"))
    d.line(f"中途就・退職　就職　{v.wareki(v.someday())}")
    company = v.company()
    d.line("支払者　個人番号又は法人番号　", (v.corp(), "corporate_number"))
    d.line("　住所（居所）又は所在地　", (v.address(), "address"))
    d.line(f"　氏名又は名称　{company}　（電話）", (v.phone(False), "phone"))
    d.line()
    return d


def _surname_list(v: Values, d: Doc, k: int) -> None:
    titles = ("部長", "課長", "", "", "さん", "委員長", "主任", "先生", "")
    for i in range(k):
        if i:
            d.add(v.pick(("、", "，", "・", " ")))
        d.add(v.name().last, "person")
        d.add(v.pick(titles))


def minutes(v: Values) -> Doc:
    d = Doc("議事録")
    meet = v.someday()
    d.line(
        f"第{v.r.randint(2, 40)}回 {v.pick(('情報セキュリティ委員会', '個人情報保護委員会', '経営会議', '安全衛生委員会'))} 議事録"
    )
    d.line(f"日時：{meet.year}年{meet.month}月{meet.day}日（{'月火水木金'[meet.weekday() % 5]}）14:00〜15:30")
    d.line(f"場所：本社 {v.r.randint(2, 9)}F 第{v.r.randint(1, 4)}会議室（Teams併用）")
    d.add("出席者：")
    _surname_list(v, d, v.r.randint(3, 7))
    d.add("\n")
    d.add("欠席者：")
    _surname_list(v, d, v.r.randint(1, 2))
    d.add("\n")
    guest = v.name()
    d.line("オブザーバー：", v.company(), " ", (v.kanji(guest), "person"), "様")
    scribe = v.name()
    d.line("記録：", (v.kanji(scribe), "person"))
    d.line("議題")
    d.line("1. 前回議事録の確認")
    d.line("2. 個人情報の取扱状況の点検結果について")
    d.line("3. その他")
    d.line("議事内容")
    a, b = v.name(), v.name()
    d.line("1. 前回議事録について、", (a.last, "person"), "部長より説明があり、原案どおり承認された。")
    d.line(
        f"2. 点検の結果、{v.r.randint(2, 12)}部署中{v.r.randint(1, 2)}部署で施錠の不備が見つかった。",
        (b.last, "person"),
        "課長から、是正計画を来月末までに提出する旨の報告があった。",
    )
    if v.r.random() < 0.4:
        c = v.name()
        d.line(
            "　なお、",
            (v.kanji(c), "person"),
            "氏は",
            (v.pick(DISEASES), "special_care"),
            "による療養のため当面欠席。",
        )
    nxt = meet + timedelta(days=28)
    d.line(f"3. 次回は{nxt.month}月{nxt.day}日（同時刻）に開催する。")
    d.line("以上")
    d.line()
    return d


def invoice(v: Values) -> Doc:
    d = Doc("請求書")
    issued = v.someday()
    sole = v.r.random() < 0.3
    d.line("御　請　求　書")
    d.line(f"請求書番号：INV-{issued.year}{issued.month:02d}-{v.digits(4)}")
    d.line(f"請求日：{issued.year}年{issued.month}月{issued.day}日")
    d.line("〒", (v.postal(), "postal_code"), " ", (v.address(), "address"))
    client = v.company()
    d.line(f"{client}　御中")
    contact = v.name()
    d.line(v.pick(("経理部", "総務部", "購買部")), " ", (v.kanji(contact), "person"), " 様")
    d.line()
    me = v.name()
    if sole:
        d.line("発行者：", (v.kanji(me), "person"), "（", v.pick(("翻訳", "デザイン", "Web制作")), "）")
    else:
        d.line(f"発行者：{v.company()}")
    d.line("登録番号：", (v.invoice_no(), "invoice_registration"))
    d.line("〒", (v.postal(), "postal_code"), " ", (v.address(), "address"))
    d.line("TEL ", (v.phone(False), "phone"), "　FAX ", (v.phone(False), "phone"))
    if not sole:
        d.line("担当：", (v.kanji(v.name()), "person"))
    d.line("下記のとおりご請求申し上げます。")
    total = 0
    d.line("品番\t品名\t数量\t単価\t金額")
    for _ in range(v.r.randint(2, 5)):
        qty, price = v.r.randint(1, 20), v.r.randint(3, 500) * 100
        total += qty * price
        d.line(f"{v.jan()}\t{v.pick(PRODUCTS)}\t{qty}\t{price:,}\t{qty * price:,}")
    d.line(f"小計 {total:,}円　消費税（10%）{total // 10:,}円　合計 {total * 11 // 10:,}円")
    due = issued + timedelta(days=30)
    d.line(f"お支払期限：{due.year}年{due.month}月{due.day}日")
    bank, _ = v.pick(BANKS)
    d.line("お振込先：", bank, " ", v.pick(BRANCHES), "（普通）", (v.account(), "bank_account"))
    d.line(
        "口座名義：",
        (v.kana(me), "person") if sole else "カ）" + v.pick(("サトウセイサクシヨ", "ミライシヨウジ")),
    )
    d.line()
    return d


def hr_export_en(v: Values) -> Doc:
    rows: list[list[list[Piece]]] = []
    for _ in range(v.r.randint(8, 20)):
        foreign = v.r.random() < 0.4
        if foreign:
            first, last = v.fe.first_name(), v.fe.last_name()
        else:
            n = v.name()
            first, last = n.first_rom, n.last_rom
        addr, zipc = v.en_address()
        rows.append(
            [
                [(f"E{v.digits(5)}", None)],
                [(last, "person")],
                [(first, "person")],
                [(v.birthday().isoformat(), "birth_date")],
                [(v.someday().isoformat(), None)],
                [(v.pick(("Sales", "R&D", "Legal", "Finance", "IT")), None)],
                [(f"{first.lower()}.{last.lower()}@{v.pick(('acme.co.jp', 'example.com'))}", "email")],
                [(v.phone(True) if not foreign else v.fe.phone_number(), "phone")],
                [(addr, "address")],
                [(zipc, "postal_code")],
                [(v.passport() if not foreign else v.fe.bothify("#########"), "passport")]
                if v.r.random() < 0.6
                else [("", None)],
                [(v.pick(("Married", "Single", "")), None)],
            ]
        )
    header = [
        "employee_id",
        "last_name",
        "first_name",
        "date_of_birth",
        "hire_date",
        "department",
        "work_email",
        "mobile",
        "home_address",
        "zip",
        "passport_no",
        "marital_status",
    ]
    return csv_doc("HR export (CSV, English)", header, rows)


def hr_jsonl_en(v: Values) -> Doc:
    d = Doc("HR export (JSON lines, English)")
    for _ in range(v.r.randint(6, 14)):
        n = v.name()
        addr, zipc = v.en_address()
        born = v.birthday()
        d.add('{"employeeId": "')
        d.add(f"{v.digits(6)}")
        d.add('", "displayName": "')
        d.add(v.romaji(n), "person")
        d.add('", "birthDate": "')
        d.add(v.en_date(born) if v.r.random() < 0.5 else born.isoformat(), "birth_date")
        d.add('", "hireDate": "')
        d.add(v.someday().isoformat())
        d.add('", "email": "')
        d.add(v.email(n, "corp.example.jp"), "email")
        d.add('", "homeAddress": {"street": "')
        d.add(addr, "address")
        d.add('", "postalCode": "')
        d.add(zipc, "postal_code")
        d.add('"}, "emergencyContact": {"name": "')
        d.add(v.en_name(), "person")
        d.add('", "phone": "')
        d.add(v.phone(), "phone")
        d.add('"}, "costCenter": "CC-')
        d.add(v.digits(4))
        if v.r.random() < 0.3:
            d.add('", "accommodation": "')
            d.add(v.pick(DISEASES_EN), "special_care")
        d.add('"}\n')
    return d


def _signature(v: Values, d: Doc, n: Name, company: str, domain: str) -> None:
    d.line("--")
    d.line(company, " ", v.pick(("カスタマーサポート部", "営業部", "総務課")))
    d.line((v.kanji(n), "person"), "（", (v.kana(n, hira=True), "person"), "）")
    d.line("〒", (v.postal(), "postal_code"), " ", (v.address(), "address"))
    d.line("TEL: ", (v.phone(False), "phone"), " / Mail: ", (v.email(n, domain), "email"))


def support_thread(v: Values) -> Doc:
    d = Doc("サポートメールスレッド")
    cust, agent = v.name(), v.name()
    cmail, domain = v.email(cust), v.pick(("shop.example.co.jp", "support.example.jp"))
    order = v.order_no_passing_my_number()
    d.line(f"件名: Re: Re: ご注文番号{order}の配送について")
    d.line("差出人: ", (v.kanji(cust), "person"), " <", (cmail, "email"), ">")
    d.line("宛先: ", (f"support@{domain}", "email"))
    sent = v.someday()
    d.line(f"日付: {sent.year}年{sent.month}月{sent.day}日 {v.r.randint(8, 22)}:{v.r.randint(10, 59)}")
    d.line()
    d.line("お世話になっております。")
    d.line("再配達の件、承知しました。", v.pick(("明日は在宅しております。", "平日は日中不在です。")))
    if v.r.random() < 0.4:
        d.line("日中は携帯（", (v.phone(True), "phone"), "）にご連絡ください。")
    d.line()
    d.line((v.kanji(cust), "person"))
    d.line()
    d.line(
        f"{sent.year}/{sent.month:02d}/{sent.day:02d} 10:02、",
        (f"support@{domain}", "email"),
        " のメッセージ:",
    )
    d.line("> ", (cust.last, "person"), " 様")
    d.line(">")
    d.line("> いつもご利用いただきありがとうございます。")
    d.line("> カスタマーサポートの", (agent.last, "person"), "でございます。")
    d.line(
        f"> お問い合わせの商品（伝票番号 {v.digits(4)}-{v.digits(4)}-{v.digits(4)}）は、配送業者にて保管中です。"
    )
    d.line("> お届け先のご住所を念のためご確認ください。")
    d.line(">")
    d.line("> --")
    d.line("> ", (v.kanji(agent), "person"))
    d.line("> ", (f"support@{domain}", "email"))
    d.line(">")
    d.line(">> ", (v.kanji(cust), "person"), " <", (cmail, "email"), "> wrote:")
    d.line(">> 注文した商品がまだ届きません。届け先は")
    d.line(">> 〒", (v.postal(), "postal_code"))
    d.line(">> ", (v.address(), "address"))
    d.line(">> です。電話は ", (v.phone(), "phone"), " です。")
    if v.r.random() < 0.3:
        d.line(">> 支払いはカード（", (v.card(), "credit_card"), "）で済んでいます。")
    d.line()
    _signature(v, d, agent, v.company(), domain)
    d.line()
    return d


def support_thread_en(v: Values) -> Doc:
    d = Doc("support e-mail thread (English)")
    cust = v.en_name()
    first = cust.split()[0]
    agent = v.name()
    mail = f"{first.lower()}.{cust.split()[-1].lower()}@{v.pick(('gmail.com', 'outlook.com', 'proton.me'))}"
    ticket = v.digits(7)
    d.line(f"Subject: RE: [Ticket #{ticket}] Account update request")
    d.line(
        "From: ",
        (f"{agent.first_rom} {agent.last_rom}", "person"),
        " <",
        (v.email(agent, "help.example.jp"), "email"),
        ">",
    )
    d.line("To: ", (cust, "person"), " <", (mail, "email"), ">")
    d.line()
    d.line("Hi ", (first, "person"), ",")
    d.line()
    d.line(
        "Thanks for getting back to us. We have updated the phone number on your account to ",
        (v.phone(), "phone"),
        ". Your order #",
        v.order_no_passing_my_number(),
        " will ship on ",
        v.en_date(v.someday()),
        ".",
    )
    d.line()
    d.line("Best regards,")
    d.line((f"{agent.first_rom} {agent.last_rom}", "person"))
    d.line("Customer Care | Example Japan K.K.")
    d.line()
    d.line("-----Original Message-----")
    d.line("From: ", (cust, "person"), " <", (mail, "email"), ">")
    d.line(f"Sent: {v.en_date(v.someday())}")
    d.line("> Please change my address to ", *_en_addr_pieces(v), ".")
    born = v.birthday()
    d.line(
        "> For verification, my date of birth is ",
        (v.en_date(born), "birth_date"),
        " and the card ends in ",
        v.digits(4),
        ".",
    )
    d.line(f"> Invoice INV-{v.digits(6)} dated {v.en_date(v.someday())} is attached.")
    d.line()
    return d


def _en_addr_pieces(v: Values) -> list[Piece]:
    addr, zipc = v.en_address()
    return [(addr, "address"), (" ", None), (zipc, "postal_code")]


def vcards(v: Values) -> Doc:
    d = Doc("vCard address book")
    for _ in range(v.r.randint(4, 9)):
        d.line("BEGIN:VCARD")
        d.line("VERSION:3.0")
        if v.r.random() < 0.7:
            n = v.name()
            d.line("N:", (f"{n.last};{n.first}", "person"), ";;;")
            d.line("FN:", (v.kanji(n, " "), "person"))
            d.line("X-PHONETIC-LAST-NAME:", (n.last_kana, "person"))
            d.line("X-PHONETIC-FIRST-NAME:", (n.first_kana, "person"))
            d.line("ORG:", v.company(), ";", v.pick(("営業部", "経理部", "開発部")))
            d.line("TITLE:", v.pick(("課長", "主任", "部長", "代表取締役")))
            d.line("TEL;TYPE=CELL:", (v.phone(True), "phone"))
            d.line("TEL;TYPE=WORK,VOICE:", (v.phone(False), "phone"))
            d.line("EMAIL;TYPE=INTERNET:", (v.email(n), "email"))
            street = v.address()
            d.line("ADR;TYPE=HOME:;;", (street, "address"), ";;;", (v.postal(), "postal_code"), ";Japan")
        else:
            first, last = v.fe.first_name(), v.fe.last_name()
            d.line("N:", (f"{last};{first}", "person"), ";;;")
            d.line("FN:", (f"{first} {last}", "person"))
            d.line("ORG:", v.fe.company())
            d.line("TEL;TYPE=CELL:", (v.fe.phone_number(), "phone"))
            d.line("EMAIL;TYPE=INTERNET:", (v.fe.email(), "email"))
            d.line(
                "ADR;TYPE=WORK:;;",
                (v.fe.street_address(), "address"),
                ";",
                (v.fe.city(), "address"),
                ";",
                v.fe.state_abbr(),
                ";",
                (v.fe.zipcode(), "postal_code"),
                ";USA",
            )
        if v.r.random() < 0.6:
            d.line("BDAY:", (v.birthday().isoformat(), "birth_date"))
        d.line(f"REV:{v.someday().isoformat()}T09:00:00Z")
        d.line("END:VCARD")
    return d


def customers_csv(v: Values) -> Doc:
    english = v.r.random() < 0.4
    header = (
        ["name", "kana", "zip", "addr1", "tel", "dob", "member_id", "registered", "points"]
        if english
        else [
            "氏名",
            "フリガナ",
            "郵便番号",
            "住所",
            "電話番号",
            "生年月日",
            "会員番号",
            "登録日",
            "保有ポイント",
        ]
    )
    rows: list[list[list[Piece]]] = []
    for _ in range(v.r.randint(10, 30)):
        n = v.name()
        born = v.birthday()
        rows.append(
            [
                [(v.kanji(n), "person")],
                [(v.kana(n), "person")],
                [(v.postal() if v.r.random() < 0.8 else v.postal().replace("-", ""), "postal_code")],
                [(v.address(), "address")],
                [(v.phone(), "phone")],
                [
                    (
                        born.isoformat()
                        if english
                        else v.pick((f"{born:%Y/%m/%d}", v.wareki(born, "initial"))),
                        "birth_date",
                    )
                ],
                [(v.digits(8), None)],
                [(v.someday().isoformat(), None)],
                [(str(v.r.randint(0, 9999)), None)],
            ]
        )
    return csv_doc("customer CSV", header, rows)


def header_only_csv(v: Values) -> Doc:
    """Values that say nothing on their own: only the header tells what they are."""
    choice = v.r.randrange(3)
    rows: list[list[list[Piece]]] = []
    if choice == 0:
        header = ["社員番号", "口座番号", "支店コード", "免許証番号", "旅券番号", "マイナンバー"]
        for _ in range(v.r.randint(10, 25)):
            rows.append(
                [
                    [(v.digits(6), None)],
                    [(v.account(), "bank_account")],
                    [(v.digits(3), None)],
                    [(v.licence(), "drivers_license")],
                    [(v.passport(), "passport")],
                    [(v.my_number(True), "my_number")],
                ]
            )
    elif choice == 1:
        header = ["id", "acct_no", "branch", "card_number", "exp", "zip_code"]
        for _ in range(v.r.randint(10, 25)):
            rows.append(
                [
                    [(str(v.r.randint(1, 99999)), None)],
                    [(v.account(), "bank_account")],
                    [(v.digits(3), None)],
                    [(v.card(), "credit_card")],
                    [(f"{v.r.randint(1, 12):02d}/{v.r.randint(25, 31)}", None)],
                    [(v.postal().replace("-", ""), "postal_code")],
                ]
            )
    else:
        header = ["保険者番号", "記号", "番号", "枝番", "資格取得日", "被保険者氏名"]
        for _ in range(v.r.randint(10, 25)):
            n = v.name()
            rows.append(
                [
                    [(v.insurer(), "health_insurance")],
                    [(v.digits(v.r.randint(2, 8)), "health_insurance")],
                    [(str(v.r.randint(1, 9999)), "health_insurance")],
                    [(f"{v.r.randint(0, 3):02d}", None)],
                    [(v.someday().isoformat(), None)],
                    [(v.kanji(n), "person")],
                ]
            )
    return csv_doc("header-only CSV", header, rows)


def insurance_card(v: Values) -> Doc:
    d = Doc("健康保険証データ")
    n = v.name()
    kokuho = v.r.random() < 0.3
    if v.r.random() < 0.7:
        d.line("国民健康保険被保険者証" if kokuho else "健康保険被保険者証　本人（被保険者）")
        d.line(f"交付年月日　{v.wareki(v.someday())}")
        style = v.r.random()
        if style < 0.4:
            d.line(
                "記号　",
                (v.pick(("千代田", "あ", "中")) + v.digits(2) if kokuho else v.digits(4), "health_insurance"),
                "　番号　",
                (str(v.r.randint(1, 999)), "health_insurance"),
                "　（枝番）",
                f"{v.r.randint(0, 3):02d}",
            )
        else:
            sep = v.pick(("・", "-", " "))
            d.line(
                "記号・番号　",
                (f"{v.digits(4)}{sep}{v.r.randint(1, 999)}", "health_insurance"),
                f"　枝番 {v.r.randint(0, 3):02d}",
            )
        d.line("氏名　", (v.kanji(n), "person"))
        d.line(
            "生年月日　", (v.wareki(v.birthday()), "birth_date"), "　性別　", "男" if n.sex == "M" else "女"
        )
        d.line(f"資格取得年月日　{v.wareki(v.someday())}")
        if kokuho:
            d.line("住所　", (v.address(), "address"))
        d.line("保険者番号　", (v.insurer(kokuho), "health_insurance"))
        d.line(
            "保険者名称　",
            v.pick(("全国健康保険協会 東京支部", "関東ITソフトウェア健康保険組合", "千代田区")),
        )
    else:
        d.line("Health insurance details (for HR)")
        d.line("Name: ", (v.romaji(n), "person"))
        d.line("Insurer No.: ", (v.insurer(), "health_insurance"))
        d.line("Symbol/Number: ", (f"{v.digits(4)}-{v.r.randint(1, 999)}", "health_insurance"))
        d.line("Date of birth: ", (v.en_date(v.birthday()), "birth_date"))
        d.line(f"Coverage start: {v.en_date(v.someday())}")
    d.line()
    return d


def direct_debit(v: Values) -> Doc:
    d = Doc("口座振替依頼書")
    n = v.name()
    d.line("預金口座振替依頼書・自動払込利用申込書")
    d.line(f"申込日　{v.jdate(v.someday())}")
    d.line(f"お客様番号　{v.digits(10)}")
    d.line("ご住所　〒", (v.postal(), "postal_code"), "　", (v.address(), "address"))
    d.line("お電話番号　", (v.phone(), "phone"))
    if v.r.random() < 0.75:
        bank, code = v.pick(BANKS)
        d.line(f"金融機関名　{bank}　金融機関コード　{code}")
        d.line(f"支店名　{v.pick(BRANCHES)}　支店コード　{v.digits(3)}")
        d.line(
            "預金種目　",
            v.pick(("1.普通", "普通", "2.当座")),
            "　口座番号（右詰め）　",
            (v.account(), "bank_account"),
        )
    else:
        d.line("ゆうちょ銀行")
        kigou = "1" + v.digits(3) + "0"
        bango = v.digits(7) + "1"
        if v.r.random() < 0.5:
            d.line("通帳記号　", (kigou, "bank_account"), "　通帳番号　", (bango, "bank_account"))
        else:
            d.line("記号番号　", (f"{kigou}-{bango}", "bank_account"))
    d.line("口座名義（フリガナ）　", (v.kana(n), "person"))
    d.line("口座名義人　", (v.kanji(n), "person"), "　㊞")
    d.line(f"振替開始月　{v.someday().year}年{v.r.randint(1, 12)}月　振替日　毎月27日")
    d.line()
    return d


def delivery_slip(v: Values) -> Doc:
    if v.r.random() < 0.5:
        d = Doc("配送伝票")
        to, frm = v.name(), v.name()
        d.line(f"伝票番号　{v.digits(4)}-{v.digits(4)}-{v.digits(4)}")
        d.line("お届け先　〒", (v.postal(), "postal_code"))
        d.line("　", (v.address(), "address"))
        d.line("　", (v.kanji(to), "person"), "　様　TEL ", (v.phone(), "phone"))
        d.line("ご依頼主　〒", (v.postal(), "postal_code"), "　", (v.address(), "address"))
        d.line("　", (v.kanji(frm), "person"), "　TEL ", (v.phone(), "phone"))
        ship = v.someday()
        d.line(
            f"品名　{v.pick(PRODUCTS)}　個数 1　発送日 {ship:%Y/%m/%d}　お届け予定日 {ship + timedelta(days=2):%m/%d}"
            f"　時間帯 14-16時"
        )
        d.line()
        return d
    header = [
        "伝票番号",
        "お届け先電話番号",
        "お届け先郵便番号",
        "お届け先住所",
        "お届け先名",
        "敬称",
        "品名",
        "出荷予定日",
    ]
    rows: list[list[list[Piece]]] = []
    for _ in range(v.r.randint(10, 25)):
        ship = v.someday()
        rows.append(
            [
                [(v.order_no_passing_my_number(), None)],
                [(v.phone(), "phone")],
                [(v.postal().replace("-", ""), "postal_code")],
                [(v.address(), "address")],
                [(v.kanji(v.name()), "person")],
                [("様", None)],
                [(v.pick(PRODUCTS), None)],
                [(f"{ship:%Y/%m/%d}", None)],
            ]
        )
    return csv_doc("配送CSV", header, rows)


SURVEY_LINES: tuple[tuple[Piece | str, ...], ...] = (
    ("窓口の方の説明がわかりやすく、安心できました。",),
    ("待ち時間が長すぎます。予約制にしてほしい。",),
    ("担当の", "NAME", "さんがとても親切でした。"),
    ("以前から", "DISEASE", "で通院しているため、バリアフリー化を希望します。"),
    (
        "回答を ",
        "EMAIL",
        " に送ってください。",
    ),
    ("折り返しのお電話は ", "PHONE", " までお願いします。"),
    ("駐車場が狭いです。",),
    ("特にありません",),
    ("Webサイトの申請フォームが分かりにくかった。エラー表示が英語だった。",),
)


def survey(v: Values) -> Doc:
    header = ["回答ID", "回答日時", "年代", "性別", "満足度", "ご意見・ご感想（自由記述）"]
    rows: list[list[list[Piece]]] = []
    for i in range(v.r.randint(15, 35)):
        cell: list[Piece] = []
        for p in v.pick(SURVEY_LINES):
            if p == "NAME":
                cell.append((v.name().last, "person"))
            elif p == "DISEASE":
                cell.append((v.pick(DISEASES), "special_care"))
            elif p == "EMAIL":
                cell.append((v.email(v.name()), "email"))
            elif p == "PHONE":
                cell.append((v.phone(), "phone"))
            else:
                cell.append((str(p), None))
        when = v.someday()
        rows.append(
            [
                [(f"R{i + 1:05d}", None)],
                [(f"{when:%Y/%m/%d} {v.r.randint(8, 21)}:{v.r.randint(10, 59)}", None)],
                [(f"{v.r.randint(2, 8)}0代", None)],
                [(v.pick(("男性", "女性", "回答しない")), None)],
                [(str(v.r.randint(1, 5)), None)],
                cell,
            ]
        )
    return csv_doc("アンケート自由記述", header, rows)


def nengajo(v: Values) -> Doc:
    header = ["氏名", "敬称", "連名1", "連名1敬称", "郵便番号", "住所1", "住所2", "喪中", "2025送付"]
    rows: list[list[list[Piece]]] = []
    for _ in range(v.r.randint(12, 30)):
        n = v.name()
        spouse = v.name()
        has = v.r.random() < 0.5
        head, bldg = v.address_parts()
        rows.append(
            [
                [(v.kanji(n), "person")],
                [(v.pick(("様", "様", "先生", "殿")), None)],
                [(spouse.first, "person")] if has else [("", None)],
                [("様" if has else "", None)],
                [(v.postal(), "postal_code")],
                [(head, "address")],
                [(bldg, "address")] if bldg else [("", None)],
                [(v.pick(("", "", "○")), None)],
                [(v.pick(("済", "未", "済")), None)],
            ]
        )
    return csv_doc("年賀状宛名リスト", header, rows)


def roster(v: Values) -> Doc:
    header = [
        "社員番号",
        "氏名",
        "英字氏名",
        "所属",
        "役職",
        "内線",
        "携帯電話",
        "メールアドレス",
        "入社日",
        "生年月日",
    ]
    rows: list[list[list[Piece]]] = []
    for _ in range(v.r.randint(12, 30)):
        n = v.name()
        born = v.birthday()
        rows.append(
            [
                [(f"{v.r.randint(10000, 99999)}", None)],
                [(v.kanji(n), "person")],
                [(f"{n.last_rom.upper()} {n.first_rom}", "person")],
                [(v.pick(("総務部", "人事部", "知財情報部", "システム部")), None)],
                [(v.pick(("部長", "課長", "主任", "")), None)],
                [(v.digits(4), None)],
                [(v.phone(True), "phone")],
                [(v.email(n, "example.or.jp"), "email")],
                [(f"{v.someday():%Y/%m/%d}", None)],
                [(f"{born:%Y/%m/%d}", "birth_date")],
            ]
        )
    return csv_doc("社員名簿", header, rows)


def clinic_note(v: Values) -> Doc:
    d = Doc("診療予約メモ")
    n, fam = v.name(), v.name()
    visit = v.someday()
    d.line(
        f"予約 {visit:%Y/%m/%d} {v.r.randint(9, 17)}:{v.pick(('00', '15', '30', '45'))}　{v.pick(('内科', '整形外科', '心療内科'))}"
    )
    d.line("患者：", (v.kanji(n), "person"), " 様（", (v.kana(n), "person"), f"）　診察券番号 {v.digits(8)}")
    d.line("生年月日：", (v.pick((v.wareki(v.birthday(), "initial"), v.jdate(v.birthday()))), "birth_date"))
    d.line(
        "保険：社保　保険者番号 ",
        (v.insurer(), "health_insurance"),
        "　記号 ",
        (v.digits(5), "health_insurance"),
        "　番号 ",
        (str(v.r.randint(1, 99)), "health_insurance"),
    )
    d.line(f"主訴：{v.r.randint(2, 14)}日前から咳と微熱。")
    d.add("既往歴：")
    for i in range(v.r.randint(1, 3)):
        if i:
            d.add("、")
        d.add(v.pick(DISEASES), "special_care")
    d.add("\n")
    d.line(
        "連絡先：",
        v.pick(("妻", "夫", "長女", "母")),
        "（",
        (fam.first, "person"),
        "）携帯 ",
        (v.phone(True), "phone"),
    )
    d.line(f"次回予約：{(visit + timedelta(days=14)):%m/%d}　処方 {v.r.randint(7, 30)}日分")
    d.line()
    return d


def id_check_log(v: Values) -> Doc:
    d = Doc("本人確認記録")
    n = v.name()
    d.line(f"受付番号 {v.digits(10)}　受付日 {v.jdate(v.someday())}")
    d.line("申請者氏名　", (v.kanji(n), "person"))
    kind = v.r.randrange(3)
    if kind == 0:
        d.line("確認書類　運転免許証　番号 第", (v.licence(), "drivers_license"), "号")
        d.line("有効期限　", v.wareki(v.someday() + timedelta(days=1500)), "まで")
    elif kind == 1:
        d.line("確認書類　旅券（パスポート）　旅券番号 ", (v.passport(), "passport"))
    else:
        d.line("確認書類　個人番号カード（表面のみ。個人番号は記録しない）")
    d.line("生年月日　", (v.jdate(v.birthday()), "birth_date"))
    d.line("住所　", (v.address(), "address"))
    d.line(f"確認者　{v.pick(('窓口', '郵送'))}担当 ", (v.name().last, "person"))
    d.line()
    return d


def card_application(v: Values) -> Doc:
    d = Doc("カード決済申込メモ")
    n = v.name()
    d.line(
        "お申込者：",
        (v.kanji(n), "person"),
        "　ローマ字：",
        (f"{n.first_rom.upper()} {n.last_rom.upper()}", "person"),
    )
    d.line(
        "カード番号：",
        (v.card(), "credit_card"),
        f"　有効期限：{v.r.randint(1, 12):02d}/{v.r.randint(26, 31)}",
    )
    d.line(f"承認番号：{v.digits(6)}　取引ID：{v.luhn('9', 16)}")
    d.line(f"決済日：{v.someday():%Y-%m-%d}　金額：{v.r.randint(1, 90) * 1100:,}円")
    d.line()
    return d


def traps(v: Values) -> Doc:
    d = Doc("受注・在庫レポート（個人情報なし）")
    d.line(f"受注レポート {v.someday():%Y年%m月}")
    for _ in range(v.r.randint(8, 16)):
        when = v.someday()
        d.line(
            f"注文番号 {v.order_no_passing_my_number()}　JAN {v.jan()}　部品番号 {v.postal()}　"
            f"出荷日 {v.jdate(when)}　{v.company()}　{v.r.randint(1, 99) * 1000:,}円"
        )
    d.line(f"管理番号 {v.luhn('4', 16)}（システム内部ID）")
    d.line(
        f"バージョン {v.r.randint(1, 9)}.{v.r.randint(0, 20)}.{v.r.randint(0, 99)}　ビルド {v.someday():%Y%m%d}"
    )
    d.line(
        f"サーバ 10.{v.r.randint(0, 255)}.{v.r.randint(0, 255)}.{v.r.randint(1, 254)}　稼働率 99.{v.digits(2)}%"
    )
    d.line(f"特許第{v.r.randint(6000000, 7600000)}号　出願番号 特願{v.r.randint(2019, 2025)}-{v.digits(6)}")
    d.line("取引先：", v.company(), "、", v.company(), "（法人番号 ", (v.corp(), "corporate_number"), "）")
    d.line(
        f"ISBN978-4-{v.digits(2)}-{v.digits(6)}-{v.digits(1)}　定価 {v.r.randint(10, 50) * 100:,}円（税別）"
    )
    d.line()
    return d


KINDS: tuple[tuple[Callable[[Values], Doc], int], ...] = (
    (resume_jis, 3),
    (withholding_slip, 3),
    (minutes, 3),
    (invoice, 3),
    (hr_export_en, 1),
    (hr_jsonl_en, 1),
    (support_thread, 3),
    (support_thread_en, 2),
    (vcards, 1),
    (customers_csv, 1),
    (header_only_csv, 1),
    (insurance_card, 3),
    (direct_debit, 3),
    (delivery_slip, 2),
    (survey, 1),
    (nengajo, 1),
    (roster, 1),
    (clinic_note, 3),
    (id_check_log, 3),
    (card_application, 2),
    (traps, 2),
)


def make_heldout_corpus(seed: int = SEED, target_bytes: int = TARGET_BYTES) -> list[Doc]:
    """Documents until their UTF-8 size reaches ``target_bytes``; the same seed gives the same corpus."""
    v = Values(seed)
    deck = [make for make, weight in KINDS for _ in range(weight)]
    docs: list[Doc] = []
    size = 0
    while size < target_bytes:
        v.r.shuffle(deck)
        for make in deck:
            doc = make(v)
            docs.append(doc)
            size += len(doc.text.encode())
            if size >= target_bytes:
                break
    return docs


# --- scoring ----------------------------------------------------------------------------------------


def _masked(doc: Doc, start: int, end: int, spans: list[Span]) -> str:
    """The span in brackets with a little context; every letter and digit inside any label or
    prediction is masked, so no value (synthetic as they are) is printed."""
    lo, hi = max(0, start - 14), min(len(doc.text), end + 8)
    covered = [(s, e) for s, e, _ in doc.labels + spans if s < hi and lo < e]
    out = []
    for i in range(lo, hi):
        c = doc.text[i]
        if c == "\n":
            c = "⏎"
        elif c.isalnum() and any(s <= i < e for s, e in covered):
            c = "#" if c.isdigit() else "x"
        out.append(("[" if i == start else "") + c + ("]" if i == end - 1 else ""))
    return "…" + "".join(out) + "…"


def score(predict: Callable[[Any], list[Span]], docs: list[Doc] | None = None) -> dict[str, Any]:
    """Precision, recall and F1 of ``predict`` on the corpus, overall (personal types) and by type.

    Scored as `bench/scan.py` scores (its Score class): a prediction counts when it has the labelled
    type and overlaps the labelled span; each label and each prediction counts once.
    """
    from scan import Score  # bench/scan.py, beside this file

    docs = make_heldout_corpus() if docs is None else docs
    s = Score()
    misses: Counter[str] = Counter()
    samples: dict[str, list[str]] = {"fn": [], "fp": []}
    for doc in docs:
        pred = list(predict(doc))
        s.add(doc.labels, pred)
        for gs, ge, gt in doc.labels:
            if not any(pt == gt and ps < ge and gs < pe for ps, pe, pt in pred):
                misses[f"{gt} in {doc.kind}"] += 1
                if len(samples["fn"]) < 40 and _room_for(doc.kind, gt, samples["fn"]):
                    samples["fn"].append(f"{gt:<17} {doc.kind:<26} {_masked(doc, gs, ge, pred)}")
        for ps, pe, pt in pred:
            if not any(pt == gt and ps < ge and gs < pe for gs, ge, gt in doc.labels):
                misses[f"FP {pt} in {doc.kind}"] += 1
                if len(samples["fp"]) < 40 and _room_for(doc.kind, pt, samples["fp"]):
                    samples["fp"].append(f"{pt:<17} {doc.kind:<26} {_masked(doc, ps, pe, pred)}")
    p, r, f = s.prf(PERSONAL)
    ident = {t: s.prf([t])[2] for t in IDENTIFICATION if s.tp[t] + s.fn[t]}
    return {
        "precision": round(p, 4),
        "recall": round(r, 4),
        "f1": round(f, 4),
        "f1_person": round(s.prf(["person"])[2], 4),
        "f1_identification_min": round(min(ident.values()), 4) if ident else None,
        "by_type": s.table(),
        "worst": misses.most_common(20),
        "samples": samples,
    }


def _room_for(kind: str, entity: str, seen: list[str]) -> bool:
    """At most three samples per (type, kind) so that the sample shows variety."""
    return sum(1 for line in seen if line.startswith(f"{entity:<17} {kind:<26}")) < 3


def main() -> None:
    from scan import mamoru_predict  # bench/scan.py, beside this file

    from mamoru.scan.analyzer import Analyzer

    docs = make_heldout_corpus()
    kinds = Counter(d.kind for d in docs)
    sizes = Counter[str]()
    for d in docs:
        sizes[d.kind] += len(d.text.encode())
    labels = Counter(t for d in docs for _, _, t in d.labels)
    total = sum(sizes.values())
    print(f"held-out corpus: {len(docs)} documents, {total:,} bytes (seed {SEED})")
    for kind, count in sorted(kinds.items(), key=lambda kv: -sizes[kv[0]]):
        print(f"  {kind:<34} {count:>4} docs {sizes[kind]:>9,} bytes")
    print("labels: " + ", ".join(f"{t} {labels[t]}" for t in TYPES if labels[t]))
    result = score(mamoru_predict(Analyzer()), docs)
    print(
        f"\nmamoru on the held-out corpus: precision {result['precision']}  recall {result['recall']}  "
        f"F1 {result['f1']}  (personal types)"
    )
    print(f"{'type':<22}{'precision':>10}{'recall':>8}{'f1':>8}{'support':>9}")
    for t, row in result["by_type"].items():
        print(f"{t:<22}{row['precision']:>10}{row['recall']:>8}{row['f1']:>8}{row['support']:>9}")
    print("\nmost misses (FN: label not found; FP: prediction with no label), by type and document kind:")
    for what, count in result["worst"]:
        print(f"  {count:>4}  {what}")
    for key, title in (("fn", "false negatives"), ("fp", "false positives")):
        print(f"\nsample of {title} (values masked):")
        for line in result["samples"][key]:
            print("  " + line)
    summary = {
        "corpus": "heldout",
        "documents": len(docs),
        "bytes": total,
        "precision": result["precision"],
        "recall": result["recall"],
        "f1": result["f1"],
        "f1_person": result["f1_person"],
        "f1_identification_min": result["f1_identification_min"],
        "f1_by_type": {t: row["f1"] for t, row in result["by_type"].items()},
    }
    print(json.dumps(summary, ensure_ascii=False))


if __name__ == "__main__":
    main()
