"""Language choice and the labels of the pages' own chrome, in Japanese and English."""

from __future__ import annotations

from fastapi import Request

from mamoru.policy.notice import Lang

LANG_COOKIE = "mamoru_lang"

LABELS: dict[str, dict[Lang, str]] = {
    "portal": {"ja": "個人情報保護ポータル", "en": "Privacy portal"},
    "notice": {"ja": "個人情報保護方針", "en": "Privacy policy"},
    "versions": {"ja": "過去の版", "en": "Earlier versions"},
    "version": {"ja": "版", "en": "Version"},
    "effective_from": {"ja": "施行日", "en": "In force from"},
    "revised_on": {"ja": "改定日", "en": "Revised on"},
    "published_at": {"ja": "公表日時 (UTC)", "en": "Published at (UTC)"},
    "hash": {"ja": "SHA-256", "en": "SHA-256"},
    "current": {"ja": "現行版", "en": "current"},
    "archived": {"ja": "この版は現在の方針ではありません。", "en": "This is not the policy in force."},
    "back": {"ja": "現行の方針へ", "en": "Back to the current policy"},
    "not_published": {"ja": "方針はまだ公表されていません。", "en": "No policy has been published yet."},
    "switch": {"ja": "English", "en": "日本語"},
    "not_found": {"ja": "ページが見つかりません。", "en": "Page not found."},
}


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
    return {key: value[lang] for key, value in LABELS.items()}
