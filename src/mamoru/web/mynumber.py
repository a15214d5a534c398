"""The My Number vault's console page: for designated handlers only. It lists filings and entries (never
the numbers) and hands out the statutory outputs, each download audited."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, Response

from mamoru.edge import CurrentWorkspace, DbSession, download
from mamoru.law.mynumber import NumberDocument
from mamoru.mynumber import controls
from mamoru.mynumber import service as mn
from mamoru.policy.notice import Lang
from mamoru.web import listing
from mamoru.web.console import Staff, check, console_page
from mamoru.web.i18n import choose_lang, labels

router = APIRouter(prefix="/console/mynumber", include_in_schema=False)
Language = Annotated[Lang, Depends(choose_lang)]


@router.get("", response_class=HTMLResponse)
def vault_page(
    request: Request, ws: CurrentWorkspace, session: DbSession, lang: Language, who: Staff
) -> HTMLResponse:
    check(who, "mynumber")
    today = datetime.now(UTC).date()
    words = labels(lang)
    asked = listing.asked(request, mn.ENTRIES)
    found = mn.entry_page(session, asked, today)
    return console_page(
        request,
        ws,
        lang,
        who,
        "console_mynumber.html.j2",
        words["mynumber"],
        filings=mn.filings(session),
        entries=found.items,
        table=listing.listing(
            request,
            "/console/mynumber",
            mn.ENTRIES,
            asked,
            found,
            lang,
            choices=[
                listing.Choice(
                    "document",
                    words["document"],
                    [(d.value, words.get(f"mn_doc_{d.value}", d.value)) for d in NumberDocument],
                    words["list_every"],
                ),
                listing.Choice(
                    "state",
                    words["list_state"],
                    [
                        ("held", words["list_mn_held"]),
                        ("due", words["list_mn_due"]),
                        ("deleted", words["deleted"]),
                    ],
                    words["list_every"],
                ),
            ],
            anchor="entries",
        ),
        deletions=mn.deletions(session),
        outputs=sorted(mn.OUTPUTS),
        blocks=controls.by_block(),
        today=today,
    )


@router.get("/outputs/{form}")
def output(form: str, year: int, session: DbSession, ws: CurrentWorkspace, who: Staff) -> Response:
    check(who, "mynumber")
    data = mn.statutory_output(session, ws, form, year, actor=f"staff:{who.login}", now=datetime.now(UTC))
    return download(data, f"{form}-{year}.csv", "text/csv; charset=utf-8")
