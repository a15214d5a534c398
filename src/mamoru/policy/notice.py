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
from mamoru.words import catalog, word

Lang = Literal["ja", "en"]
Format = Literal["html", "md"]
LANGS: tuple[Lang, ...] = ("ja", "en")

#: The notice's words are in the one catalog (``mamoru/web/locale``): ``notice_<key>`` for its headings
#: and sentences, ``notice_request_<kind>`` for the request kinds, ``notice_affair_<affair>`` for the
#: My Number affairs.
LABELS = "notice_"
REQUEST_LABELS = "notice_request_"
AFFAIR_LABELS = "notice_affair_"


def _words(prefix: str, lang: Lang) -> dict[str, str]:
    """Every catalog word under ``prefix``, by the rest of its key."""
    return {key[len(prefix) :]: text for key, text in catalog(lang).items() if key.startswith(prefix)}


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
        L=_words(LABELS, lang),
        request_labels=_words(REQUEST_LABELS, lang),
        affair_labels=_words(AFFAIR_LABELS, lang),
        kinds=list(RequestKind),
        countries=handling_countries(policy),
        abroad=any(c.code != "JP" for c in handling_countries(policy)),
    )


def render_document(policy: Policy, lang: Lang = "ja") -> str:
    """A standalone HTML page of the notice, for saving or printing."""
    body = render_notice(policy, lang, "html")
    title = f"{word(LABELS + 'title', lang)} — {policy.organization.name.in_(lang)}"
    return _environment().get_template("standalone.html.j2").render(lang=lang, title=title, body=body)
