"""The public portal: the notice in force, its earlier versions, in Japanese or English."""

from __future__ import annotations

from datetime import UTC, datetime
from functools import cache
from typing import Annotated
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, PackageLoader, select_autoescape

from mamoru.audit.chain import head
from mamoru.audit.proofs import latest_checkpoint
from mamoru.audit.verification import verification_status
from mamoru.edge import CurrentWorkspace, DbSession
from mamoru.policy.notice import Lang
from mamoru.policy.service import current_notice, notice_version, notice_versions
from mamoru.policy.tables import PublishedNotice
from mamoru.web.forms import from_query
from mamoru.web.i18n import LANG_COOKIE, choose_lang, labels

router = APIRouter(include_in_schema=False)
Language = Annotated[Lang, Depends(choose_lang)]


#: Every time a person reads is in Japan's time.
JST = ZoneInfo("Asia/Tokyo")


@cache
def templates() -> Environment:
    env = Environment(
        loader=PackageLoader("mamoru.web", "templates"),
        autoescape=select_autoescape(enabled_extensions=("html", "j2")),
    )
    env.filters["jst_date"] = lambda at: at.astimezone(JST).strftime("%Y-%m-%d")
    env.filters["jst_time"] = lambda at: at.astimezone(JST).strftime("%Y-%m-%d %H:%M JST")
    return env


def page(
    request: Request, ws: CurrentWorkspace, lang: Lang, name: str, title: str, **context: object
) -> HTMLResponse:
    other = "en" if lang == "ja" else "ja"
    switch = request.url.include_query_params(lang=other)
    context.setdefault("form_errors", from_query(request, lang))
    html = (
        templates()
        .get_template(name)
        .render(
            lang=lang,
            other_lang=other,
            switch_url=f"{switch.path}?{switch.query}",
            T=labels(lang),
            title=title,
            org_name=ws.policy.policy.organization.name.in_(lang),
            **context,
        )
    )
    response = HTMLResponse(html)
    if request.query_params.get("lang") == lang:
        response.set_cookie(LANG_COOKIE, lang, max_age=365 * 86400, samesite="lax", httponly=True)
    return response


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
