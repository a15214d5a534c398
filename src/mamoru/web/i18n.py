"""Language choice and the labels of the pages' own chrome, in Japanese and English.

The labels live in Babel message catalogs, ``locale/<lang>/LC_MESSAGES/messages.po``: the msgid is a
key the templates use (``T.sign_in``), the msgstr the text shown. They are read once with Babel's PO
reader, so there is no compile step and nothing to go stale.
"""

from __future__ import annotations

from fastapi import Request

from mamoru import words
from mamoru.policy.notice import Lang

LANG_COOKIE = "mamoru_lang"

LANGS: tuple[Lang, ...] = ("ja", "en")


def catalog(lang: Lang) -> dict[str, str]:
    """Every label of ``lang``: key -> text, from its message catalog (read in :mod:`mamoru.words`,
    so that letters and e-mails use the same words)."""
    return words.catalog(lang)


def choose_lang(request: Request) -> Lang:
    """``?lang=`` first, then the cookie, then Accept-Language; Japanese by default."""
    for candidate in (request.query_params.get("lang"), request.cookies.get(LANG_COOKIE)):
        if candidate == "ja":
            return "ja"
        if candidate == "en":
            return "en"
    accept = request.headers.get("accept-language", "").lower()
    return "en" if accept.startswith("en") else "ja"


def labels(lang: Lang) -> dict[str, str]:
    return catalog(lang)
