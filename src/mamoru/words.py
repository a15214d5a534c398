"""What a person reads: the one catalog of words (Japanese and English) and times in Japan's time.

The catalog is the Babel message catalog shipped beside the pages (``mamoru/web/locale/<lang>/
LC_MESSAGES/messages.po``); it is read here as a data file, so the domain (letters, e-mails, exports)
and the pages use the same words without the domain importing the pages. Every time a person reads
goes through :func:`when` or :func:`day`: Asia/Tokyo, with its zone; machine outputs (the API, audit
entries, ``data.json``) keep UTC.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from functools import cache
from importlib import resources
from typing import Literal
from zoneinfo import ZoneInfo

from babel.messages.pofile import read_po

Lang = Literal["ja", "en"]

#: Every time a person reads is in Japan's time.
JST = ZoneInfo("Asia/Tokyo")

_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def _lang(lang: str) -> Lang:
    return "en" if lang == "en" else "ja"


@cache
def catalog(lang: Lang) -> dict[str, str]:
    """Every word of ``lang``: key -> text, from its message catalog (read once, no compile step)."""
    path = resources.files("mamoru").joinpath(f"web/locale/{_lang(lang)}/LC_MESSAGES/messages.po")
    with path.open("rb") as f:
        messages = read_po(f, locale=_lang(lang))
    return {str(m.id): str(m.string) for m in messages if m.id and m.string}


def word(key: str, lang: str, default: str | None = None) -> str:
    """The text of ``key`` in ``lang``; ``default`` (or the key itself) when the catalog lacks it."""
    found = catalog(_lang(lang)).get(key)
    if found is not None:
        return found
    return key if default is None else default


def jst(at: datetime) -> datetime:
    """``at`` in Japan's time; a time without a zone is taken as UTC (how the store keeps them)."""
    if at.tzinfo is None:
        at = at.replace(tzinfo=UTC)
    return at.astimezone(JST)


def when(at: datetime | date | str | None, lang: str, *, seconds: bool = False) -> str:
    """A moment as a person in Japan reads it: ``2026年12月2日 20時37分（日本時間）`` or
    ``2 Dec 2026, 20:37 JST``; empty for no time. An ISO string is read first; a day is a day."""
    if at is None or at == "":
        return ""
    if isinstance(at, str):
        try:
            return when(datetime.fromisoformat(at), lang, seconds=seconds)
        except ValueError:
            return at
    if not isinstance(at, datetime):
        return day(at, lang)
    t = jst(at)
    if _lang(lang) == "ja":
        tail = f"{t.second:02d}秒" if seconds else ""
        return f"{t.year}年{t.month}月{t.day}日 {t.hour}時{t.minute:02d}分{tail}（日本時間）"
    tail = f":{t.second:02d}" if seconds else ""
    return f"{t.day} {_MONTHS[t.month - 1]} {t.year}, {t.hour:02d}:{t.minute:02d}{tail} JST"


def day(d: date | datetime | str | None, lang: str) -> str:
    """A day: ``2026年12月2日`` or ``2 Dec 2026``; a moment is first put in Japan's time. An ISO
    string (as kept in JSON documents) is read first; anything else is returned as it is."""
    if d is None or d == "":
        return ""
    if isinstance(d, str):
        try:
            return day(datetime.fromisoformat(d) if "T" in d else date.fromisoformat(d), lang)
        except ValueError:
            return d
    if isinstance(d, datetime):
        d = jst(d).date()
    if _lang(lang) == "ja":
        return f"{d.year}年{d.month}月{d.day}日"
    return f"{d.day} {_MONTHS[d.month - 1]} {d.year}"


def yen(amount: int, lang: str) -> str:
    """An amount of money: ``1,000円`` or ``1,000 yen``."""
    return f"{amount:,}円" if _lang(lang) == "ja" else f"{amount:,} yen"


def country(code: str, lang: str) -> str:
    """A country's name from its ISO 3166 code (``US`` -> アメリカ合衆国 / United States), from the CLDR
    data Babel ships; the code itself for one CLDR does not know."""
    from babel import Locale

    return str(Locale(_lang(lang)).territories.get(code.upper(), code))


def month(key: str, lang: str, *, short: bool = False) -> str:
    """A month key ``2026-11`` as a person reads it: ``2026年11月`` or ``Nov 2026``; ``short`` leaves
    out the year (``11月``, ``Nov``) for an axis under a chart whose title gives the span."""
    try:
        year, number = (int(part) for part in key.split("-")[:2])
    except ValueError:
        return key
    if not 1 <= number <= 12:
        return key
    if _lang(lang) == "ja":
        return f"{number}月" if short else f"{year}年{number}月"
    return _MONTHS[number - 1] if short else f"{_MONTHS[number - 1]} {year}"
