"""The public portal: the notice in force, its earlier versions, in Japanese or English."""

from __future__ import annotations

from datetime import UTC, date, datetime
from functools import cache
from typing import Annotated

from babel import Locale
from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, PackageLoader, pass_context, select_autoescape
from jinja2.runtime import Context

from mamoru.audit.chain import head
from mamoru.audit.proofs import latest_checkpoint
from mamoru.audit.verification import verification_status
from mamoru.edge import CurrentWorkspace, DbSession
from mamoru.policy.notice import Lang
from mamoru.policy.service import current_notice, notice_version, notice_versions
from mamoru.policy.tables import PublishedNotice
from mamoru.web.forms import from_query
from mamoru.web.i18n import LANG_COOKIE, choose_lang, labels
from mamoru.words import day, when, yen

router = APIRouter(include_in_schema=False)
Language = Annotated[Lang, Depends(choose_lang)]


@pass_context
def _jst_time(context: Context, at: datetime | date | str | None) -> str:
    return when(at, context.get("lang", "ja"))


@pass_context
def _jst_seconds(context: Context, at: datetime | date | str | None) -> str:
    return when(at, context.get("lang", "ja"), seconds=True)


@pass_context
def _jst_date(context: Context, at: date | datetime | str | None) -> str:
    return day(at, context.get("lang", "ja"))


@pass_context
def _yen(context: Context, amount: int) -> str:
    return yen(amount, context.get("lang", "ja"))


@pass_context
def _country(context: Context, code: str | None) -> str:
    """A country by its name in the page's language (CLDR's, through Babel), never its ISO code."""
    if not code:
        return ""
    lang = "en" if context.get("lang") == "en" else "ja"
    return str(Locale.parse(lang).territories.get(code.upper(), code))


@cache
def templates() -> Environment:
    env = Environment(
        loader=PackageLoader("mamoru.web", "templates"),
        autoescape=select_autoescape(enabled_extensions=("html", "j2")),
    )
    # Every time a person reads goes through mamoru.words: Japan's time, with its zone, in the
    # page's language (2026年12月2日 20時37分（日本時間）).
    env.filters["jst_date"] = _jst_date
    env.filters["jst_time"] = _jst_time
    env.filters["jst_seconds"] = _jst_seconds
    env.filters["yen"] = _yen
    env.filters["country"] = _country
    return env


def page(
    request: Request, ws: CurrentWorkspace, lang: Lang, name: str, title: str, **context: object
) -> HTMLResponse:
    other = "en" if lang == "ja" else "ja"
    switch = request.url.include_query_params(lang=other)
    context.setdefault("form_errors", from_query(request, lang))
    context.setdefault("current_path", request.url.path)
    words = labels(lang)
    html = (
        templates()
        .get_template(name)
        .render(
            lang=lang,
            other_lang=other,
            switch_url=f"{switch.path}?{switch.query}",
            T=words,
            # a code's label ("supervision_" ~ problem) where the code comes from data; else ``default``
            say=lambda key, default=None: words.get(key, key if default is None else default),
            title=title,
            org_name=ws.policy.policy.organization.name.in_(lang),
            **context,
        )
    )
    response = HTMLResponse(html)
    if request.query_params.get("lang") == lang:
        response.set_cookie(LANG_COOKIE, lang, max_age=365 * 86400, samesite="lax", httponly=True)
    return response


#: The statuses an error page has its own words for; any other uses those of its class (4xx, 5xx).
ERROR_WORDS = (401, 403, 404, 409, 413, 422, 429, 500)


def error_page(request: Request, status: int, reason: str | None = None) -> HTMLResponse:
    """An error as a page, in the page's language (the portal and the console; the API answers JSON).

    Says what happened and what to do next in words; never the exception's own text, which is English
    and for the log."""
    lang = choose_lang(request)
    words = labels(lang)
    key = status if status in ERROR_WORDS else (500 if status >= 500 else 409)
    console_side = request.url.path.startswith("/console")
    ws = getattr(request.app.state, "workspace", None)
    html = (
        templates()
        .get_template("error.html.j2")
        .render(
            lang=lang,
            other_lang="en" if lang == "ja" else "ja",
            switch_url=f"{request.url.path}?lang={'en' if lang == 'ja' else 'ja'}",
            T=words,
            title=words[f"errpage_{key}_title"],
            heading=words[f"errpage_{key}_title"],
            explanation=words[f"errpage_{key}_{reason}" if reason else f"errpage_{key}_text"],
            home=f"/console/?lang={lang}" if console_side else f"/?lang={lang}",
            home_label=words["errpage_console_home" if console_side else "errpage_portal_home"],
            org_name=ws.policy.policy.organization.name.in_(lang) if ws is not None else "mamoru",
            form_errors=(),
            current_path=request.url.path,
        )
    )
    return HTMLResponse(html, status_code=status, headers={"Cache-Control": "no-store"})


def _notice_page(
    request: Request, ws: CurrentWorkspace, lang: Lang, notice: PublishedNotice | None, archived: bool
) -> HTMLResponse:
    return page(
        request,
        ws,
        lang,
        "notice.html.j2",
        labels(lang)["notice"],
        archived=archived,
        notice_html=(notice.html_ja if lang == "ja" else notice.html_en) if notice else None,
        version=notice.policy_version if notice else "",
        effective_from=notice.effective_from if notice else "",
        sha256=notice.policy_sha256 if notice else "",
    )


@router.get("/", response_class=HTMLResponse)
def home(request: Request, ws: CurrentWorkspace, session: DbSession, lang: Language) -> HTMLResponse:
    return _notice_page(request, ws, lang, current_notice(session), archived=False)


@router.get("/notice/versions", response_class=HTMLResponse)
def versions(request: Request, ws: CurrentWorkspace, session: DbSession, lang: Language) -> HTMLResponse:
    return page(
        request, ws, lang, "versions.html.j2", labels(lang)["versions"], versions=notice_versions(session)
    )


@router.get("/notice/versions/{notice_id}", response_class=HTMLResponse)
def version(
    notice_id: int, request: Request, ws: CurrentWorkspace, session: DbSession, lang: Language
) -> HTMLResponse:
    notice = notice_version(session, notice_id)
    current = current_notice(session)
    return _notice_page(request, ws, lang, notice, archived=current is None or current.id != notice.id)


@router.get("/audit", response_class=HTMLResponse)
def audit_status(request: Request, ws: CurrentWorkspace, session: DbSession, lang: Language) -> HTMLResponse:
    size, _ = head(session)
    return page(
        request,
        ws,
        lang,
        "audit.html.j2",
        labels(lang)["audit"],
        verification=verification_status(session, ws.signer.public, now=datetime.now(UTC)),
        checkpoint=latest_checkpoint(session),
        size=size,
    )
