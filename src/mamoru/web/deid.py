"""The portal's page on anonymized and pseudonymized information (APPI Arts. 41(4), 43, 44, 46) and the
console's page of plans, runs and registers. Thin: what they show comes from the register."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse

from mamoru.deid import register as reg
from mamoru.deid import runs
from mamoru.edge import CurrentWorkspace, DbSession
from mamoru.policy.notice import Lang
from mamoru.web.console import Staff, check, console_page
from mamoru.web.i18n import choose_lang, labels
from mamoru.web.portal import page

portal_router = APIRouter(include_in_schema=False)
console_router = APIRouter(prefix="/console/deid", include_in_schema=False)
Language = Annotated[Lang, Depends(choose_lang)]


def _purposes(ws: CurrentWorkspace, lang: Lang) -> dict[str, str]:
    return {p.id: p.text.in_(lang) for p in ws.policy.policy.purposes}


@portal_router.get("/deid", response_class=HTMLResponse)
def published(request: Request, ws: CurrentWorkspace, session: DbSession, lang: Language) -> HTMLResponse:
    """Generated from the register, like the notice: each anonymized dataset's items, creation date,
    safety measures and complaint contact, each provision's items and method; each pseudonymized
    dataset's purpose."""
    return page(
        request,
        ws,
        lang,
        "deid.html.j2",
        labels(lang)["deid_public"],
        register=reg.public_register(session),
        purposes=_purposes(ws, lang),
    )


@console_router.get("", response_class=HTMLResponse)
def console(
    request: Request, ws: CurrentWorkspace, session: DbSession, lang: Language, who: Staff
) -> HTMLResponse:
    check(who, "deid")
    return console_page(
        request,
        ws,
        lang,
        who,
        "console_deid.html.j2",
        labels(lang)["deid"],
        plans=reg.plans(session),
        datasets=reg.datasets(session),
        runs=runs.runs(session, limit=50),
        purposes=_purposes(ws, lang),
    )
