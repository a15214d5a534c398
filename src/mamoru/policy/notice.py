"""The public notice (公表事項), rendered from the policy in Japanese or English, as HTML or Markdown.

It carries everything APPI Art. 32 requires to be knowable by the person, and what JIS Q 15001
requires of an external privacy policy. Pure: the same policy gives the same text.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from functools import cache
from typing import Literal

from babel import Locale
from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from mamoru.law.requests import RequestKind
from mamoru.policy.errors import NoticeIncomplete
from mamoru.policy.model import Policy, Text
from mamoru.policy.rules import publication_issues

Lang = Literal["ja", "en"]
Format = Literal["html", "md"]
LANGS: tuple[Lang, ...] = ("ja", "en")

LABELS: dict[str, dict[Lang, str]] = {
    "title": {"ja": "個人情報保護方針", "en": "Privacy Policy"},
    "principles": {"ja": "基本方針", "en": "Basic policy"},
    "dates": {"ja": "制定日・改定日", "en": "Enactment and revision"},
    "enacted": {"ja": "制定", "en": "Enacted"},
    "revised": {"ja": "最終改定", "en": "Last revised"},
    "effective": {"ja": "本版の施行日", "en": "This version in force from"},
    "version": {"ja": "版", "en": "Version"},
    "organization": {"ja": "個人情報取扱事業者", "en": "The business handling personal information"},
    "org_name": {"ja": "名称", "en": "Name"},
    "org_address": {"ja": "住所", "en": "Address"},
    "representative": {"ja": "代表者", "en": "Representative"},
    "protection_manager": {"ja": "個人情報保護管理者", "en": "Personal information protection manager"},
    "purposes": {"ja": "保有個人データの利用目的", "en": "Purposes of use of retained personal data"},
    "purposes_lead": {
        "ja": "取得した個人情報は、次の目的の範囲内でのみ利用します。取得の際に個別に利用目的を示した場合は、その目的に従います。",
        "en": "We use the personal information we acquire only within the following purposes. "
        "Where a purpose was stated separately when the information was acquired, that purpose applies.",
    },
    "data": {"ja": "取り扱う情報", "en": "Information used"},
    "persons": {"ja": "対象となる方", "en": "Whose information"},
    "my_number": {
        "ja": "個人番号（マイナンバー）の利用目的",
        "en": "Purposes of use of the Individual Number (My Number)",
    },
    "my_number_lead": {
        "ja": "個人番号及び特定個人情報は、法令で定められた次の事務に限って利用します。ご本人の同意があっても、これ以外の目的には利用しません。",
        "en": "The Individual Number and specific personal information are used only for the following affairs "
        "set by law, and never for anything else, even with the person's consent.",
    },
    "provision": {"ja": "第三者提供", "en": "Provision to third parties"},
    "provision_lead": {
        "ja": "本人の同意がある場合又は法令に基づく場合を除き、個人データを第三者に提供しません。",
        "en": "We do not provide personal data to third parties except with the person's consent or as the law provides.",
    },
    "basis_consent": {"ja": "本人の同意に基づく", "en": "with the person's consent"},
    "basis_law": {"ja": "法令に基づく", "en": "as the law provides"},
    "basis_opt_out": {"ja": "オプトアウトによる", "en": "by opt-out"},
    "basis_joint_use": {"ja": "共同利用", "en": "joint use"},
    "basis_succession": {"ja": "事業の承継に伴う", "en": "with a succession of business"},
    "joint_items": {"ja": "共同して利用される個人データの項目", "en": "Items used jointly"},
    "joint_users": {"ja": "共同して利用する者の範囲", "en": "Who uses them jointly"},
    "joint_purpose": {"ja": "利用する者の利用目的", "en": "Their purpose"},
    "joint_manager": {
        "ja": "当該個人データの管理について責任を有する者の氏名又は名称及び住所並びに代表者の氏名",
        "en": "The party responsible for managing the data: name, address and representative",
    },
    "foreign_system": {
        "ja": "提供先の国における個人情報保護制度",
        "en": "The protection system of the recipient's country",
    },
    "foreign_measures": {"ja": "提供先が講ずる個人情報保護措置", "en": "The measures the recipient takes"},
    "entrustment": {"ja": "取扱いの委託", "en": "Entrusting the handling"},
    "entrustment_lead": {
        "ja": "業務の一部を委託する場合は、委託先の管理体制を事前に確認し、契約を締結したうえで必要かつ適切な監督を行います。",
        "en": "When we entrust part of our work to another business, we check its protection in advance, "
        "conclude a contract and supervise it as needed.",
    },
    "country": {"ja": "所在国", "en": "Country"},
    "retention": {"ja": "保存期間", "en": "Retention"},
    "requests": {"ja": "開示等の請求の手続", "en": "How to make a request"},
    "requests_lead": {
        "ja": "利用目的の通知、開示（第三者提供記録の開示を含む）、訂正・追加・削除、利用停止・消去、第三者提供の停止を請求できます。",
        "en": "You may ask us to notify the purposes of use, disclose your data (including the records of "
        "provision to third parties), correct, add to or delete it, stop using or erase it, or stop providing it to third parties.",
    },
    "where": {"ja": "請求先", "en": "Where to apply"},
    "how": {"ja": "請求の方法", "en": "How to apply"},
    "identity": {"ja": "本人確認", "en": "Identity verification"},
    "agents": {"ja": "代理人による請求", "en": "Requests by an agent"},
    "fees": {"ja": "手数料", "en": "Fees"},
    "free": {"ja": "無料", "en": "free of charge"},
    "yen": {"ja": "円", "en": " yen"},
    "security": {"ja": "安全管理のために講じた措置", "en": "Security measures taken"},
    "contact": {"ja": "苦情・お問い合わせ窓口", "en": "Complaints and inquiries"},
    "phone": {"ja": "電話", "en": "Phone"},
    "email": {"ja": "電子メール", "en": "E-mail"},
    "hours": {"ja": "受付時間", "en": "Hours"},
    "foreign": {"ja": "個人データを取り扱う国と外的環境の把握", "en": "Where personal data is handled"},
    "foreign_lead": {
        "ja": "個人データは次の国で保管し、又は次の委託先・提供先が取り扱います。外国で取り扱う場合は、その国の個人情報の保護に関する制度を把握したうえで安全管理措置を講じています。",
        "en": "Personal data is stored in, or handled by the following processors and recipients in, the "
        "countries below. Where it is handled abroad, we take our security measures knowing that "
        "country's system for the protection of personal information.",
    },
    "japan_only": {
        "ja": "個人データは日本国内でのみ保管し、取り扱っています。",
        "en": "Personal data is stored and handled in Japan only.",
    },
    "storage": {"ja": "保管場所", "en": "Stored at"},
    "processors": {"ja": "委託先", "en": "Processors"},
    "recipients": {"ja": "提供先", "en": "Recipients"},
    "country_system": {"ja": "当該国の個人情報保護制度", "en": "That country's protection system"},
    "accredited": {
        "ja": "認定個人情報保護団体",
        "en": "Accredited personal information protection organization",
    },
    "accredited_none": {
        "ja": "対象事業者として所属している認定個人情報保護団体はありません。",
        "en": "We are not a member of any accredited personal information protection organization.",
    },
}

REQUEST_LABELS: dict[RequestKind, dict[Lang, str]] = {
    RequestKind.PURPOSE_NOTIFICATION: {"ja": "利用目的の通知", "en": "Notification of purposes"},
    RequestKind.DISCLOSURE: {"ja": "開示", "en": "Disclosure"},
    RequestKind.PROVISION_RECORD_DISCLOSURE: {
        "ja": "第三者提供記録の開示",
        "en": "Disclosure of provision records",
    },
    RequestKind.CORRECTION: {"ja": "訂正・追加・削除", "en": "Correction, addition or deletion"},
    RequestKind.STOP_USE: {"ja": "利用停止", "en": "Cessation of use"},
    RequestKind.ERASE: {"ja": "消去", "en": "Erasure"},
    RequestKind.STOP_PROVISION: {"ja": "第三者提供の停止", "en": "Cessation of provision to third parties"},
    RequestKind.FOREIGN_INFORMATION: {
        "ja": "外国にある第三者への提供に関する情報の提供",
        "en": "Information on provision to parties abroad",
    },
    RequestKind.ACCESS_HISTORY: {"ja": "利用履歴の開示", "en": "Access history"},
}

AFFAIR_LABELS: dict[str, dict[Lang, str]] = {
    "withholding_slip": {
        "ja": "源泉徴収票・扶養控除等申告書の作成",
        "en": "Withholding tax slips and dependants' declarations",
    },
    "payment_report": {"ja": "支払調書の作成", "en": "Payment reports"},
    "health_insurance": {"ja": "健康保険の届出", "en": "Health insurance filings"},
    "welfare_pension": {"ja": "厚生年金保険の届出", "en": "Welfare pension filings"},
    "national_pension_category3": {
        "ja": "国民年金第3号被保険者の届出",
        "en": "National Pension category 3 filings",
    },
    "employment_insurance": {"ja": "雇用保険の届出", "en": "Employment insurance filings"},
    "workers_compensation": {"ja": "労災保険の請求", "en": "Workers' accident insurance claims"},
    "property_savings": {"ja": "財形貯蓄の申告", "en": "Property accumulation savings declarations"},
}


@dataclass
class CountryHandling:
    """One country where personal data is handled: what the policy stores there, who handles it there,
    and what the organization knows of that country's protection system."""

    code: str
    storage: list[Text] = field(default_factory=list)
    processors: list[Text] = field(default_factory=list)
    recipients: list[Text] = field(default_factory=list)
    systems: list[Text] = field(default_factory=list)

    def name(self, lang: Lang) -> str:
        return country_name(self.code, lang)


def country_name(code: str, lang: Lang) -> str:
    """The country's name in ``lang`` (from the Unicode CLDR data Babel ships), or the code."""
    return str(Locale.parse(lang).territories.get(code, code))


def handling_countries(policy: Policy) -> list[CountryHandling]:
    """Every country the policy's storage locations, processors and recipients are in, Japan first.

    The notice's foreign environment section is made from this, so it cannot say Japan only while the
    policy lists anything abroad."""
    countries: dict[str, CountryHandling] = {}

    def at(code: str) -> CountryHandling:
        return countries.setdefault(code, CountryHandling(code))

    def system(place: CountryHandling, text: Text | None) -> None:
        if text is not None and text not in place.systems:
            place.systems.append(text)

    for location in policy.storage:
        at(location.country).storage.append(location.name)
        system(at(location.country), location.country_system)
    for processor in policy.processors:
        at(processor.country).processors.append(processor.name)
        system(at(processor.country), processor.foreign.country_system if processor.foreign else None)
    for recipient in policy.recipients:
        at(recipient.country).recipients.append(recipient.name)
        system(at(recipient.country), recipient.foreign.country_system if recipient.foreign else None)
    return sorted(countries.values(), key=lambda c: (c.code != "JP", c.code))


def format_date(value: date, lang: Lang) -> str:
    if lang == "ja":
        return f"{value.year}年{value.month}月{value.day}日"
    return value.strftime("%B %-d, %Y")


@cache
def _environment() -> Environment:
    env = Environment(
        loader=PackageLoader("mamoru.policy", "templates"),
        autoescape=select_autoescape(enabled_extensions=("html", "j2"), default_for_string=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters["date"] = format_date
    return env


def ensure_publishable(policy: Policy) -> None:
    """Refuse a policy whose notice would lack a revision date, an inquiry contact or the measures."""
    missing = [issue.field for issue in publication_issues(policy)]
    if missing:
        raise NoticeIncomplete(missing)


def render_notice(policy: Policy, lang: Lang = "ja", fmt: Format = "html") -> str:
    """The notice text. For HTML, an ``<article>`` fragment; :func:`render_document` wraps it."""
    ensure_publishable(policy)
    if lang not in LANGS:
        raise ValueError(f"unknown language '{lang}'; use one of {', '.join(LANGS)}")
    template = _environment().get_template("notice.html.j2" if fmt == "html" else "notice.md.j2")
    return template.render(
        p=policy,
        lang=lang,
        L={key: value[lang] for key, value in LABELS.items()},
        request_labels={kind.value: label[lang] for kind, label in REQUEST_LABELS.items()},
        affair_labels={key: label[lang] for key, label in AFFAIR_LABELS.items()},
        kinds=list(RequestKind),
        countries=handling_countries(policy),
        abroad=any(c.code != "JP" for c in handling_countries(policy)),
    )


def render_document(policy: Policy, lang: Lang = "ja") -> str:
    """A standalone HTML page of the notice, for saving or printing."""
    body = render_notice(policy, lang, "html")
    title = f"{LABELS['title'][lang]} — {policy.organization.name.in_(lang)}"
    return _environment().get_template("standalone.html.j2").render(lang=lang, title=title, body=body)
