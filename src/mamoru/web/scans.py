"""Console page for discovery: the last scans, their ledger gaps, and a button to scan the file shares."""

from __future__ import annotations

import re
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from mamoru.edge import CurrentWorkspace, DbSession
from mamoru.errors import MamoruError
from mamoru.policy.notice import Lang
from mamoru.scan import service, shares
from mamoru.scan.recognizers import LABELS
from mamoru.web import listing
from mamoru.web.console import Staff, check, console_page
from mamoru.web.i18n import choose_lang, labels
from mamoru.work.queue import submit

router = APIRouter(prefix="/console/scans", include_in_schema=False)
Language = Annotated[Lang, Depends(choose_lang)]


_HEADER_SHAPE = re.compile(r"([a-z_]+) shape under its header")
_QUOTED = re.compile(r"^(context|negative) word '(.*)'$")


def _explained(text: str, words: dict[str, str]) -> str:
    """A recognizer's explanation (``ten digits; validated; context word '電話'``, kept in English in the
    report) in the page's words: the pattern's name, then the check and the words around it."""
    said = []
    for part in text.split("; "):
        quoted = _QUOTED.match(part)
        shape = _HEADER_SHAPE.fullmatch(part)
        if part == "validated":
            said.append(words["scan_explain_validated"])
        elif quoted:
            said.append(words[f"scan_explain_{quoted.group(1)}"].format(word=quoted.group(2)))
        elif shape:
            kind = words.get(f"scan_entity_{shape.group(1)}", shape.group(1))
            said.append(words["scan_explain_header_shape"].format(kind=kind))
        else:
            said.append(words.get("scan_pattern_" + _slug(part), part))
    return words["scan_explain_sep"].join(said)


def _slug(name: str) -> str:
    """The catalog key of a pattern's name (``fixed line, hyphenated`` → ``fixed_line_hyphenated``)."""
    return re.sub(r"[^a-z0-9]+", "_", name.lower()).strip("_")


@router.get("", response_class=HTMLResponse)
def scans(
    request: Request,
    ws: CurrentWorkspace,
    session: DbSession,
    lang: Language,
    who: Staff,
    error: str = "",
    marked: bool = False,
) -> HTMLResponse:
    check(who, "scans")
    words = labels(lang)
    asked = listing.asked(request, service.RUNS)
    found = service.run_page(session, asked)
    runs = found.items
    reports: dict[int, dict[str, Any]] = {}
    for run in runs[:5]:
        try:
            reports[run.id] = service.report_of(ws, run)
        except MamoruError:
            reports[run.id] = {"locations": [], "gaps": [], "sealed": "erased"}
    try:
        share_list = shares.load_shares(service.shares_file(ws), ws.settings.home)
    except MamoruError as exc:
        share_list, error = [], error or str(exc)
    return console_page(
        request,
        ws,
        lang,
        who,
        "console_scans.html.j2",
        labels(lang)["scans"],
        runs=runs,
        table=listing.listing(
            request,
            "/console/scans",
            service.RUNS,
            asked,
            found,
            lang,
            choices=[
                listing.Choice(
                    "target",
                    words["scan_target"],
                    [("files", words["list_scan_files"]), ("database", words["list_scan_database"])],
                    words["list_every"],
                ),
                listing.Choice(
                    "gaps",
                    words["scan_gaps"],
                    [("yes", words["list_with_gaps"]), ("no", words["list_without_gaps"])],
                    words["list_every"],
                ),
            ],
            keep_extra={"marked": "true" if marked else ""},
        ),
        reports=reports,
        shares=share_list,
        entity_labels={e: words.get(f"scan_entity_{e}", e) for e in LABELS},
        explained=lambda text: _explained(text, words),
        error=error,
        marked=marked,
    )


@router.post("/run")
def run_now(
    ws: CurrentWorkspace, lang: Language, who: Staff, csrf: Annotated[str, Form(max_length=100)]
) -> Response:
    """Scan every file share of file-shares.yaml: on the work queue when there is a broker, here when not."""
    check(who, "scans.run", csrf)
    try:
        if not [s for s in shares.load_shares(service.shares_file(ws), ws.settings.home) if s.path.exists()]:
            return RedirectResponse(f"/console/scans?lang={lang}&error=no_shares", status_code=303)
        submit(ws, "scan.shares", actor=f"staff:{who.login}")
    except MamoruError as exc:
        return RedirectResponse(f"/console/scans?lang={lang}&error={type(exc).__name__}", status_code=303)
    return RedirectResponse(f"/console/scans?lang={lang}", status_code=303)


@router.post("/not-personal")
def not_personal(
    session: DbSession,
    lang: Language,
    who: Staff,
    csrf: Annotated[str, Form(max_length=100)],
    fingerprint: Annotated[str, Form(max_length=64)],
    entity: Annotated[str, Form(max_length=32)],
    reason: Annotated[str, Form(max_length=400)],
    run: Annotated[int | None, Form()] = None,
) -> Response:
    """The office marks one finding "not personal": remembered for the next scan, audited."""
    check(who, "scans.run", csrf)
    try:
        service.mark_not_personal(
            session,
            fingerprint=fingerprint,
            entity=entity,
            reason=reason,
            actor=f"staff:{who.login}",
            run_id=run,
        )
    except MamoruError as exc:
        return RedirectResponse(f"/console/scans?lang={lang}&error={type(exc).__name__}", status_code=303)
    return RedirectResponse(f"/console/scans?lang={lang}&marked=1", status_code=303)
